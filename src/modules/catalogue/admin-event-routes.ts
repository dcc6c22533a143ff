import {
  createRouter,
  errorResponses,
  idParam,
  jsonBody,
  jsonResponse,
  text,
  updateBody,
  z,
} from "../../lib/openapi";
import { adminRoute } from "../../middleware/admin-route";
import { EventSchema } from "./schemas";

const eventParams = z.object({ event_id: idParam("event_id") });

const EventInput = z
  .object({
    title: text().trim().min(1).max(200),
    description: text().max(5000).nullable().optional(),
  })
  .strict();

const createEvent = adminRoute({
  method: "post",
  path: "/",
  operationId: "createEvent",
  summary: "Create an event",
  request: { body: jsonBody(EventInput) },
  responses: {
    201: jsonResponse(z.object({ event: EventSchema }), "Created"),
  },
});

const updateEvent = adminRoute({
  method: "put",
  path: "/{event_id}",
  operationId: "updateEvent",
  summary: "Update an event (fields sent are replaced)",
  request: { params: eventParams, body: jsonBody(updateBody(EventInput)) },
  responses: {
    200: jsonResponse(z.object({ event: EventSchema }), "Updated"),
    ...errorResponses("NOT_FOUND"),
  },
});

const deleteEvent = adminRoute({
  method: "delete",
  path: "/{event_id}",
  operationId: "deleteEvent",
  summary: "Delete an event and its shows",
  description:
    "Refused with 409 while one of its shows has PENDING or CONFIRMED bookings. The event and its shows are marked deleted as `DELETE /admin/shows/{show_id}` does it: out of the catalog and 404 from then on (admin update and a second DELETE too), kept with their bookings, payments and refunds for the buyers' history and the analytics. A new event may take the same title.",
  request: { params: eventParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses("NOT_FOUND", "CONFLICT") },
});

export const adminEventRoutes = createRouter()
  .openapi(createEvent, async (c) =>
    c.json({ event: await c.get("services").admin.createEvent(c.req.valid("json")) }, 201),
  )
  .openapi(updateEvent, async (c) => {
    const input = c.req.valid("json");
    const event = await c.get("services").admin.updateEvent(c.req.valid("param").event_id, input);
    return c.json({ event }, 200);
  })
  .openapi(deleteEvent, async (c) => {
    await c.get("services").admin.deleteEvent(c.req.valid("param").event_id);
    return c.body(null, 204);
  });

import { createRoute } from "@hono/zod-openapi";
import {
  createRouter,
  errorResponses,
  idParam,
  jsonResponse,
  paginationEnvelope,
  paginationQuery,
  z,
} from "../../lib/openapi";
import { EventSchema, ShowSchema } from "./schemas";

const EventWithShowsSchema = EventSchema.extend({ shows: z.array(ShowSchema) }).openapi(
  "EventWithShows",
);

const listEvents = createRoute({
  method: "get",
  path: "/",
  operationId: "listEvents",
  tags: ["Catalogue"],
  summary: "Events with their upcoming shows",
  request: { query: paginationQuery },
  responses: {
    200: jsonResponse(
      z.object({ events: z.array(EventWithShowsSchema), ...paginationEnvelope }),
      "A page of events",
    ),
  },
});

const getEvent = createRoute({
  method: "get",
  path: "/{event_id}",
  operationId: "getEvent",
  tags: ["Catalogue"],
  summary: "One event with its upcoming shows",
  request: { params: z.object({ event_id: idParam("event_id") }) },
  responses: {
    200: jsonResponse(z.object({ event: EventWithShowsSchema }), "The event"),
    ...errorResponses("NOT_FOUND"),
  },
});

export const eventRoutes = createRouter()
  .openapi(listEvents, async (c) =>
    c.json(await c.get("services").catalog.listEvents(c.req.valid("query")), 200),
  )
  .openapi(getEvent, async (c) => {
    const event = await c.get("services").catalog.getEvent(c.req.valid("param").event_id);
    return c.json({ event }, 200);
  });

import { hasAtMostTwoDecimals, MAX_PRICE } from "../../lib/money";
import {
  createRouter,
  errorResponses,
  idParam,
  jsonBody,
  jsonResponse,
  timestampInput,
  updateBody,
  z,
} from "../../lib/openapi";
import { bodyId } from "../../lib/shapes";
import { adminRoute } from "../../middleware/admin-route";
import { ShowSchema } from "./schemas";

const showParams = z.object({ show_id: idParam("show_id") });

const price = z
  .number()
  .min(0)
  .max(MAX_PRICE)
  .refine(hasAtMostTwoDecimals, "must have at most two decimals")
  .openapi({ example: 49.5 });

const ShowInput = z
  .object({
    event_id: bodyId(),
    venue_id: bodyId(),
    start_time: timestampInput,
    end_time: timestampInput,
    sales_open_at: timestampInput.nullable().optional(),
    price,
  })
  .strict();

const createShow = adminRoute({
  method: "post",
  path: "/",
  operationId: "createShow",
  summary: "Schedule a show",
  description:
    "Creates the show and one show_seats row per seat of the venue in one statement. Unknown `event_id`/`venue_id` → 404.",
  request: { body: jsonBody(ShowInput) },
  responses: {
    201: jsonResponse(z.object({ show: ShowSchema }), "Created"),
    ...errorResponses("NOT_FOUND"),
  },
});

const updateShow = adminRoute({
  method: "put",
  path: "/{show_id}",
  operationId: "updateShow",
  summary: "Update a show (fields sent are replaced)",
  description:
    "A new price applies to holds made from now on. Moving to another venue is refused (409) once the show has bookings.",
  request: { params: showParams, body: jsonBody(updateBody(ShowInput)) },
  responses: {
    200: jsonResponse(z.object({ show: ShowSchema }), "Updated"),
    ...errorResponses("NOT_FOUND", "CONFLICT"),
  },
});

const deleteShow = adminRoute({
  method: "delete",
  path: "/{show_id}",
  operationId: "deleteShow",
  summary: "Delete a show",
  description:
    "With PENDING or CONFIRMED bookings → 409, unless `?force=true`, which cancels (and refunds) them first (also for a show that has already started: its CONFIRMED bookings count as active). The show is marked deleted, not erased: it leaves browsing, search and events (404 from then on: no reads, seat map, holds, waitlist or admin changes; its waiting room answers 404 once the few seconds its times are cached have passed, and its line lapses), its seats are no longer for sale, its waitlist closes (entries EXPIRED, no offers), and its bookings, payments and refunds stay in its buyers' history (the show with `deleted: true`) and the analytics.",
  request: {
    params: showParams,
    query: z.object({ force: z.enum(["true", "false"]).optional() }),
  },
  responses: { 204: { description: "Deleted" }, ...errorResponses("NOT_FOUND", "CONFLICT") },
});

export const adminShowRoutes = createRouter()
  .openapi(createShow, async (c) =>
    c.json({ show: await c.get("services").admin.createShow(c.req.valid("json")) }, 201),
  )
  .openapi(updateShow, async (c) => {
    const input = c.req.valid("json");
    const show = await c.get("services").admin.updateShow(c.req.valid("param").show_id, input);
    return c.json({ show }, 200);
  })
  .openapi(deleteShow, async (c) => {
    const force = c.req.valid("query").force === "true";
    await c.get("services").admin.deleteShow(c.req.valid("param").show_id, force, c.get("user"));
    return c.body(null, 204);
  });

import {
  createRouter,
  errorResponses,
  idParam,
  jsonBody,
  jsonResponse,
  paginationEnvelope,
  paginationQuery,
  updateBody,
  z,
} from "../../lib/openapi";
import { bodyId, text } from "../../lib/shapes";
import { adminRoute } from "../../middleware/admin-route";
import {
  EventInputSchema as EventInput,
  EventSchema,
  SeatSchema,
  ShowInputSchema as ShowInput,
  ShowSchema,
  VenueInputSchema as VenueInput,
  VenueSchema,
} from "./schemas";

const venueParams = z.object({ venue_id: idParam("venue_id") });
const seatRow = text().trim().min(1).max(10).openapi({ example: "A" });
const MAX_SEATS_PER_CALL = 10_000;

const SeatLayoutInput = z
  .object({
    rows: z
      .array(
        z
          .object({
            seat_row: seatRow,
            count: z.number().int().min(1).max(1000),
            start_number: z.number().int().min(1).max(100_000).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(200)
      .optional(),
    seats: z
      .array(
        z
          .object({
            seat_row: seatRow,
            seat_number: z.number().int().min(1).max(100_000),
            rank: z.number().int().min(1).max(1_000_000).optional().openapi({
              description:
                "Order of preference for best-available holds, lower is better (seats without one come after ranked seats, front rows first, nearest the row's centre)",
            }),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_SEATS_PER_CALL)
      .optional(),
  })
  .strict()
  .refine((body) => (body.rows === undefined) !== (body.seats === undefined), {
    message: "Send either rows or seats",
  })
  .superRefine(({ rows = [] }, context) => {
    const added = rows.reduce((sum, row) => sum + row.count, 0);
    if (added > MAX_SEATS_PER_CALL) {
      context.addIssue({
        code: "custom",
        path: ["rows"],
        message: `At most ${MAX_SEATS_PER_CALL} seats a call: these rows add ${added}`,
      });
    }
  });

const VenueDetailSchema = VenueSchema.extend({
  total_seats: z.number().int(),
  seats: z.array(SeatSchema),
});

const listVenues = adminRoute({
  method: "get",
  path: "/",
  operationId: "listVenues",
  summary: "Venues, a page at a time",
  description:
    "Oldest first (by `venue_id`), so a venue created while paging lands on the last page instead of shifting the others.",
  request: { query: paginationQuery },
  responses: {
    200: jsonResponse(
      z.object({ venues: z.array(VenueSchema), ...paginationEnvelope }),
      "A page of venues",
    ),
  },
});

const getVenue = adminRoute({
  method: "get",
  path: "/{venue_id}",
  operationId: "getVenue",
  summary: "A venue with its seat layout",
  request: { params: venueParams },
  responses: {
    200: jsonResponse(z.object({ venue: VenueDetailSchema }), "The venue"),
    ...errorResponses("NOT_FOUND"),
  },
});

const createVenue = adminRoute({
  method: "post",
  path: "/",
  operationId: "createVenue",
  summary: "Create a venue",
  request: { body: jsonBody(VenueInput) },
  responses: {
    201: jsonResponse(z.object({ venue: VenueSchema }), "Created"),
  },
});

const updateVenue = adminRoute({
  method: "put",
  path: "/{venue_id}",
  operationId: "updateVenue",
  summary: "Update a venue (fields sent are replaced)",
  request: { params: venueParams, body: jsonBody(updateBody(VenueInput)) },
  responses: {
    200: jsonResponse(z.object({ venue: VenueSchema }), "Updated"),
    ...errorResponses("NOT_FOUND"),
  },
});

const deleteVenue = adminRoute({
  method: "delete",
  path: "/{venue_id}",
  operationId: "deleteVenue",
  summary: "Delete a venue without shows",
  description:
    "409 while the venue has shows that are not deleted. The venue is marked deleted, not erased: 404 from then on on every admin route (a second DELETE too), no new shows, while its deleted shows and their bookings keep pointing at it. A new venue may take the same name.",
  request: { params: venueParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses("NOT_FOUND", "CONFLICT") },
});

const addSeats = adminRoute({
  method: "post",
  path: "/{venue_id}/seats",
  operationId: "addSeats",
  summary: "Add seats to the layout",
  description: `Either \`rows\` (\`{seat_row:"A", count:20}\` makes A1..A20, or from \`start_number\`) or explicit \`seats\` (each with an optional \`rank\`: the order best-available holds prefer, lower first); at most ${MAX_SEATS_PER_CALL} seats a call. A seat that already exists makes the whole call 409. New seats are added to the venue's existing shows too.`,
  request: { params: venueParams, body: jsonBody(SeatLayoutInput) },
  responses: {
    201: jsonResponse(
      z.object({
        venue_id: z.number().int(),
        created: z.number().int(),
        seats: z.array(SeatSchema),
      }),
      "Seats created",
    ),
    ...errorResponses("NOT_FOUND", "CONFLICT"),
  },
});

const deleteSeats = adminRoute({
  method: "delete",
  path: "/{venue_id}/seats",
  operationId: "removeSeats",
  summary: "Remove seats from the layout",
  description:
    "204 like every admin delete. Refused with 409 while a PENDING or CONFIRMED booking holds one of them; ids that are not seats of this venue (or were removed already) → 400 with `details.invalid_seats`. The seats leave the layout and every show of the venue but are marked removed, not erased: bookings made for them keep naming them, and the same row and number can be laid out again as a new seat.",
  request: {
    params: venueParams,
    body: jsonBody(
      z.object({ seat_ids: z.array(bodyId()).min(1).max(MAX_SEATS_PER_CALL) }).strict(),
    ),
  },
  responses: {
    204: { description: "Deleted" },
    ...errorResponses("NOT_FOUND", "CONFLICT"),
  },
});

export const adminVenueRoutes = createRouter()
  .openapi(listVenues, async (c) =>
    c.json(await c.get("services").admin.listVenues(c.req.valid("query")), 200),
  )
  .openapi(getVenue, async (c) =>
    c.json({ venue: await c.get("services").admin.getVenue(c.req.valid("param").venue_id) }, 200),
  )
  .openapi(createVenue, async (c) =>
    c.json({ venue: await c.get("services").admin.createVenue(c.req.valid("json")) }, 201),
  )
  .openapi(updateVenue, async (c) => {
    const input = c.req.valid("json");
    const venue = await c.get("services").admin.updateVenue(c.req.valid("param").venue_id, input);
    return c.json({ venue }, 200);
  })
  .openapi(deleteVenue, async (c) => {
    await c.get("services").admin.deleteVenue(c.req.valid("param").venue_id);
    return c.body(null, 204);
  })
  .openapi(addSeats, async (c) => {
    const venueId = c.req.valid("param").venue_id;
    const body = c.req.valid("json");
    const layout = body.rows ? { rows: body.rows } : { seats: body.seats ?? [] };
    return c.json(await c.get("services").admin.addSeats(venueId, layout), 201);
  })
  .openapi(deleteSeats, async (c) => {
    const { venue_id } = c.req.valid("param");
    const { seat_ids } = c.req.valid("json");
    await c.get("services").admin.deleteSeats(venue_id, [...new Set(seat_ids)]);
    return c.body(null, 204);
  });

const eventParams = z.object({ event_id: idParam("event_id") });

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

const showParams = z.object({ show_id: idParam("show_id") });

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

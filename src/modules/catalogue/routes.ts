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
import { text, timestampInput } from "../../lib/shapes";
import { EventSchema, ShowSchema } from "./schemas";

const showIdParams = z.object({ show_id: idParam("show_id") });

const ShowPageSchema = z.object({ shows: z.array(ShowSchema), ...paginationEnvelope });

const listShows = createRoute({
  method: "get",
  path: "/",
  operationId: "listShows",
  tags: ["Catalogue"],
  summary: "Upcoming shows, soonest first",
  request: { query: paginationQuery },
  responses: { 200: jsonResponse(ShowPageSchema, "A page of shows") },
});

const searchShows = createRoute({
  method: "get",
  path: "/search",
  operationId: "searchShows",
  tags: ["Catalogue"],
  summary: "Search upcoming shows",
  description:
    "`event` and `venue` are case-insensitive literal substring matches (`%` and `_` match themselves). `from`/`to` bound the start time (inclusive). `availability=available` keeps shows with free seats. Paginated like `/shows`.",
  request: {
    query: paginationQuery.extend({
      event: text().trim().min(1).max(200).optional(),
      venue: text().trim().min(1).max(200).optional(),
      from: timestampInput.optional(),
      to: timestampInput.optional(),
      availability: z.enum(["available"]).optional(),
    }),
  },
  responses: { 200: jsonResponse(ShowPageSchema, "Matching shows") },
});

const getShow = createRoute({
  method: "get",
  path: "/{show_id}",
  operationId: "getShow",
  tags: ["Catalogue"],
  summary: "One show with its availability",
  description:
    "Catalogue reads (this, `/shows`, `/shows/search`, `/events`) may be served by a read replica: `available_seats` can trail a hold made a moment ago by up to a few seconds. The seat map (`/shows/{show_id}/seats`) is always current.",
  request: { params: showIdParams },
  responses: {
    200: jsonResponse(z.object({ show: ShowSchema }), "The show"),
    ...errorResponses("NOT_FOUND"),
  },
});

export const showRoutes = createRouter()
  .openapi(listShows, async (c) =>
    c.json(await c.get("services").catalog.listUpcoming(c.req.valid("query")), 200),
  )
  .openapi(searchShows, async (c) =>
    c.json(await c.get("services").catalog.search(c.req.valid("query")), 200),
  )
  .openapi(getShow, async (c) => {
    const show = await c.get("services").catalog.getShow(c.req.valid("param").show_id);
    return c.json({ show }, 200);
  });

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

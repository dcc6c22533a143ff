import { createRoute } from "@hono/zod-openapi";
import {
  createRouter,
  errorResponses,
  idParam,
  jsonResponse,
  paginationEnvelope,
  paginationQuery,
  text,
  timestampInput,
  z,
} from "../../lib/openapi";
import { MapSeatSchema, ShowSchema } from "./schemas";

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

const SEAT_MAP_HEADERS = {
  ETag: { description: "The map's version; send it in If-None-Match", schema: { type: "string" } },
  "Cache-Control": {
    description: "`no-cache`: keep the map but revalidate it",
    schema: { type: "string" },
  },
} as const;

const seatMap = createRoute({
  method: "get",
  path: "/{show_id}/seats",
  operationId: "getSeatMap",
  tags: ["Catalogue"],
  summary: "The show's seat map",
  description:
    "Every seat of the venue with its status for this show. A seat whose hold has expired shows as `AVAILABLE` even before the cleanup job runs. Carries an `ETag`; send it back in `If-None-Match` to get `304 Not Modified` while the map is unchanged. 503 `UNAVAILABLE` (with `Retry-After`) while the database is down, or while an admin is changing the venue's seat layout faster than the map can be read.",
  request: {
    params: showIdParams,
    headers: z.object({
      "if-none-match": z
        .string()
        .optional()
        .openapi({
          param: { name: "if-none-match", in: "header" },
          description: "The `ETag` of a map the client holds: unchanged → 304, no body",
        }),
    }),
  },
  responses: {
    200: {
      ...jsonResponse(
        z.object({ show_id: z.number().int(), seats: z.array(MapSeatSchema) }),
        "The seat map",
      ),
      headers: SEAT_MAP_HEADERS,
    },
    304: {
      description: "Unchanged since the ETag sent in If-None-Match",
      headers: SEAT_MAP_HEADERS,
    },
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
  })
  .openapi(seatMap, async (c) => {
    const map = await c.get("services").seatMap.get(c.req.valid("param").show_id);
    // no-cache: clients may keep the map but must revalidate; unchanged maps cost a 304.
    const headers = { ETag: map.etag, "Cache-Control": "no-cache" };
    if (c.req.header("If-None-Match") === map.etag) return c.body(null, 304, headers);
    // The body is already serialised JSON: sent as is rather than parsed and stringified again.
    return new Response(map.body, {
      status: 200,
      headers: { ...headers, "Content-Type": "application/json" },
    });
  });

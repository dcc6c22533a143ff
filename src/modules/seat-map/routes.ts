import { createRoute } from "@hono/zod-openapi";
import { type SSEMessage, streamSSE } from "hono/streaming";
import { AppError } from "../../lib/errors";
import { createRouter, errorResponses, idParam, jsonResponse, z } from "../../lib/openapi";
import { callerKey } from "../../middleware/client-identity";
import { MapSeatSchema } from "../catalogue/schemas";
import { RETRY_STREAM_AFTER_SECONDS } from "./streams";

/** EventSource waits this long before reconnecting after the stream ends. */
const RECONNECT_MS = 3000;

/** The map's version headers, on the answer and on the 304. */
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
    params: z.object({ show_id: idParam("show_id") }),
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

const seatStream = createRoute({
  method: "get",
  path: "/{show_id}/seats/stream",
  operationId: "streamSeatMap",
  tags: ["Catalogue"],
  summary: "Live seat map (Server-Sent Events)",
  description: [
    "A `text/event-stream` that keeps a seat map current without polling, across every API instance. Events:",
    "",
    '- `seats` — first, the full map: exactly the body of `GET /api/v1/shows/{show_id}/seats` (`{"show_id", "seats":[{"seat_id", "seat_row", "seat_number", "status"}]}`). Sent again whenever the stream has to resynchronise (the venue\'s layout changed, the server lost its subscription, or the client read too slowly); replace the whole map when it arrives.',
    '- `change` — then one per committed change, in order: `{"seat_ids":[…], "status":"LOCKED"|"BOOKED"|"AVAILABLE"}`: the listed seats now have that status (holds, confirmations, cancellations, and holds that ran out, usually within a second). A change may repeat what the map already shows; applying it again is harmless. Changes are published by the requests that made them, so two changes of one seat made back to back can arrive out of order; within about a quarter of a second the server reads such seats back and sends their current status as another `change` where the last event said otherwise (if that read fails it is tried again after a few seconds).',
    '- `heartbeat` — `{"time":"<ISO-8601>"}` after 15 s (configurable) without other events, so proxies keep the connection open and clients can tell a quiet show from a dead connection.',
    '- `reconnect` — `{"message", "retry_after": 5}`, the last event: this server can no longer receive changes (its Redis subscription was lost, or Redis stopped answering, and neither came back within 3 s), so the stream ends rather than go quietly stale. Wait `retry_after` seconds and open the stream again; meanwhile new streams are refused with 503. (A subscription back within those 3 s only sends a fresh `seats`.)',
    "",
    "Unknown show → 404 before the stream opens. One client holds at most `SEAT_STREAM_MAX_PER_CLIENT` streams (4 by default) open at once, whatever their shows: a user when the request carries a validly signed token, else one client IP; one more is answered 429 `RATE_LIMITED` with `Retry-After` and `details.max_streams`. The count is kept per API instance, so behind several instances a client may hold that many on each. Each instance serves a bounded number of streams; past it, or while changes cannot reach this instance (Redis unreachable or not answering: a stream would get its snapshot and heartbeats but no changes), the answer is 503 `UNAVAILABLE` with `Retry-After`. A client that stops reading is disconnected, freeing its slot, once the server could not hand it an event for `SEAT_STREAM_WRITE_TIMEOUT_SECONDS` (30 by default; its connection's buffers are full). The first event carries `retry: 3000`; a reconnecting client gets a fresh `seats` snapshot (events carry no ids and there is no replay).",
  ].join("\n"),
  request: { params: z.object({ show_id: idParam("show_id") }) },
  responses: {
    200: {
      description: "The event stream: `seats`, then `change` events and heartbeats",
      content: {
        "text/event-stream": {
          schema: z.string().openapi({
            example:
              'event: seats\ndata: {"show_id":7,"seats":[{"seat_id":1,"seat_row":"A","seat_number":1,"status":"AVAILABLE"}]}\nretry: 3000\n\nevent: change\ndata: {"seat_ids":[1],"status":"LOCKED"}\n\nevent: heartbeat\ndata: {"time":"2026-12-01T19:30:00.000Z"}\n\n',
          }),
        },
      },
    },
    ...errorResponses("NOT_FOUND"),
  },
});

/** Bun's server, as Hono hands it to handlers in `c.env`: lets one request outlive idleTimeout. */
interface BunServerLike {
  timeout?: (request: Request, seconds: number) => void;
}

/** The client took no event within writeTimeoutMs. */
class ClientStalled extends Error {}

export const seatMapRoutes = createRouter()
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
  })
  .openapi(seatStream, async (c) => {
    const showId = c.req.valid("param").show_id;
    const { seatStreams } = c.get("services");
    const logger = c.get("logger");
    const client = await callerKey(c, c.get("callerKeySettings"));
    // 429 over the client's share, 503 over the instance's bound, 404 for an unknown show: all
    // answered before the stream opens.
    const session = await seatStreams.open(showId, client);
    // Bun's idleTimeout (10 s by default, shorter than a heartbeat) must never end a quiet
    // stream. Bun 1.4 does not time out a response that is still streaming; this makes it explicit.
    (c.env as BunServerLike | undefined)?.timeout?.(c.req.raw, 0);
    c.header("X-Accel-Buffering", "no");
    const end = () => session.close();
    c.req.raw.signal.addEventListener("abort", end, { once: true });
    return streamSSE(c, async (stream) => {
      stream.onAbort(end);
      /** One event at a time, in order; a client that stops reading is dropped. */
      const send = async (message: SSEMessage) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const stalled = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new ClientStalled()),
            seatStreams.settings.writeTimeoutMs,
          );
        });
        try {
          await Promise.race([stream.writeSSE(message), stalled]);
        } finally {
          clearTimeout(timer);
        }
      };
      try {
        await send({ event: "seats", data: session.snapshot, retry: RECONNECT_MS });
        for (;;) {
          const item = await session.next();
          if (!item || stream.aborted || stream.closed) break;
          if (item.type === "change") {
            await send({
              event: "change",
              data: JSON.stringify({ seat_ids: item.seatIds, status: item.status }),
            });
          } else if (item.type === "heartbeat") {
            await send({
              event: "heartbeat",
              data: JSON.stringify({ time: new Date().toISOString() }),
            });
          } else if (item.type === "reconnect") {
            await send({
              event: "reconnect",
              data: JSON.stringify({
                message: "Live seat updates are interrupted; reconnect shortly",
                retry_after: RETRY_STREAM_AFTER_SECONDS,
              }),
            });
            break;
          } else {
            await send({ event: "seats", data: await seatStreams.snapshot(showId) });
          }
        }
      } catch (error) {
        if (error instanceof ClientStalled) {
          logger.info("dropped a live seat map client that stopped reading", { show_id: showId });
          // Cancels the body: the pending write fails and the response ends.
          stream.abort();
        } else if (!(error instanceof AppError && error.code === "NOT_FOUND")) {
          // The database failed (a deleted show just ends the stream): a reconnecting client
          // gets a fresh snapshot, or the 404.
          logger.warn("live seat map stream ended by an error", {
            show_id: showId,
            error: String(error),
          });
        }
      } finally {
        session.close();
        c.req.raw.signal.removeEventListener("abort", end);
      }
    });
  });

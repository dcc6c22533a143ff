import { createRoute } from "@hono/zod-openapi";
import {
  createRouter,
  errorResponses,
  idParam,
  jsonResponse,
  optionalJsonBody,
  paginationEnvelope,
  paginationQuery,
  z,
} from "../../lib/openapi";
import { requireUser } from "../../middleware/auth";
import { NotificationSchema, seatsWanted, WaitlistEntrySchema } from "./schemas";

/** The contract's join has no body: a bare join waits for one seat. */
const DEFAULT_SEATS_WANTED = 1;

const showIdParams = z.object({ show_id: idParam("show_id") });

const join = createRoute({
  tags: ["Waitlist"],
  security: [{ bearerAuth: [] }],
  middleware: [requireUser] as const,
  method: "post",
  path: "/{show_id}/waitlist",
  operationId: "joinWaitlist",
  summary: "Join the waitlist of a sold-out show",
  description:
    "The body is optional: `{seats_wanted}` (1–10) defaults to 1, so a bare POST joins for one seat. Seats freed by a cancellation or expiry while anyone waits are kept for the line (the seat map shows them LOCKED; no general hold can take them) and offered FIFO: once the line is owed as many seats as the first in line wants, it gets a PENDING booking on exactly those seats (lasting WAITLIST_OFFER_TTL_SECONDS) and a WAITLIST_OFFER notification. An offer is made only of seats freed for the line, never of seats on open sale. An offer that lapses or is cancelled passes its seats to the next in line; when nobody waits any more, owed seats go back on open sale. An offer never takes its user past MAX_SEATS_PER_USER_PER_SHOW: an entry that no longer fits is closed (EXPIRED) with a WAITLIST_SEAT_LIMIT notification. Idempotent: an active entry of the caller is returned with 200. Joining passes the show's waiting room like a hold (queued → 429 `WAITING_ROOM` with `details.position`). Only a show whose free seats are fewer than `seats_wanted` can be joined, else 409 `NOT_SOLD_OUT` (`details.free_seats`); wanting more seats than the caller may still hold for the show → 409 `SEAT_LIMIT` (`details.remaining`, `details.limit`); unknown show → 404; started show → 400 `SHOW_STARTED`.",
  request: {
    params: showIdParams,
    body: optionalJsonBody(z.object({ seats_wanted: seatsWanted().optional() })),
  },
  responses: {
    201: jsonResponse(z.object({ entry: WaitlistEntrySchema }), "Joined"),
    200: jsonResponse(z.object({ entry: WaitlistEntrySchema }), "Already on the waitlist"),
    ...errorResponses("NOT_FOUND", "SHOW_STARTED", "SEAT_LIMIT", "NOT_SOLD_OUT"),
  },
});

const leave = createRoute({
  tags: ["Waitlist"],
  security: [{ bearerAuth: [] }],
  middleware: [requireUser] as const,
  method: "delete",
  path: "/{show_id}/waitlist",
  operationId: "leaveWaitlist",
  summary: "Leave the waitlist of a show",
  description:
    "Only a WAITING entry can be left; not waiting (also: already offered seats — cancel that booking instead) → 404. Seats the line was owed go to the next in line, or back on open sale when nobody waits any more.",
  request: { params: showIdParams },
  responses: {
    204: { description: "Left the waitlist" },
    ...errorResponses("NOT_FOUND"),
  },
});

const listNotifications = createRoute({
  tags: ["Notifications"],
  security: [{ bearerAuth: [] }],
  middleware: [requireUser] as const,
  method: "get",
  path: "/notifications",
  operationId: "listNotifications",
  summary: "The caller's notifications, newest first",
  request: { query: paginationQuery },
  responses: {
    200: jsonResponse(
      z.object({ notifications: z.array(NotificationSchema), ...paginationEnvelope }),
      "A page of notifications",
    ),
  },
});

/** Mounted under /api/v1/shows. */
export const waitlistRoutes = createRouter()
  .openapi(join, async (c) => {
    const { entry, created } = await c
      .get("services")
      .waitlist.join(
        c.get("user").user_id,
        c.req.valid("param").show_id,
        c.req.valid("json").seats_wanted ?? DEFAULT_SEATS_WANTED,
      );
    return created ? c.json({ entry }, 201) : c.json({ entry }, 200);
  })
  .openapi(leave, async (c) => {
    await c.get("services").waitlist.leave(c.get("user").user_id, c.req.valid("param").show_id);
    return c.body(null, 204);
  });

/** Mounted under /api/v1/user. */
export const notificationRoutes = createRouter().openapi(listNotifications, async (c) => {
  const { page, limit } = c.req.valid("query");
  return c.json(
    await c.get("services").waitlist.notifications(c.get("user").user_id, page, limit),
    200,
  );
});

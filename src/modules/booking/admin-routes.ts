import { MAX_ID } from "../../lib/ids";
import {
  createRouter,
  errorResponses,
  idParam,
  jsonResponse,
  paginationEnvelope,
  paginationQuery,
  z,
} from "../../lib/openapi";
import { adminRoute } from "../../middleware/admin-route";
import { AuditedLogEntrySchema, BookingSchema, BookingStatusSchema } from "./schemas";

/** An id in the query string: a plain positive integer below 2^31, or a 400. */
const queryId = (name: string) =>
  z
    .string()
    .regex(/^\d{1,10}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_ID))
    .optional()
    .openapi({ param: { name, in: "query" }, type: "integer", example: 1 });

const listBookings = adminRoute({
  method: "get",
  path: "/",
  operationId: "listAllBookings",
  summary: "All bookings, newest first",
  description:
    "Every user's bookings with their show (event and venue) and seats, filtered by `show_id`, `user_id` and `status` (all optional, combined with AND). A hold that ran out reads as EXPIRED, and `status=EXPIRED` finds it, even before the cleanup job has marked it. Same Booking shape as `/api/v1/user/bookings`.",
  request: {
    query: paginationQuery.extend({
      show_id: queryId("show_id"),
      user_id: queryId("user_id"),
      status: BookingStatusSchema.optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ bookings: z.array(BookingSchema), ...paginationEnvelope }),
      "A page of bookings",
    ),
  },
});

const bookingLog = adminRoute({
  method: "get",
  path: "/{booking_id}/log",
  operationId: "getBookingLog",
  summary: "A booking's log: every change, who made it, in which request",
  description:
    "Every state change of the booking, oldest first: HELD, OFFERED, PAID, PAYMENT_DECLINED, CONFIRMED, CANCELLED, EXPIRED, REFUNDED, each with its time, actor (null for the system), the X-Request-Id of the request that caused it and its details (amounts and transaction ids for money). Entries are written in the same transaction as the change and are append-only: the database refuses to change or delete them. Read from the primary: a change just answered is in it. Unknown booking → 404.",
  request: { params: z.object({ booking_id: idParam("booking_id") }) },
  responses: {
    200: jsonResponse(
      z.object({ booking_id: z.number().int(), log: z.array(AuditedLogEntrySchema) }),
      "The booking's log",
    ),
    ...errorResponses("NOT_FOUND"),
  },
});

export const adminBookingRoutes = createRouter()
  .openapi(listBookings, async (c) => {
    const { show_id, user_id, status, page, limit } = c.req.valid("query");
    const result = await c
      .get("services")
      .bookingViews.listForAdmin({ showId: show_id, userId: user_id, status, page, limit });
    return c.json(result, 200);
  })
  .openapi(bookingLog, async (c) =>
    c.json(await c.get("services").bookingViews.auditLog(c.req.valid("param").booking_id), 200),
  );

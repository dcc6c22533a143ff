import { createRoute } from "@hono/zod-openapi";
import { badRequest } from "../../lib/errors";
import { hasAtMostTwoDecimals, MAX_PRICE } from "../../lib/money";
import {
  createRouter,
  errorResponses,
  idParam,
  jsonBody,
  jsonResponse,
  optionalJsonBody,
  paginationEnvelope,
  paginationQuery,
  z,
} from "../../lib/openapi";
import { bodyId, timestamp } from "../../lib/shapes";
import { requireUser } from "../../middleware/auth";
import { idempotent } from "../../middleware/idempotency";
import { SeatSchema } from "../catalogue/schemas";
import { BookingSchema, BookingStatusSchema, BookingWithLogSchema } from "./schemas";

const MAX_SEATS_PER_HOLD = 10;
/** No booking costs more: a larger amount can never match one (and would overflow cents). */
const MAX_AMOUNT = MAX_PRICE * MAX_SEATS_PER_HOLD;

const idempotencyHeader = z.object({
  "idempotency-key": z
    .string()
    .optional()
    .openapi({
      param: { name: "idempotency-key", in: "header" },
      description:
        "1–255 printable characters. The first response for (user, key) is stored for 24 h and replayed for retries with the same body; another body, or a retry while the first still runs → 409 `IDEMPOTENCY_KEY_IN_USE`. 409, 429 and 5xx answers are not stored.",
    }),
});

const bookingDocs = { tags: ["Bookings"], security: [{ bearerAuth: [] }] };

const bookingPost = <const R extends Parameters<typeof createRoute>[0]>(route: R) =>
  createRoute({ ...route, ...bookingDocs, middleware: [requireUser, idempotent] as const });

const bookingParams = z.object({ booking_id: idParam("booking_id") });

const lockBody = z
  .object({
    show_id: bodyId(),
    seat_ids: z
      .array(bodyId())
      .min(1)
      .max(MAX_SEATS_PER_HOLD)
      .refine((ids) => new Set(ids).size === ids.length, "must not repeat a seat")
      .optional()
      .openapi({ description: "Exactly these seats (or send `quantity` instead)" }),
    quantity: z
      .number()
      .int()
      .min(1)
      .max(MAX_SEATS_PER_HOLD)
      .optional()
      .openapi({ description: "This many of the best free seats, chosen by the server" }),
    adjacent: z.boolean().optional().openapi({
      description:
        "With `quantity` only: one block of consecutive seat numbers in one row (default true), or any seats",
    }),
  })
  .superRefine((body, context) => {
    if ((body.seat_ids === undefined) === (body.quantity === undefined)) {
      for (const field of ["seat_ids", "quantity"]) {
        context.addIssue({
          code: "custom",
          path: [field],
          message: "send exactly one of seat_ids and quantity",
        });
      }
    }
    if (body.adjacent !== undefined && body.quantity === undefined) {
      context.addIssue({
        code: "custom",
        path: ["adjacent"],
        message: "goes with quantity only",
      });
    }
  });

const lock = bookingPost({
  method: "post",
  path: "/lock",
  operationId: "holdSeats",
  summary: "Hold 1–10 seats for 10 minutes: chosen seats, or the best available (all or nothing)",
  description:
    "Send exactly one of `seat_ids` (these seats) or `quantity` (the server picks); both or neither → 400 `VALIDATION_ERROR`. " +
    "Exact seats: any seat taken → 409 `SEAT_UNAVAILABLE` with `details.failed_seats` (exactly the requested seats that were taken) and nothing is held. Ids that are not seats of the show's venue → 400 with `details.invalid_seats` (a request naming both is refused for its taken seats, 409). " +
    "Best available (`quantity`, `adjacent` default true): the server holds the best free seats, with `adjacent` one block of consecutive `seat_number`s in one `seat_row`. Best is deterministic: by the layout's seat `rank` (lower first; unranked seats after ranked ones), then front rows first (rows in layout order), then nearest the row's centre, then the lower seat number; a block is judged by the sum of its seats' ranks, then of their places in that order. Concurrent best-available requests never wait on each other and never get the same seat; each is answered from the seats free when it picks. Not enough free seats, or no adjacent block that large → 409 `NOT_ENOUGH_SEATS` with `details.available_seats` (free seats now) and `details.largest_block` (the longest run of adjacent free seats), and nothing is held. The answer lists the chosen seats in `locked_seats`. " +
    "Either way, per customer: the seats of the caller's PENDING (not yet lapsed) and CONFIRMED bookings of the show, this hold included, may not exceed MAX_SEATS_PER_USER_PER_SHOW (default 10), else 409 `SEAT_LIMIT` with `details.remaining` (seats the caller may still hold for this show) and `details.limit`, and nothing is held; parallel holds of one caller cannot pass it together, seats freed by a cancel or a lapsed hold count no more, and a replay of an Idempotency-Key is not a second hold. Unknown show → 404; show already started → 400 `SHOW_STARTED`. Behind the show's waiting room: a queued caller gets 429 `WAITING_ROOM` with `details.position` and Retry-After.",
  request: {
    headers: idempotencyHeader,
    body: jsonBody(lockBody),
  },
  responses: {
    200: jsonResponse(
      z.object({
        booking_id: z.number().int(),
        status: z.literal("PENDING"),
        show_id: z.number().int(),
        locked_seats: z.array(SeatSchema),
        amount: z.number(),
        expires_at: timestamp(),
        expires_in: z.number().int().openapi({ description: "Seconds until the hold expires" }),
      }),
      "Seats held",
    ),
    ...errorResponses(
      "NOT_FOUND",
      "SHOW_STARTED",
      "SEAT_UNAVAILABLE",
      "SEAT_LIMIT",
      "NOT_ENOUGH_SEATS",
      "SALES_NOT_OPEN",
      "IDEMPOTENCY_KEY_IN_USE",
      "WAITING_ROOM",
    ),
  },
});

const pay = bookingPost({
  method: "post",
  path: "/payments/simulate",
  operationId: "simulatePayment",
  summary: "Simulated payment for a held booking",
  description:
    "Deterministic: `outcome` defaults to `success`; `decline` → 402 `PAYMENT_FAILED`. The amount must equal the booking's (400 otherwise). Booking not PENDING or already paid → 409 `INVALID_STATE`; hold expired → 410.",
  request: {
    headers: idempotencyHeader,
    body: jsonBody(
      z.object({
        booking_id: bodyId(),
        amount: z
          .number()
          .min(0)
          .max(MAX_AMOUNT)
          .refine(hasAtMostTwoDecimals, "must have at most two decimals"),
        outcome: z.enum(["success", "decline"]).default("success"),
      }),
    ),
  },
  responses: {
    200: jsonResponse(
      z.object({
        transaction_id: z.string(),
        status: z.literal("SUCCEEDED"),
        booking_id: z.number().int(),
        amount: z.number(),
      }),
      "Payment succeeded",
    ),
    ...errorResponses(
      "PAYMENT_FAILED",
      "NOT_FOUND",
      "INVALID_STATE",
      "IDEMPOTENCY_KEY_IN_USE",
      "HOLD_EXPIRED",
    ),
  },
});

const confirm = bookingPost({
  method: "post",
  path: "/{booking_id}/confirm",
  operationId: "confirmBooking",
  summary: "Confirm a paid hold",
  description:
    "Body `{}` (a `booking_id` in it must match the path). No succeeded payment → 402 `PAYMENT_REQUIRED`; hold expired → 410 (the booking becomes EXPIRED, its seats free, a payment is refunded); not PENDING → 409 `INVALID_STATE`.",
  request: {
    params: bookingParams,
    headers: idempotencyHeader,
    body: optionalJsonBody(z.object({ booking_id: bodyId().optional() })),
  },
  responses: {
    200: jsonResponse(
      z.object({
        message: z.string(),
        booking_id: z.number().int(),
        status: z.literal("CONFIRMED"),
        confirmed_seats: z.array(SeatSchema),
      }),
      "Confirmed",
    ),
    ...errorResponses(
      "PAYMENT_REQUIRED",
      "NOT_FOUND",
      "INVALID_STATE",
      "IDEMPOTENCY_KEY_IN_USE",
      "HOLD_EXPIRED",
    ),
  },
});

const cancel = bookingPost({
  method: "post",
  path: "/{booking_id}/cancel",
  operationId: "cancelBooking",
  summary: "Cancel a PENDING or CONFIRMED booking before its show starts",
  description:
    "Frees the seats; a paid booking is refunded (`refund`). Already cancelled or expired (also a hold that just ran out) → 409 `INVALID_STATE`; show started → 400 `SHOW_STARTED`. Admins may cancel any booking.",
  request: { params: bookingParams, headers: idempotencyHeader },
  responses: {
    200: jsonResponse(
      z.object({
        booking_id: z.number().int(),
        status: z.literal("CANCELLED"),
        cancelled_seats: z.array(SeatSchema),
        refund: z.object({ amount: z.number(), transaction_id: z.string() }).optional(),
      }),
      "Cancelled",
    ),
    ...errorResponses(
      "SHOW_STARTED",
      "NOT_FOUND",
      "INVALID_STATE",
      "IDEMPOTENCY_KEY_IN_USE",
      "HOLD_EXPIRED",
    ),
  },
});

const getBooking = createRoute({
  method: "get",
  path: "/{booking_id}",
  operationId: "getBooking",
  tags: ["Bookings"],
  summary: "One booking (its owner or an admin; anyone else gets 404)",
  description:
    "The booking with `log`: every change it went through (held or offered from the waitlist, paid, payment declined, confirmed, cancelled, expired, refunded), oldest first, each with its time. Who acted and the payment details are for admins (`GET /api/v1/admin/bookings/{booking_id}/log`).",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser] as const,
  request: { params: bookingParams },
  responses: {
    200: jsonResponse(z.object({ booking: BookingWithLogSchema }), "The booking and its log"),
    ...errorResponses("NOT_FOUND"),
  },
});

export const bookingRoutes = createRouter()
  .openapi(lock, async (c) => {
    const { show_id, seat_ids, quantity, adjacent } = c.req.valid("json");
    const bookings = c.get("services").bookings;
    const user = c.get("user");
    const held = seat_ids
      ? await bookings.hold(user, show_id, seat_ids)
      : await bookings.holdBest(user, show_id, quantity as number, adjacent ?? true);
    return c.json(held, 200);
  })
  .openapi(pay, async (c) => {
    const { booking_id, amount, outcome } = c.req.valid("json");
    const payment = await c
      .get("services")
      .bookings.pay(c.get("user"), booking_id, amount, outcome);
    return c.json(payment, 200);
  })
  .openapi(confirm, async (c) => {
    const bookingId = c.req.valid("param").booking_id;
    const bodyId = c.req.valid("json")?.booking_id;
    if (bodyId !== undefined && bodyId !== bookingId) {
      throw badRequest("booking_id in the body does not match the path", {
        booking_id: "must match the path",
      });
    }
    return c.json(await c.get("services").bookings.confirm(c.get("user"), bookingId), 200);
  })
  .openapi(cancel, async (c) =>
    c.json(
      await c.get("services").bookings.cancel(c.get("user"), c.req.valid("param").booking_id),
      200,
    ),
  )
  .openapi(getBooking, async (c) => {
    const booking = await c
      .get("services")
      .bookingViews.get(c.req.valid("param").booking_id, c.get("user"));
    return c.json({ booking }, 200);
  });

const myBookings = createRoute({
  method: "get",
  path: "/bookings",
  operationId: "listMyBookings",
  tags: ["Bookings"],
  summary: "The caller's bookings, newest first",
  description:
    "Each with its show (event and venue) and seats, also after cancellation or expiry. A hold that ran out reads as EXPIRED. Filter with `status`.",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser] as const,
  request: { query: paginationQuery.extend({ status: BookingStatusSchema.optional() }) },
  responses: {
    200: jsonResponse(
      z.object({ bookings: z.array(BookingSchema), ...paginationEnvelope }),
      "A page of bookings",
    ),
  },
});

export const userRoutes = createRouter().openapi(myBookings, async (c) => {
  const query = c.req.valid("query");
  const page = await c
    .get("services")
    .bookingViews.list({ ...query, userId: c.get("user").user_id });
  return c.json(page, 200);
});

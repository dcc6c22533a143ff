import { bookings, payments, users } from "../../db/schema";
import { createSelectSchema, idColumns, timestamp, z } from "../../lib/shapes";
import { SeatSchema, ShowSchema } from "../catalogue/schemas";
import { BOOKING_EVENTS } from "./booking-log";

/**
 * The shapes of bookings in requests and answers, for the booking routes and their clients.
 * Fields that mirror a column (ids, status, timestamps) come from the table; money crosses the
 * API as a two-decimal number, not as the stored cents.
 */

const booking = createSelectSchema(bookings, {
  ...idColumns("booking_id", "user_id", "show_id"),
  created_at: timestamp(),
  expires_at: timestamp(),
}).shape;

const MoneyMovementSchema = createSelectSchema(payments)
  .pick({ transaction_id: true })
  .extend({ amount: z.number() });

/** `?status=`: the booking statuses of the database enum. */
export const BookingStatusSchema = booking.status;

export const BookingSchema = z
  .object({
    booking_id: booking.booking_id,
    user_id: booking.user_id,
    status: booking.status,
    show_id: booking.show_id,
    amount: z.number(),
    created_at: booking.created_at,
    expires_at: booking.expires_at,
    seats: z.array(SeatSchema),
    show: ShowSchema,
    payment: MoneyMovementSchema.nullable().openapi({
      description: "The booking's successful charge (`POST /bookings/payments/simulate`), if paid",
    }),
    refund: MoneyMovementSchema.nullable().openapi({
      description:
        "The refund of that charge once the booking ended: at the cancel, or when the cleanup job expires a paid hold that ran out",
    }),
  })
  .openapi("Booking");
export type BookingView = z.infer<typeof BookingSchema>;

const BookingEventSchema = z.enum(BOOKING_EVENTS).openapi({
  description:
    "HELD (the buyer held the seats) or OFFERED (the waitlist offered them) starts a booking, PENDING; CONFIRMED, CANCELLED and EXPIRED change its status; PAID, PAYMENT_DECLINED and REFUNDED are its money.",
});

const logEntryFields = {
  event: BookingEventSchema,
  at: z.string().openapi({ format: "date-time" }),
};

const BuyerLogEntrySchema = z.object(logEntryFields).openapi("BookingLogEntry");

/** A booking read on its own: the booking and its log. */
export const BookingWithLogSchema = BookingSchema.extend({
  log: z.array(BuyerLogEntrySchema).openapi({
    description:
      "Every change of the booking, oldest first, as it happened: kept for good, never rewritten. A hold that ran out reads EXPIRED in `status` before its EXPIRED entry is written (by the cleanup job, or the next request that meets it).",
  }),
}).openapi("BookingWithLog");

export const AuditedLogEntrySchema = z
  .object({
    ...logEntryFields,
    actor: createSelectSchema(users, idColumns("user_id"))
      .pick({ user_id: true, role: true })
      .nullable()
      .openapi({
        description:
          "Who made the change (their role then); null for the system: expiries, and holds offered from the waitlist.",
      }),
    request_id: z.string().nullable().openapi({
      description:
        "X-Request-Id of the HTTP request that caused the change (an expiry or waitlist offer carries the id of the request that triggered it); null when the worker made it.",
    }),
    details: z.record(z.string(), z.unknown()).nullable().openapi({
      description:
        "HELD and OFFERED: `seat_ids`, `amount`, `expires_at`. PAID and PAYMENT_DECLINED: `amount`, `transaction_id`. REFUNDED: `amount`, `transaction_id` (of the refund), `payment_transaction_id`. Otherwise null. Entries of bookings made before the log existed were rebuilt from their rows and say `reconstructed: true` (their actor and request are unknown).",
    }),
  })
  .openapi("AuditedBookingLogEntry");

import { timestamp, z } from "../../lib/openapi";
import { SeatSchema, ShowSchema } from "../catalogue/schemas";
import { BOOKING_EVENTS } from "./booking-log";

/** The shapes of bookings in requests and answers, for the booking routes and their clients. */

export const BOOKING_STATUSES = ["PENDING", "CONFIRMED", "CANCELLED", "EXPIRED"] as const;

const MoneyMovementSchema = z.object({ transaction_id: z.string(), amount: z.number() });

export const BookingSchema = z
  .object({
    booking_id: z.number().int(),
    user_id: z.number().int(),
    status: z.enum(BOOKING_STATUSES),
    show_id: z.number().int(),
    amount: z.number(),
    created_at: timestamp(),
    expires_at: timestamp(),
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
    actor: z
      .object({ user_id: z.number().int(), role: z.enum(["user", "admin"]) })
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

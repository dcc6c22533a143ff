import { z } from "../lib/openapi";
import { BOOKING_EVENTS } from "../services/booking-log";

/** Response schemas shared by several route files. */

/** A timestamp in an answer: ISO-8601 in UTC. */
export const timestamp = () =>
  z.string().openapi({ format: "date-time", example: "2026-12-01T19:30:00.000Z" });

export const UserSchema = z
  .object({
    user_id: z.number().int(),
    email: z.string(),
    name: z.string().nullable(),
    role: z.enum(["user", "admin"]),
  })
  .openapi("User");

export const ShowSchema = z
  .object({
    show_id: z.number().int(),
    start_time: timestamp(),
    end_time: timestamp(),
    sales_open_at: timestamp().nullable().openapi({
      description: "Holds open at this time (null: on sale now); earlier arrivals are pre-queued",
    }),
    price: z.number().openapi({ example: 49.5 }),
    event: z.object({
      event_id: z.number().int(),
      title: z.string(),
      description: z.string().nullable(),
    }),
    venue: z.object({
      venue_id: z.number().int(),
      venue_name: z.string(),
      address: z.string(),
    }),
    available_seats: z.number().int(),
    total_seats: z.number().int(),
    deleted: z.boolean().openapi({
      description:
        "true for a show an admin deleted, as a buyer's booking history still shows it (with no seats left: available_seats and total_seats are 0); the catalog lists only shows with false",
    }),
  })
  .openapi("Show");

export const SeatSchema = z
  .object({
    seat_id: z.number().int(),
    seat_row: z.string(),
    seat_number: z.number().int(),
  })
  .openapi("Seat");

export const EventSchema = z
  .object({
    event_id: z.number().int(),
    title: z.string(),
    description: z.string().nullable(),
    created_at: timestamp(),
  })
  .openapi("Event");

export const VenueSchema = z
  .object({
    venue_id: z.number().int(),
    venue_name: z.string(),
    address: z.string(),
    created_at: timestamp(),
  })
  .openapi("Venue");

const EARLIEST_TIMESTAMP = Date.UTC(1970, 0, 1);
const LATEST_TIMESTAMP = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * A timestamp given by a client: ISO-8601 with a zone (Z or an offset), from 1970 to 9999.
 * PostgreSQL has no year 0 and neither side parses the other's years past 9999, so wider
 * values (and ranges computed from them) would fail in the database instead of here.
 */
export const timestampInput = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .refine(
    (date) => date.getTime() >= EARLIEST_TIMESTAMP && date.getTime() <= LATEST_TIMESTAMP,
    "must be between 1970-01-01 and 9999-12-31 (UTC)",
  )
  .openapi({ type: "string", format: "date-time", example: "2026-12-01T19:30:00Z" });

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

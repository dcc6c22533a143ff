import { events, seats, showSeats, shows, venues } from "../../db/schema";
import { hasAtMostTwoDecimals, MAX_PRICE } from "../../lib/money";
import {
  bodyId,
  createSelectSchema,
  idColumns,
  text,
  timestamp,
  timestampInput,
  z,
} from "../../lib/shapes";

/**
 * The shapes of shows, events, venues and seats, read by buyers, admins and bookings. Fields
 * that mirror a column come from the table (src/db/schema.ts); timestamps cross the API as
 * ISO strings, so those columns are given as `timestamp()`.
 */

const eventFields = createSelectSchema(events, {
  ...idColumns("event_id"),
  created_at: timestamp(),
}).omit({
  deleted_at: true,
});
const venueFields = createSelectSchema(venues, {
  ...idColumns("venue_id"),
  created_at: timestamp(),
}).omit({
  deleted_at: true,
});
const seatFields = createSelectSchema(seats, idColumns("seat_id")).pick({
  seat_id: true,
  seat_row: true,
  seat_number: true,
});
const showFields = createSelectSchema(shows, {
  ...idColumns("show_id"),
  start_time: timestamp(),
  end_time: timestamp(),
  sales_open_at: timestamp().nullable().openapi({
    description: "Holds open at this time (null: on sale now); earlier arrivals are pre-queued",
  }),
}).pick({ show_id: true, start_time: true, end_time: true, sales_open_at: true });

export const ShowSchema = showFields
  .extend({
    price: z.number().openapi({ example: 49.5 }),
    event: eventFields.pick({ event_id: true, title: true, description: true }),
    venue: venueFields.pick({ venue_id: true, venue_name: true, address: true }),
    available_seats: z.number().int(),
    total_seats: z.number().int(),
    deleted: z.boolean().openapi({
      description:
        "true for a show an admin deleted, as a buyer's booking history still shows it (with no seats left: available_seats and total_seats are 0); the catalog lists only shows with false",
    }),
  })
  .openapi("Show");
export type ShowView = z.infer<typeof ShowSchema>;

export const SeatSchema = seatFields.openapi("Seat");

/**
 * A seat on a show's map, as buyers see it: a seat owed to the waitlist reads LOCKED (it is not
 * for sale, and whom it is kept for is nobody else's business).
 */
export const MapSeatSchema = seatFields.extend({
  status: createSelectSchema(showSeats).shape.status.exclude(["OWED"]),
});
export type SeatView = z.infer<typeof MapSeatSchema>;

export const EventSchema = eventFields.openapi("Event");
export type EventView = z.infer<typeof EventSchema>;

export const VenueSchema = venueFields.openapi("Venue");
export type VenueView = z.infer<typeof VenueSchema>;

/*
 * Bodies of the admin create routes (an update takes any non-empty subset); the admin service
 * takes what they parse to.
 */

export const VenueInputSchema = z
  .object({
    venue_name: text().trim().min(1).max(200),
    address: text().trim().min(1).max(500),
  })
  .strict();
export type VenueInput = z.output<typeof VenueInputSchema>;

export const EventInputSchema = z
  .object({
    title: text().trim().min(1).max(200),
    description: text().max(5000).nullable().optional(),
  })
  .strict();
export type EventInput = z.output<typeof EventInputSchema>;

const price = z
  .number()
  .min(0)
  .max(MAX_PRICE)
  .refine(hasAtMostTwoDecimals, "must have at most two decimals")
  .openapi({ example: 49.5 });

export const ShowInputSchema = z
  .object({
    event_id: bodyId(),
    venue_id: bodyId(),
    start_time: timestampInput,
    end_time: timestampInput,
    sales_open_at: timestampInput.nullable().optional(),
    price,
  })
  .strict();
export type ShowInput = z.output<typeof ShowInputSchema>;

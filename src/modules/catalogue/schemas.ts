import { timestamp, z } from "../../lib/openapi";

/** The shapes of shows, events, venues and seats, read by buyers, admins and bookings. */

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

import { type BookingStatus, bookingStatus } from "../../db/schema";
import { z } from "../../lib/shapes";

/** The analytics report: the route's answer and the service's result type. */

const count = z.number().int();
const money = z.number().openapi({ example: 1234.5 });
const rate = z.number().openapi({
  example: 0.125,
  description: "cancelled / bookings, rounded to 4 decimals (0 when there are no bookings)",
});

export const AnalyticsSchema = z
  .object({
    range: z.object({
      from: z.string().openapi({ example: "2026-11-01T00:00:00.000Z" }),
      to: z.string().openapi({ example: "2026-12-01T00:00:00.000Z" }),
    }),
    totals: z.object({
      bookings_by_status: z.object(
        Object.fromEntries(bookingStatus.enumValues.map((status) => [status, count])) as Record<
          BookingStatus,
          typeof count
        >,
      ),
      seats_sold: count,
      revenue: money,
    }),
    most_booked_events: z.array(
      z.object({
        event_id: z.number().int(),
        title: z.string(),
        confirmed_bookings: count,
        seats_sold: count,
        revenue: money,
      }),
    ),
    cancellation_rates: z.object({
      by_show: z.array(
        z.object({
          show_id: z.number().int(),
          event_id: z.number().int(),
          bookings: count,
          cancelled: count,
          rate,
        }),
      ),
      by_event: z.array(
        z.object({
          event_id: z.number().int(),
          title: z.string(),
          bookings: count,
          cancelled: count,
          rate,
        }),
      ),
    }),
    daily_booking_stats: z.array(
      z.object({
        date: z.string().openapi({ example: "2026-11-30" }),
        bookings: count,
        confirmed: count,
        cancelled: count,
        expired: count,
        seats_sold: count,
        revenue: money,
      }),
    ),
    capacity_utilization: z.array(
      z.object({
        show_id: z.number().int(),
        event_id: z.number().int(),
        total_seats: count,
        booked: count,
        held: count,
        free: count,
        utilization_percent: z.number().openapi({ example: 62.5 }),
      }),
    ),
  })
  .openapi("Analytics");
export type AnalyticsReport = z.infer<typeof AnalyticsSchema>;

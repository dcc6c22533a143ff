import type { StaleReads } from "../../db/read-replica";
import { badRequest } from "../../lib/errors";
import { fromCents } from "../../lib/money";
import { iso } from "../../lib/time";
import { type AnalyticsRange, readReport } from "./queries";
import type { AnalyticsReport } from "./schemas";

export type { AnalyticsRange };

const DAY_MS = 86_400_000;
/** Without `from`, the report covers the 30 days before `to`. */
export const DEFAULT_RANGE_DAYS = 30;
/** Longest range one report may cover: bounds the zero-filled daily series (and the work). */
export const MAX_RANGE_DAYS = 1096;

export interface AnalyticsQuery {
  from?: Date;
  to?: Date;
}

const invalidRange = (message: string, details: Record<string, string>) =>
  badRequest(message, details);

/**
 * The range a report covers: `to` defaults to now and `from` to 30 days before `to`.
 * `from` after `to`, or a range longer than MAX_RANGE_DAYS, is a 400.
 */
function resolveRange(query: AnalyticsQuery, now = new Date()): AnalyticsRange {
  const to = query.to ?? now;
  const from = query.from ?? new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
  if (from.getTime() > to.getTime()) {
    throw invalidRange("`from` must not be after `to`", {
      from: "must not be after to",
      ...(query.to ? { to: "must not be before from" } : {}),
    });
  }
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    throw invalidRange(`The range may cover at most ${MAX_RANGE_DAYS} days`, {
      from: `must be at most ${MAX_RANGE_DAYS} days before to`,
    });
  }
  return { from, to };
}

/** Numbers in the JSON sections are plain JSON numbers; coerce anyway in case a driver differs. */
const num = (value: unknown): number => Number(value);

/** Booking analytics for admins: aggregates in SQL, only mapping here. */
export class AnalyticsService {
  constructor(private readonly reads: StaleReads) {}

  async report(query: AnalyticsQuery, now = new Date()): Promise<AnalyticsReport> {
    const range = resolveRange(query, now);
    const row = await this.reads.run((db) => readReport(db, range));
    const { totals } = row;
    return {
      range: { from: iso(range.from), to: iso(range.to) },
      totals: {
        bookings_by_status: {
          PENDING: num(totals.bookings_by_status.PENDING),
          CONFIRMED: num(totals.bookings_by_status.CONFIRMED),
          CANCELLED: num(totals.bookings_by_status.CANCELLED),
          EXPIRED: num(totals.bookings_by_status.EXPIRED),
        },
        seats_sold: num(totals.seats_sold),
        revenue: fromCents(num(totals.revenue_cents)),
      },
      most_booked_events: row.most_booked_events.map((event) => ({
        event_id: event.event_id,
        title: event.title,
        confirmed_bookings: num(event.confirmed_bookings),
        seats_sold: num(event.seats_sold),
        revenue: fromCents(num(event.revenue_cents)),
      })),
      cancellation_rates: {
        by_show: row.by_show.map((show) => ({
          show_id: show.show_id,
          event_id: show.event_id,
          bookings: num(show.bookings),
          cancelled: num(show.cancelled),
          rate: num(show.rate),
        })),
        by_event: row.by_event.map((event) => ({
          event_id: event.event_id,
          title: event.title,
          bookings: num(event.bookings),
          cancelled: num(event.cancelled),
          rate: num(event.rate),
        })),
      },
      daily_booking_stats: (row.daily_booking_stats ?? []).map((day) => ({
        date: day.date,
        bookings: num(day.bookings),
        confirmed: num(day.confirmed),
        cancelled: num(day.cancelled),
        expired: num(day.expired),
        seats_sold: num(day.seats_sold),
        revenue: fromCents(num(day.revenue_cents)),
      })),
      capacity_utilization: row.capacity_utilization.map((show) => ({
        show_id: show.show_id,
        event_id: show.event_id,
        total_seats: num(show.total_seats),
        booked: num(show.booked),
        held: num(show.held),
        free: num(show.free),
        utilization_percent: num(show.utilization_percent),
      })),
    };
  }
}

import { sql } from "drizzle-orm";
import { execRows } from "../../db/client";
import type { StaleReads } from "../../db/read-replica";
import { badRequest } from "../../lib/errors";
import { fromCents } from "../../lib/money";
import { iso } from "../../lib/time";
import type { AnalyticsReport } from "./schemas";

const DAY_MS = 86_400_000;
/** Without `from`, the report covers the 30 days before `to`. */
export const DEFAULT_RANGE_DAYS = 30;
/** Longest range one report may cover: bounds the zero-filled daily series (and the work). */
export const MAX_RANGE_DAYS = 1096;

export interface AnalyticsQuery {
  from?: Date;
  to?: Date;
}

export interface AnalyticsRange {
  from: Date;
  to: Date;
}

type StatusCounts = AnalyticsReport["totals"]["bookings_by_status"];

type WithCents<T extends { revenue: number }> = Omit<T, "revenue"> & { revenue_cents: number };

interface ReportRow {
  totals: {
    bookings_by_status: StatusCounts;
    seats_sold: number;
    revenue_cents: number;
  };
  most_booked_events: WithCents<AnalyticsReport["most_booked_events"][number]>[];
  by_show: AnalyticsReport["cancellation_rates"]["by_show"];
  by_event: AnalyticsReport["cancellation_rates"]["by_event"];
  daily_booking_stats: WithCents<AnalyticsReport["daily_booking_stats"][number]>[];
  capacity_utilization: AnalyticsReport["capacity_utilization"];
}

const invalidRange = (message: string, details: Record<string, string>) =>
  badRequest(message, details);

/**
 * The range a report covers: `to` defaults to now and `from` to 30 days before `to`.
 * `from` after `to`, or a range longer than MAX_RANGE_DAYS, is a 400.
 */
export function resolveRange(query: AnalyticsQuery, now = new Date()): AnalyticsRange {
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

/**
 * The whole report in one statement, so every section reads the same snapshot and the
 * bookings of the range are scanned once.
 *
 * - `ranged`: the bookings created in [from, to) (`to` itself excluded), with their effective
 *   status (a PENDING hold whose time ran out counts as EXPIRED, as everywhere else in the API)
 *   and their UTC day.
 * - `facts`: the same rows with seats sold (booking_seats of CONFIRMED bookings) and revenue
 *   (amount_cents of CONFIRMED bookings: price × seats at hold time).
 * - each section aggregates `facts` into JSON; the daily series is zero-filled by
 *   generate_series over every UTC day the range touches.
 * - capacity utilisation is the seat state now (BOOKED; LOCKED with a hold that has not lapsed;
 *   the rest free) of every show that has not ended before `from` or had a booking in the range.
 */
function reportStatement({ from, to }: AnalyticsRange) {
  const lo = sql`${iso(from)}::timestamptz`;
  const hi = sql`${iso(to)}::timestamptz`;
  return sql`with ranged as materialized (
      select b.booking_id, b.show_id, s.event_id, b.amount_cents,
        case when b.status = 'PENDING' and b.expires_at <= now() then 'EXPIRED'
             else b.status::text end as status,
        (b.created_at at time zone 'UTC')::date as day
      from bookings b
      join shows s on s.show_id = b.show_id
      where b.created_at >= ${lo} and b.created_at < ${hi}
    ), seat_counts as (
      select bs.booking_id, count(*)::int as seats
      from booking_seats bs
      join ranged r on r.booking_id = bs.booking_id and r.status = 'CONFIRMED'
      group by bs.booking_id
    ), facts as materialized (
      select r.booking_id, r.show_id, r.event_id, r.status, r.day,
        coalesce(sc.seats, 0) as seats_sold,
        case when r.status = 'CONFIRMED' then r.amount_cents else 0 end as revenue_cents
      from ranged r
      left join seat_counts sc on sc.booking_id = r.booking_id
    ), capacity as (
      select s.show_id, s.event_id, s.start_time,
        count(ss.seat_id)::int as total_seats,
        count(*) filter (where ss.status = 'BOOKED')::int as booked,
        count(*) filter (where ss.status = 'LOCKED' and ss.locked_until > now())::int as held
      from shows s
      left join show_seats ss on ss.show_id = s.show_id
      where s.deleted_at is null and (s.end_time > ${lo} or s.show_id in (select show_id from ranged))
      group by s.show_id, s.event_id, s.start_time
    )
    select
      (select json_build_object(
          'bookings_by_status', json_build_object(
            'PENDING', count(*) filter (where status = 'PENDING'),
            'CONFIRMED', count(*) filter (where status = 'CONFIRMED'),
            'CANCELLED', count(*) filter (where status = 'CANCELLED'),
            'EXPIRED', count(*) filter (where status = 'EXPIRED')),
          'seats_sold', coalesce(sum(seats_sold), 0),
          'revenue_cents', coalesce(sum(revenue_cents), 0))
        from facts) as totals,
      (select coalesce(json_agg(t order by t.seats_sold desc, t.revenue_cents desc, t.event_id),
                       '[]'::json)
        from (select f.event_id, e.title, count(*) as confirmed_bookings,
                sum(f.seats_sold) as seats_sold, sum(f.revenue_cents) as revenue_cents
              from facts f
              join events e on e.event_id = f.event_id
              where f.status = 'CONFIRMED'
              group by f.event_id, e.title
              order by seats_sold desc, revenue_cents desc, f.event_id
              limit 10) t) as most_booked_events,
      (select coalesce(json_agg(t order by t.rate desc, t.bookings desc, t.show_id), '[]'::json)
        from (select show_id, event_id, count(*) as bookings,
                count(*) filter (where status = 'CANCELLED') as cancelled,
                round(count(*) filter (where status = 'CANCELLED')::numeric / count(*), 4) as rate
              from facts
              group by show_id, event_id) t) as by_show,
      (select coalesce(json_agg(t order by t.rate desc, t.bookings desc, t.event_id), '[]'::json)
        from (select f.event_id, e.title, count(*) as bookings,
                count(*) filter (where f.status = 'CANCELLED') as cancelled,
                round(count(*) filter (where f.status = 'CANCELLED')::numeric / count(*), 4)
                  as rate
              from facts f
              join events e on e.event_id = f.event_id
              group by f.event_id, e.title) t) as by_event,
      (select json_agg(json_build_object(
            'date', to_char(d.day, 'YYYY-MM-DD'),
            'bookings', coalesce(a.bookings, 0),
            'confirmed', coalesce(a.confirmed, 0),
            'cancelled', coalesce(a.cancelled, 0),
            'expired', coalesce(a.expired, 0),
            'seats_sold', coalesce(a.seats_sold, 0),
            'revenue_cents', coalesce(a.revenue_cents, 0)) order by d.day)
        from generate_series((${lo} at time zone 'UTC')::date,
               greatest((${lo} at time zone 'UTC')::date,
                        ((${hi} - interval '1 microsecond') at time zone 'UTC')::date),
               interval '1 day') as d(day)
        left join (select day, count(*) as bookings,
                     count(*) filter (where status = 'CONFIRMED') as confirmed,
                     count(*) filter (where status = 'CANCELLED') as cancelled,
                     count(*) filter (where status = 'EXPIRED') as expired,
                     sum(seats_sold) as seats_sold, sum(revenue_cents) as revenue_cents
                   from facts
                   group by day) a on a.day = d.day::date) as daily_booking_stats,
      (select coalesce(json_agg(json_build_object(
            'show_id', c.show_id,
            'event_id', c.event_id,
            'total_seats', c.total_seats,
            'booked', c.booked,
            'held', c.held,
            'free', c.total_seats - c.booked - c.held,
            'utilization_percent',
              coalesce(round(c.booked * 100.0 / nullif(c.total_seats, 0), 2), 0))
            order by c.start_time, c.show_id), '[]'::json)
        from capacity c) as capacity_utilization`;
}

/** Numbers in the JSON sections are plain JSON numbers; coerce anyway in case a driver differs. */
const num = (value: unknown): number => Number(value);

/** Booking analytics for admins: aggregates in SQL, only mapping here. */
export class AnalyticsService {
  constructor(private readonly reads: StaleReads) {}

  async report(query: AnalyticsQuery, now = new Date()): Promise<AnalyticsReport> {
    const range = resolveRange(query, now);
    const [row] = await this.reads.run((db) => execRows<ReportRow>(db, reportStatement(range)));
    if (!row) throw new Error("analytics statement returned no row");
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

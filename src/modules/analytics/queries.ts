import { sql } from "drizzle-orm";
import { execRows, type Queryable } from "../../db/client";
import { iso } from "../../lib/time";
import type { AnalyticsReport } from "./schemas";

export interface AnalyticsRange {
  from: Date;
  to: Date;
}

type StatusCounts = AnalyticsReport["totals"]["bookings_by_status"];

type WithCents<T extends { revenue: number }> = Omit<T, "revenue"> & { revenue_cents: number };

export interface ReportRow {
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

/** The report over `range`, one row. */
export async function readReport(db: Queryable, range: AnalyticsRange): Promise<ReportRow> {
  const [row] = await execRows<ReportRow>(db, reportStatement(range));
  if (!row) throw new Error("analytics statement returned no row");
  return row;
}

import { type SQL, sql } from "drizzle-orm";

/**
 * Queries that look for broken promises of the booking engine in one show: each returns the
 * offending rows, none while the promise holds. The test suites run them after every race,
 * the benchmark after every scenario that sells seats. Each is typed `SQL<Row>` by the row it
 * returns, which the callers' helpers read back.
 */

interface DoubleSoldSeat {
  seat_id: number;
  bookings: number;
}

interface SeatOutOfStep {
  seat_id: number;
  problem: string;
}

/** Seats in more than one active (PENDING or CONFIRMED) booking: seats sold twice. */
export const doubleSoldSeats = (showId: number): SQL<DoubleSoldSeat> =>
  sql`select bs.seat_id, count(*)::int as bookings
      from booking_seats bs join bookings b on b.booking_id = bs.booking_id
      where b.show_id = ${showId} and b.status in ('PENDING', 'CONFIRMED')
      group by bs.seat_id having count(*) > 1`;

/**
 * show_seats' LOCKED/BOOKED rows must be exactly the seats of active bookings, with the status
 * that matches the booking's (PENDING → LOCKED, CONFIRMED → BOOKED), and a seat may be OWED to
 * the waitlist only while someone waits in the show's line: the rows where that fails.
 */
export const seatRowsOutOfStep = (showId: number): SQL<SeatOutOfStep> =>
  sql`with held as (
        select seat_id, booking_id, status::text as status from show_seats
        where show_id = ${showId} and status in ('LOCKED', 'BOOKED')
      ), expected as (
        select bs.seat_id, b.booking_id,
          case b.status when 'PENDING' then 'LOCKED' else 'BOOKED' end as status
        from booking_seats bs join bookings b on b.booking_id = bs.booking_id
        where b.show_id = ${showId} and b.status in ('PENDING', 'CONFIRMED')
      )
      select coalesce(held.seat_id, expected.seat_id) as seat_id,
        case when expected.seat_id is null then 'held in show_seats without an active booking'
             when held.seat_id is null then 'in an active booking but not held in show_seats'
             else 'held in show_seats by the wrong booking or status' end as problem
      from held full join expected on held.seat_id = expected.seat_id
      where held.seat_id is null or expected.seat_id is null
        or held.booking_id <> expected.booking_id or held.status <> expected.status
      union all
      select seat_id, 'owed to the waitlist while nobody waits in its line' as problem
      from show_seats
      where show_id = ${showId} and status = 'OWED'
        and not exists (select 1 from waitlist_entries
                        where show_id = ${showId} and status = 'WAITING')`;

/** A row of doubleSoldSeats, as the checkers report it. */
export const doubleSoldSentence = (row: DoubleSoldSeat) =>
  `seat ${row.seat_id} is in ${row.bookings} active bookings`;

/** A row of seatRowsOutOfStep, as the checkers report it. */
export const outOfStepSentence = (row: SeatOutOfStep) => `seat ${row.seat_id}: ${row.problem}`;

/**
 * The seats that must have a seat lock, with what decides its value: a LOCKED seat's lock
 * holds its booking's lock_token, a BOOKED seat's the BOOKED marker. Every other seat of the
 * show must have none.
 */
export const heldSeats = (
  showId: number,
): SQL<{ seat_id: number; status: "LOCKED" | "BOOKED"; lock_token: string }> =>
  sql`select ss.seat_id, ss.status::text as status, b.lock_token::text as lock_token
      from show_seats ss join bookings b on b.booking_id = ss.booking_id
      where ss.show_id = ${showId} and ss.status in ('LOCKED', 'BOOKED')`;

interface LogOutOfStep {
  booking_id: number;
  problem: string;
}

/**
 * The booking log must tell each booking's story as its rows do: it starts with HELD or
 * OFFERED, its last status entry (HELD and OFFERED leave it PENDING) is the booking's status,
 * and its money entries are the booking's payments: PAID for each charge that succeeded
 * (refunded since or not), PAYMENT_DECLINED for each declined one, REFUNDED for each refund,
 * with the same amounts and transaction ids. The bookings where that fails.
 */
export const bookingLogOutOfStep = (showId: number): SQL<LogOutOfStep> =>
  sql`with log as (
        select l.booking_id, l.log_id, l.event::text as event, l.details
        from booking_log l join bookings b on b.booking_id = l.booking_id
        where b.show_id = ${showId}
      ), told as (
        select b.booking_id, b.status::text as status,
          (select event from log where log.booking_id = b.booking_id
           order by log_id limit 1) as first_event,
          (select case when event in ('HELD', 'OFFERED') then 'PENDING' else event end
           from log where log.booking_id = b.booking_id
             and event in ('HELD', 'OFFERED', 'CONFIRMED', 'CANCELLED', 'EXPIRED')
           order by log_id desc limit 1) as logged_status,
          (select coalesce(array_agg(entry order by entry), '{}') from (
             select event || ' ' || (details->>'amount_cents') || ' '
                      || (details->>'transaction_id') as entry
             from log where log.booking_id = b.booking_id
               and event in ('PAID', 'PAYMENT_DECLINED', 'REFUNDED')
           ) as money) as logged_money,
          (select coalesce(array_agg(entry order by entry), '{}') from (
             select case p.status when 'DECLINED' then 'PAYMENT_DECLINED' else 'PAID' end
                      || ' ' || p.amount_cents || ' ' || p.transaction_id as entry
             from payments p where p.booking_id = b.booking_id
             union all
             select 'REFUNDED ' || p.amount_cents || ' ' || p.refund_transaction_id
             from payments p where p.booking_id = b.booking_id and p.status = 'REFUNDED'
           ) as money) as paid_money
        from bookings b where b.show_id = ${showId}
      )
      select booking_id,
        case when first_event is null then 'has no log'
             when first_event not in ('HELD', 'OFFERED') then 'log starts with ' || first_event
             when logged_status is distinct from status
               then 'is ' || status || ' but its log says ' || logged_status
             else 'log has money ' || array_to_string(logged_money, ', ')
                  || ' but its payments ' || array_to_string(paid_money, ', ')
        end as problem
      from told
      where first_event is null or first_event not in ('HELD', 'OFFERED')
        or logged_status is distinct from status or logged_money <> paid_money`;

/** A row of bookingLogOutOfStep, as the checkers report it. */
export const logOutOfStepSentence = (row: LogOutOfStep) =>
  `booking ${row.booking_id} ${row.problem}`;

interface HiddenRow {
  seat_row: string;
  longest: number;
  hint: number | null;
}

/**
 * Best-available picks of adjacent seats look only at the show_rows whose hint says a block
 * may fit, or where a release is noted (show_row_releases): every row's longest run of
 * AVAILABLE seats must be at most its hint, or the row must have a noted release. The rows
 * where that fails, which a picker would pass by.
 */
export const rowsHiddenFromPickers = (showId: number): SQL<HiddenRow> =>
  sql`with free as (
        select s.seat_row, s.seat_number
        from show_seats ss join seats s on s.seat_id = ss.seat_id
        where ss.show_id = ${showId} and ss.status = 'AVAILABLE'
      ), runs as (
        select seat_row, count(*)::int as length from (
          select seat_row,
            seat_number - row_number() over (partition by seat_row order by seat_number) as run
          from free
        ) numbered group by seat_row, run
      ), longest as (
        select seat_row, max(length) as longest from runs group by seat_row
      )
      select l.seat_row, l.longest, r.largest_free_hint as hint
      from longest l
      left join show_rows r on r.show_id = ${showId} and r.seat_row = l.seat_row
      where (r.seat_row is null or r.largest_free_hint < l.longest)
        and not exists (
          select 1 from show_row_releases rr join seats s on s.seat_id = rr.seat_id
          where rr.show_id = ${showId} and s.seat_row = l.seat_row)`;

/** A row of rowsHiddenFromPickers, as the checkers report it. */
export const hiddenRowSentence = (row: HiddenRow) =>
  `row ${row.seat_row}: ${row.longest} adjacent free seats, but its hint says ${row.hint ?? "no row"} and no release is noted`;

import { BOOKED_MARKER } from "../../src/infra/seat-locks";
import {
  bookingLogOutOfStep,
  doubleSoldSeats,
  doubleSoldSentence,
  heldSeats,
  hiddenRowSentence,
  logOutOfStepSentence,
  outOfStepSentence,
  rowsHiddenFromPickers,
  seatRowsOutOfStep,
} from "./booking-invariants";
import type { ToldHold } from "./flash-sale-load";
import { query, sql, type TestApp } from "./harness";

/**
 * The booking engine's promises, checked in SQL (and against the seat locks) after a race.
 * Returns a list of violations; an empty list means every invariant holds.
 */
export async function bookingInvariantViolations(app: TestApp, showId: number): Promise<string[]> {
  const violations: string[] = [];

  violations.push(...(await query(app, doubleSoldSeats(showId))).map(doubleSoldSentence));

  const seatless = await query<{ booking_id: number }>(
    app,
    sql`select b.booking_id from bookings b
        where b.show_id = ${showId}
          and not exists (select 1 from booking_seats bs where bs.booking_id = b.booking_id)`,
  );
  for (const row of seatless) violations.push(`booking ${row.booking_id} has no seats`);

  // Money follows the booking: a CONFIRMED booking is paid exactly once, in full; an ended one
  // keeps no successful charge (it was refunded); a PENDING one is paid at most once.
  const unpaid = await query<{ booking_id: number; status: string; charges: number }>(
    app,
    sql`select b.booking_id, b.status::text as status, count(p.payment_id)::int as charges
        from bookings b
        left join payments p on p.booking_id = b.booking_id and p.status = 'SUCCEEDED'
        where b.show_id = ${showId}
        group by b.booking_id, b.status, b.amount_cents
        having not (
          (count(p.payment_id) = 0 and b.status <> 'CONFIRMED')
          or (count(p.payment_id) = 1 and sum(p.amount_cents) = b.amount_cents
              and b.status in ('PENDING', 'CONFIRMED')))`,
  );
  for (const row of unpaid) {
    violations.push(`booking ${row.booking_id} is ${row.status} with ${row.charges} charges`);
  }

  violations.push(...(await query(app, seatRowsOutOfStep(showId))).map(outOfStepSentence));

  // The booking log agrees with each booking's status and money.
  violations.push(...(await query(app, bookingLogOutOfStep(showId))).map(logOutOfStepSentence));

  // Every free block can still be found by a best-available pick.
  violations.push(...(await query(app, rowsHiddenFromPickers(showId))).map(hiddenRowSentence));

  const expected = await query(app, heldSeats(showId));
  const locks = await app.runtime.shared.locks.snapshot(showId);
  for (const seat of expected) {
    const want = seat.status === "BOOKED" ? BOOKED_MARKER : seat.lock_token;
    if (locks.get(seat.seat_id) !== want) {
      violations.push(
        `seat ${seat.seat_id} is ${seat.status} but its lock is ${locks.get(seat.seat_id)}`,
      );
    }
    locks.delete(seat.seat_id);
  }
  for (const [seatId, value] of locks) {
    violations.push(`seat ${seatId} is AVAILABLE but still locked (${value})`);
  }
  return violations;
}

/**
 * What clients were told against what PostgreSQL holds: every hold answered 200 is a booking
 * with exactly those seats (CONFIRMED when the confirm was answered 200). Bookings nobody was
 * told of can only come from requests that got no definite answer (a lost response, a 503
 * while the commit was in doubt): at most `undecided` of them.
 */
export async function toldHoldViolations(
  app: TestApp,
  showId: number,
  told: ToldHold[],
  undecided: number,
): Promise<string[]> {
  const rows = await query<{ booking_id: number; status: string; seat_ids: number[] }>(
    app,
    sql`select b.booking_id, b.status::text as status,
          array_agg(bs.seat_id order by bs.seat_id) as seat_ids
        from bookings b join booking_seats bs on bs.booking_id = b.booking_id
        where b.show_id = ${showId} group by b.booking_id`,
  );
  const stored = new Map(rows.map((row) => [row.booking_id, row]));
  const violations: string[] = [];
  for (const hold of told) {
    const booking = stored.get(hold.bookingId);
    const seats = [...hold.seatIds].sort((a, b) => a - b).join(",");
    if (!booking) {
      violations.push(`booking ${hold.bookingId} was answered 200 but does not exist`);
    } else if (booking.seat_ids.join(",") !== seats) {
      violations.push(`booking ${hold.bookingId} holds ${booking.seat_ids} but told ${seats}`);
    } else if (hold.confirmed && booking.status !== "CONFIRMED") {
      violations.push(`booking ${hold.bookingId} was confirmed but is ${booking.status}`);
    }
    stored.delete(hold.bookingId);
  }
  if (stored.size > undecided) {
    violations.push(`${stored.size} bookings nobody was told of, ${undecided} undecided requests`);
  }
  return violations;
}

import { sql } from "drizzle-orm";
import { execRows, type Queryable } from "../../db/client";
import type { BookingStatus } from "../../db/schema";
import type { SeatRef } from "./hold-statement";

/** A booking as cancel (and the expiry of a lapsed hold) sees it, under its row lock. */
export interface BookingRow {
  booking_id: number;
  user_id: number;
  status: BookingStatus;
  hold_lapsed: boolean;
  show_started: boolean;
}

/**
 * Locks the booking row (`userId`'s only, unless `anyUser`), then reads its state in a
 * statement of its own, so that it sees what committed during the lock wait. Whether the hold
 * ran out is judged by the clock after the lock wait (now() is the transaction's start).
 */
export async function lockBookingRow(
  tx: Queryable,
  bookingId: number,
  userId: number,
  anyUser: boolean,
): Promise<BookingRow | undefined> {
  await tx.execute(sql`select 1 from bookings
    where booking_id = ${bookingId} and (user_id = ${userId} or ${anyUser})
    for update`);
  const [booking] = await execRows<BookingRow>(
    tx,
    sql`select b.booking_id, b.user_id, b.status,
          (b.status = 'PENDING' and b.expires_at <= clock_timestamp()) as hold_lapsed,
          sh.start_time <= clock_timestamp() as show_started
        from bookings b join shows sh on sh.show_id = b.show_id
        where b.booking_id = ${bookingId}`,
  );
  return booking;
}

/** The booking's seats (copied at the hold, so they outlive layout changes), in seat order. */
export function seatsOfBooking(tx: Queryable, bookingId: number): Promise<SeatRef[]> {
  return execRows<SeatRef>(
    tx,
    sql`select seat_id, seat_row, seat_number from booking_seats
        where booking_id = ${bookingId} order by seat_id`,
  );
}

/** A show's start and sales opening (epoch ms); undefined for an unknown or deleted show. */
export async function readShowTimes(
  db: Queryable,
  showId: number,
): Promise<{ startsAt: number; salesOpenAt?: number } | undefined> {
  const [show] = await execRows<{
    start_time: Date | string;
    sales_open_at: Date | string | null;
  }>(
    db,
    sql`select start_time, sales_open_at from shows
        where show_id = ${showId} and deleted_at is null`,
  );
  if (!show) return undefined;
  return {
    startsAt: new Date(show.start_time).getTime(),
    salesOpenAt: show.sales_open_at ? new Date(show.sales_open_at).getTime() : undefined,
  };
}

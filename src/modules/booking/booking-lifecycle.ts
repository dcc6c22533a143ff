import { sql } from "drizzle-orm";
import { execRows, intArray, type Queryable } from "../../db/client";
import type { BookingStatus } from "../../db/schema";
import type { AfterCommit } from "../../infra/seat-changes";
import { type Actor, LOG_COLUMNS, type LogStamp, stampBy, stampValues } from "./booking-log";
import {
  noWaitlistChanges,
  type OfferSettings,
  offerToWaitlists,
  settleWaitlistChanges,
  type WaitlistChanges,
} from "./waitlist-offers";

export interface EndedBooking {
  booking_id: number;
  show_id: number;
  lock_token: string;
  previous_status: Extract<BookingStatus, "PENDING" | "CONFIRMED">;
  status: Extract<BookingStatus, "EXPIRED" | "CANCELLED">;
  seat_ids: number[];
  refund: { amount_cents: number; transaction_id: string } | null;
}

/**
 * What a transaction that ended bookings leaves to settle after its commit: the bookings, and
 * what the freed seats' waitlists got in the same transaction.
 */
export interface Endings extends WaitlistChanges {
  ended: EndedBooking[];
}

export const nothingEnded = (): Endings => ({ ended: [], ...noWaitlistChanges() });

interface EndOptions {
  /** Who cancelled (a user or an admin); null for the system (every expiry). */
  by: Actor | null;
  /**
   * Offer the freed seats to their shows' waitlists before the transaction commits. Left out
   * only when the show itself goes.
   */
  waitlist?: OfferSettings;
}

/**
 * Moves active bookings to EXPIRED or CANCELLED: frees their seats and refunds any successful
 * charge, so money and seats never part ways. Only PENDING bookings can expire. Run inside the
 * caller's transaction; returns what Redis must forget afterwards. Seats of a show with a
 * waitlist go to the line (OWED, or straight into an offer) in the same transaction
 * (EndOptions): between the commit and a later offer, a general hold could take them.
 *
 * The bookings are locked by a statement of their own first: under READ COMMITTED a statement
 * that waited for a lock still reads other tables as of its start, so the refund would miss a
 * payment committed while we waited. The second statement starts after the wait. It also
 * writes the booking log: the end (CANCELLED or EXPIRED) and, for a refunded charge, REFUNDED.
 */
export async function endBookings(
  tx: Queryable,
  bookingIds: number[],
  to: "EXPIRED" | "CANCELLED",
  options: EndOptions,
): Promise<Endings> {
  const ended = await endAndFree(tx, bookingIds, to, stampBy(options.by));
  const freed = new Map<number, number[]>();
  for (const booking of ended) {
    if (booking.seat_ids.length === 0) continue;
    freed.set(booking.show_id, [...(freed.get(booking.show_id) ?? []), ...booking.seat_ids]);
  }
  if (!options.waitlist || freed.size === 0) return { ended, ...noWaitlistChanges() };
  const seats = [...freed].map(([show_id, seat_ids]) => ({ show_id, seat_ids }));
  return { ended, ...(await offerToWaitlists(tx, seats, options.waitlist)) };
}

async function endAndFree(
  tx: Queryable,
  bookingIds: number[],
  to: "EXPIRED" | "CANCELLED",
  stamp: LogStamp,
): Promise<EndedBooking[]> {
  if (bookingIds.length === 0) return [];
  const endable = to === "EXPIRED" ? sql`('PENDING')` : sql`('PENDING', 'CONFIRMED')`;
  const locked = await execRows<{ booking_id: number; status: EndedBooking["previous_status"] }>(
    tx,
    sql`select booking_id, status::text as status from bookings
        where booking_id = any(${intArray(bookingIds)}) and status in ${endable}
        order by booking_id for update`,
  );
  if (locked.length === 0) return [];
  return execRows<EndedBooking>(
    tx,
    sql`with previous as (
      select * from unnest(${intArray(locked.map((row) => row.booking_id))},
                           ${sql.param(locked.map((row) => row.status))}::text[])
        as p(booking_id, status)
    ), ended as (
      update bookings b set status = ${to}, updated_at = now()
      from previous
      where b.booking_id = previous.booking_id
      returning b.booking_id, b.show_id, b.lock_token, b.status, previous.status as previous_status
    ), freed as (
      update show_seats ss set status = 'AVAILABLE', booking_id = null, locked_until = null
      from ended join booking_seats bs on bs.booking_id = ended.booking_id
      where ss.show_id = ended.show_id and ss.seat_id = bs.seat_id
        and ss.booking_id = ended.booking_id
      returning ended.booking_id, ss.seat_id
    ), refunded as (
      update payments p set status = 'REFUNDED', refunded_at = now(),
        refund_transaction_id = 'rfd_' || replace(gen_random_uuid()::text, '-', '')
      from ended where p.booking_id = ended.booking_id and p.status = 'SUCCEEDED'
      returning p.booking_id, p.amount_cents, p.refund_transaction_id, p.transaction_id
    ), logged_endings as (
      insert into booking_log (${LOG_COLUMNS})
      select booking_id, event::booking_event, details, ${stampValues(stamp)}
      from (
        select booking_id, status::text as event, null::jsonb as details, 1 as step from ended
        union all
        select booking_id, 'REFUNDED',
          jsonb_build_object('amount_cents', amount_cents,
            'transaction_id', refund_transaction_id, 'payment_transaction_id', transaction_id),
          2
        from refunded
      ) as entries
      order by booking_id, step
    )
    select ended.booking_id, ended.show_id, ended.lock_token::text as lock_token,
      ended.previous_status::text as previous_status, ended.status::text as status,
      coalesce((select array_agg(freed.seat_id order by freed.seat_id) from freed
                where freed.booking_id = ended.booking_id), '{}') as seat_ids,
      (select json_build_object('amount_cents', r.amount_cents, 'transaction_id', r.refund_transaction_id)
         from refunded r where r.booking_id = ended.booking_id) as refund
    from ended order by ended.booking_id`,
  );
}

/**
 * After the transaction commits: drop the Redis locks of ended bookings and announce their
 * seats as free, then lock and announce what the waitlists got. A Redis failure here
 * only delays a seat's return to sale in the fast filter (PostgreSQL already freed it), so it
 * is logged rather than failing the request.
 */
export async function settleEndedBookings(endings: Endings, after: AfterCommit): Promise<void> {
  const kept = new Set(
    [...endings.offers, ...endings.owed].flatMap((seats) =>
      seats.seat_ids.map((seatId) => `${seats.show_id}:${seatId}`),
    ),
  );
  await Promise.all(
    endings.ended.map(async (booking) => {
      after.metrics.recordTransition(booking.status);
      try {
        if (booking.previous_status === "CONFIRMED") {
          await after.locks.clearBooked(booking.show_id, booking.seat_ids, booking.lock_token);
        } else {
          await after.locks.release(booking.show_id, booking.seat_ids, booking.lock_token);
        }
      } catch (error) {
        after.logger.warn("could not drop seat locks", {
          booking_id: booking.booking_id,
          error: String(error),
        });
      }
      // Seats that went to the waitlist were never free: settleWaitlistChanges announces them.
      const freed = booking.seat_ids.filter((seatId) => !kept.has(`${booking.show_id}:${seatId}`));
      if (freed.length > 0) {
        await after.seatsChanged({ showId: booking.show_id, seatIds: freed, status: "AVAILABLE" });
      }
    }),
  );
  await settleWaitlistChanges(endings, after);
}

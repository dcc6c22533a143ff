import { sql } from "drizzle-orm";
import { type Database, execRows, type Queryable } from "../../db/client";
import type { AfterCommit } from "../../infra/seat-changes";
import { type Endings, settleEndedBookings } from "./booking-lifecycle";

/** Ends these PENDING bookings as EXPIRED in the transaction (BookingService's endBookings). */
export type ExpireBookings = (tx: Queryable, bookingIds: number[]) => Promise<Endings>;

export interface ExpiryResult {
  expired: number;
  batches: number;
}

/**
 * Expires PENDING bookings whose hold ran out, a batch per transaction: every show's, or one
 * show's (`showId`). SKIP LOCKED lets several workers and best-available picks (or a confirm
 * racing them) run at once: each booking is taken by exactly one of them, and endBookings
 * only moves bookings that are still PENDING.
 */
export async function expireLapsedHolds(
  db: Database,
  expire: ExpireBookings,
  after: AfterCommit,
  batchSize: number,
  showId?: number,
): Promise<ExpiryResult> {
  const ofShow = showId === undefined ? sql`` : sql`and show_id = ${showId}`;
  let expired = 0;
  let batches = 0;
  for (;;) {
    const endings = await db.transaction(async (tx) => {
      const due = await execRows<{ booking_id: number }>(
        tx,
        sql`select booking_id from bookings
            where status = 'PENDING' and expires_at <= now() ${ofShow}
            order by expires_at limit ${batchSize}
            for update skip locked`,
      );
      return expire(
        tx,
        due.map((row) => row.booking_id),
      );
    });
    if (endings.ended.length === 0) break;
    batches++;
    expired += endings.ended.length;
    await settleEndedBookings(endings, after);
    if (endings.ended.length < batchSize) break;
  }
  return { expired, batches };
}

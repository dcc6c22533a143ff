import { sql } from "drizzle-orm";
import { type Database, execRows } from "../../db/client";
import type { AfterCommit } from "../../infra/seat-changes";
import { endBookings, settleEndedBookings } from "./booking-lifecycle";

export interface ExpirySettings {
  /** WAITLIST_OFFER_TTL_SECONDS: expired holds' seats go to the waitlist first. */
  waitlistOfferTtlSeconds: number;
  /** MAX_SEATS_PER_USER_PER_SHOW: offers to the waitlist respect it too. */
  seatLimit: number;
}

export interface ExpiryResult {
  expired: number;
  batches: number;
}

/**
 * Expires PENDING bookings whose hold ran out, a batch per transaction. SKIP LOCKED lets
 * several workers (or a confirm racing the job) run at once: each booking is taken by
 * exactly one of them, and endBookings only moves bookings that are still PENDING.
 */
export async function expireLapsedHolds(
  db: Database,
  after: AfterCommit,
  settings: ExpirySettings,
  batchSize: number,
): Promise<ExpiryResult> {
  let expired = 0;
  let batches = 0;
  for (;;) {
    const endings = await db.transaction(async (tx) => {
      const due = await execRows<{ booking_id: number }>(
        tx,
        sql`select booking_id from bookings
            where status = 'PENDING' and expires_at <= now()
            order by expires_at limit ${batchSize}
            for update skip locked`,
      );
      return endBookings(
        tx,
        due.map((row) => row.booking_id),
        "EXPIRED",
        {
          by: null,
          waitlist: {
            ttlSeconds: settings.waitlistOfferTtlSeconds,
            seatLimit: settings.seatLimit,
            logger: after.logger,
          },
        },
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

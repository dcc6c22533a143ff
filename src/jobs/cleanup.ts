import { sql } from "drizzle-orm";
import { type Database, execRows } from "../db/client";
import { foldRowReleases } from "../services/best-available-statement";
import { endBookings, settleEndedBookings } from "../services/booking-lifecycle";
import { IdempotencyStore } from "../services/idempotency";
import type { AfterCommit } from "../services/seat-changes";
import { repairSeatLocks } from "./seat-lock-repair";

export interface CleanupDependencies extends AfterCommit {
  db: Database;
  /** HOLD_TTL_SECONDS: how old a seat lock is, for the lock repair. */
  holdTtlSeconds: number;
  /** CLEANUP_BATCH_SIZE: bookings expired per transaction. */
  batchSize: number;
  /** WAITLIST_OFFER_TTL_SECONDS: expired holds' seats go to the waitlist first. */
  waitlistOfferTtlSeconds: number;
  /** MAX_SEATS_PER_USER_PER_SHOW: offers to the waitlist respect it too. */
  seatLimit: number;
}

export interface CleanupResult {
  expired: number;
  batches: number;
}

/**
 * Expires PENDING bookings whose hold ran out, a batch per transaction. SKIP LOCKED lets
 * several workers (or a confirm racing the job) run at once: each booking is taken by
 * exactly one of them, and endBookings only moves bookings that are still PENDING.
 */
export async function expireLapsedHolds(
  deps: CleanupDependencies,
  batchSize = deps.batchSize,
): Promise<CleanupResult> {
  let expired = 0;
  let batches = 0;
  for (;;) {
    const endings = await deps.db.transaction(async (tx) => {
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
            ttlSeconds: deps.waitlistOfferTtlSeconds,
            seatLimit: deps.seatLimit,
            logger: deps.logger,
          },
        },
      );
    });
    if (endings.ended.length === 0) break;
    batches++;
    expired += endings.ended.length;
    await settleEndedBookings(endings, deps);
    if (endings.ended.length < batchSize) break;
  }
  // A run with nothing to expire is every run of a quiet system: not worth an info line.
  deps.logger[expired > 0 ? "info" : "debug"]("cleanup: expired lapsed holds", {
    expired,
    batches,
  });
  return { expired, batches };
}

/**
 * The scheduled cleanup: expire lapsed holds, drop idempotency keys past 24 hours, fold the
 * release notes of rows no pick is reading into their hints, then make the Redis seat locks
 * agree with PostgreSQL. The repair runs even when the rest failed (a
 * stale lock must not outlive a broken expiry), and its own failure (Redis down) is logged
 * without failing the job.
 */
export async function runCleanup(deps: CleanupDependencies): Promise<
  CleanupResult & {
    purgedKeys: number;
    /** Release notes of show_rows folded into their rows' hints (foldRowReleases). */
    foldedNotes: number;
    locks: { restored: number; discarded: number };
  }
> {
  try {
    const result = await expireLapsedHolds(deps);
    const purgedKeys = await new IdempotencyStore(deps.db).purgeExpired();
    if (purgedKeys > 0)
      deps.logger.info("cleanup: purged idempotency keys", { purged: purgedKeys });
    const foldedNotes = await foldRowReleases(deps.db);
    if (foldedNotes > 0) deps.logger.debug("cleanup: folded release notes", { foldedNotes });
    return { ...result, purgedKeys, foldedNotes, locks: await repairQuietly(deps) };
  } catch (error) {
    await repairQuietly(deps);
    throw error;
  }
}

async function repairQuietly(deps: CleanupDependencies) {
  try {
    return await repairSeatLocks(deps);
  } catch (error) {
    deps.logger.error("cleanup: could not repair seat locks", {
      error: String(error),
      cause: error instanceof Error && error.cause ? String(error.cause) : undefined,
    });
    return { restored: 0, discarded: 0 };
  }
}

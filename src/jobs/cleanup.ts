import type { Logger } from "../lib/logger";
import type { BookingService, ExpiryResult } from "../modules/booking/service";

/** What the scheduled cleanup calls: the booking module's facade, never its SQL or stores. */
export interface CleanupDependencies {
  bookings: Pick<
    BookingService,
    "expireLapsedHolds" | "purgeExpiredIdempotencyKeys" | "foldRowReleases" | "repairSeatLocks"
  >;
  logger: Logger;
}

export type CleanupResult = ExpiryResult;

/**
 * Expires PENDING bookings whose hold ran out (CLEANUP_BATCH_SIZE per transaction unless
 * `batchSize` says otherwise) and logs how many.
 */
export async function expireLapsedHolds(
  deps: CleanupDependencies,
  batchSize?: number,
): Promise<CleanupResult> {
  const result = await deps.bookings.expireLapsedHolds(batchSize);
  // A run with nothing to expire is every run of a quiet system: not worth an info line.
  deps.logger[result.expired > 0 ? "info" : "debug"]("cleanup: expired lapsed holds", {
    ...result,
  });
  return result;
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
    const purgedKeys = await deps.bookings.purgeExpiredIdempotencyKeys();
    if (purgedKeys > 0)
      deps.logger.info("cleanup: purged idempotency keys", { purged: purgedKeys });
    const foldedNotes = await deps.bookings.foldRowReleases();
    if (foldedNotes > 0) deps.logger.debug("cleanup: folded release notes", { foldedNotes });
    return { ...result, purgedKeys, foldedNotes, locks: await repairQuietly(deps) };
  } catch (error) {
    await repairQuietly(deps);
    throw error;
  }
}

async function repairQuietly(deps: CleanupDependencies) {
  try {
    return await deps.bookings.repairSeatLocks();
  } catch (error) {
    deps.logger.error("cleanup: could not repair seat locks", {
      error: String(error),
      cause: error instanceof Error && error.cause ? String(error.cause) : undefined,
    });
    return { restored: 0, discarded: 0 };
  }
}

import type { Config } from "../config";
import type { Metrics } from "../infra/metrics";
import type { CleanupDependencies } from "../jobs/cleanup";
import type { Logger } from "../lib/logger";
import { createBookingCore } from "./facades";
import { openShared, type Shared, type SharedOptions } from "./shared";

/** What the worker process runs: the cleanup, admissions from waiting-room lines, its metrics. */
export interface Worker {
  config: Config;
  logger: Logger;
  /** What the scheduled cleanup calls: the booking facade. */
  cleanup: CleanupDependencies;
  /** Admits the next in line of a show (a waiting-room-queue job), counted in metrics. */
  admitNext(showId: number): Promise<void>;
  metrics: Metrics;
  /** The database, Redis and stores it runs on. */
  shared: Shared;
  close(): Promise<void>;
}

/**
 * The worker's composition root: the booking core only (expiry, seat lock repair and the seat
 * changes they announce) and the waiting room's admissions. No HTTP app, no password threads,
 * no seeding: the API does those.
 */
export async function composeWorker(config: Config, options: SharedOptions = {}): Promise<Worker> {
  const shared = await openShared(config, options);
  const { logger } = shared;
  const core = createBookingCore({ ...shared, db: shared.database.db });
  return {
    config,
    logger,
    cleanup: { bookings: core.bookings, logger },
    admitNext: (showId) => core.waitingRoom.admitNext(showId),
    metrics: shared.metrics,
    shared,
    async close() {
      core.seatChanges.close();
      await shared.close();
    },
  };
}

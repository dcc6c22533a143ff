import type { Config } from "../config";
import type { Metrics } from "../infra/metrics";
import { PasswordHasher } from "../infra/password-hasher";
import type { CleanupDependencies } from "../jobs/cleanup";
import type { Logger } from "../lib/logger";
import { AuthService } from "../modules/auth/service";
import { authSettings, createBookingCore } from "./facades";
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
 * changes they announce) and the waiting room's admissions. No HTTP app, no password threads
 * once started, no seeding: the API does those.
 */
export async function composeWorker(config: Config, options: SharedOptions = {}): Promise<Worker> {
  const shared = await openShared(config, options);
  const { logger } = shared;
  const core = createBookingCore({ ...shared, db: shared.database.db });
  await ensureConfiguredAdmin(shared);
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

/**
 * ADMIN_EMAIL is made an admin by whichever process starts first, the worker included (it may
 * be the only one restarted after the operator set it). One password thread does it and ends.
 */
async function ensureConfiguredAdmin({ config, database }: Shared): Promise<void> {
  if (!config.ADMIN_EMAIL || !config.ADMIN_PASSWORD) return;
  const passwords = new PasswordHasher({
    cost: config.BCRYPT_COST,
    size: 1,
    queueLimit: 1,
    maxWaitMs: config.PASSWORD_QUEUE_WAIT_MS,
  });
  try {
    const auth = new AuthService(database.db, passwords, authSettings(config));
    await auth.ensureAdmin({ email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD });
  } finally {
    passwords.close();
  }
}

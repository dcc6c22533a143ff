import { type App, createApp } from "../app";
import type { Config } from "../config";
import { PasswordHasher } from "../infra/password-hasher";
import type { CleanupDependencies } from "../jobs/cleanup";
import type { Logger } from "../lib/logger";
import { createHealthCheck, databaseProbe, schemaProbe } from "../modules/system/health";
import { createServices, type Services } from "./facades";
import { seedDemoData } from "./seed";
import { openShared, type Shared, type SharedOptions } from "./shared";

/** The API process: its HTTP app over the module facades. */
export interface Api {
  config: Config;
  logger: Logger;
  /** The module facades the routes call. */
  services: Services;
  app: App;
  /** The database, Redis and stores it runs on. */
  shared: Shared;
  /** What the scheduled cleanup calls, when this process runs it (embedded mode). */
  cleanup: CleanupDependencies;
  /** True when demo data was written at this start. */
  seeded: boolean;
  /** Ends live streams and password threads, then closes what it runs on. */
  close(): Promise<void>;
}

/** The API's composition root over adapters opened from the config. */
export async function composeApi(config: Config, options: SharedOptions = {}): Promise<Api> {
  return composeApiOn(await openShared(config, options));
}

/**
 * Builds every module's facade and the HTTP app over `shared` (and owns it from then on: the
 * API's close closes it), seeds an embedded first start and makes ADMIN_EMAIL an admin.
 */
export async function composeApiOn(shared: Shared): Promise<Api> {
  const { config, logger, database, redis, metrics } = shared;
  const health = createHealthCheck({
    required: { database: databaseProbe(database.db), schema: schemaProbe(database.db) },
    optional: {
      redis: redis
        ? async () => ((await redis.ping()) === "PONG" ? "ok" : "degraded")
        : async () => "embedded",
    },
  });
  const passwords = new PasswordHasher({
    cost: config.BCRYPT_COST,
    size: config.PASSWORD_WORKERS,
    queueLimit: config.PASSWORD_QUEUE_LIMIT,
    maxWaitMs: config.PASSWORD_QUEUE_WAIT_MS,
  });
  const services = createServices({ ...shared, db: database.db, health, passwords });
  metrics.addGauges({
    evently_seat_streams_open: {
      help: "Live seat map streams open on this instance, by show",
      label: "show_id",
      read: () => services.seatStreams.openByShow(),
    },
  });
  const close = async () => {
    services.seatChanges.close();
    await services.seatStreams.close();
    passwords.close();
    await shared.close();
  };

  const seeded =
    database.driver === "pglite" && config.SEED_DEMO_DATA
      ? await seedDemoData(database.db, services)
      : false;
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    await services.auth.ensureAdmin({
      email: config.ADMIN_EMAIL,
      password: config.ADMIN_PASSWORD,
    });
  }
  return {
    config,
    logger,
    services,
    app: createApp(services, {
      config,
      logger,
      metrics,
      rateLimitStore: shared.rateLimitStore,
    }),
    shared,
    cleanup: { bookings: services.bookings, logger },
    seeded,
    close,
  };
}

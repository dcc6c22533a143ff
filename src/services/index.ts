import type { Store } from "hono-rate-limiter";
import type { AppEnv } from "../app-env";
import type { Config } from "../config";
import type { Database } from "../db/client";
import type { SeatLocks } from "../infra/seat-locks";
import type { Logger } from "../lib/logger";
import { AdminService } from "./admin";
import { AuthService } from "./auth";
import { BookingViews } from "./booking-views";
import { BookingService } from "./bookings";
import { CatalogService } from "./catalog";
import type { HealthCheck } from "./health";
import { IdempotencyStore } from "./idempotency";

export interface Services {
  config: Config;
  db: Database;
  auth: AuthService;
  catalog: CatalogService;
  admin: AdminService;
  bookings: BookingService;
  bookingViews: BookingViews;
  idempotency: IdempotencyStore;
  locks: SeatLocks;
  /** Shared rate-limit counters (Redis); undefined → each limiter counts in memory. */
  rateLimitStore?: Store<AppEnv>;
  health: HealthCheck;
}

export interface ServiceDependencies {
  config: Config;
  db: Database;
  health: HealthCheck;
  locks: SeatLocks;
  rateLimitStore?: Store<AppEnv>;
  logger: Logger;
}

export function createServices(deps: ServiceDependencies): Services {
  return {
    config: deps.config,
    db: deps.db,
    auth: new AuthService(deps.db, {
      jwtSecret: deps.config.JWT_SECRET,
      jwtTtlSeconds: deps.config.JWT_TTL_SECONDS,
      bcryptCost: deps.config.BCRYPT_COST,
    }),
    catalog: new CatalogService(deps.db),
    admin: new AdminService(deps.db, deps.locks, deps.logger),
    bookings: new BookingService(
      deps.db,
      deps.locks,
      { holdTtlSeconds: deps.config.HOLD_TTL_SECONDS },
      deps.logger,
    ),
    bookingViews: new BookingViews(deps.db),
    idempotency: new IdempotencyStore(deps.db),
    locks: deps.locks,
    rateLimitStore: deps.rateLimitStore,
    health: deps.health,
  };
}

import type { Store } from "hono-rate-limiter";
import type { AppEnv } from "../app-env";
import type { Config } from "../config";
import type { Database } from "../db/client";
import type { Metrics } from "../infra/metrics";
import type { PasswordHasher } from "../infra/password-hasher";
import type { SeatLocks } from "../infra/seat-locks";
import type { SeatMapVersions } from "../infra/seat-map-versions";
import type { WaitingRoomStore } from "../infra/waiting-room-store";
import type { Logger } from "../lib/logger";
import { AdminService } from "./admin";
import { AuthService } from "./auth";
import { BookingViews } from "./booking-views";
import { BookingService } from "./bookings";
import { CatalogService } from "./catalog";
import type { HealthCheck } from "./health";
import { IdempotencyStore } from "./idempotency";
import type { AfterCommit } from "./seat-changes";
import { SeatMapService } from "./seat-map";
import { type AdmissionTrigger, WaitingRoom } from "./waiting-room";

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
  waitingRoom: WaitingRoom;
  seatMap: SeatMapService;
  /** Locks, logger, metrics and seat-change listeners: what runs after seat changes commit. */
  after: AfterCommit;
  metrics: Metrics;
  health: HealthCheck;
}

export interface ServiceDependencies {
  config: Config;
  db: Database;
  health: HealthCheck;
  locks: SeatLocks;
  rateLimitStore?: Store<AppEnv>;
  waitingRoomStore: WaitingRoomStore;
  admissionTrigger: AdmissionTrigger;
  passwords: PasswordHasher;
  metrics: Metrics;
  seatMapVersions: SeatMapVersions;
  logger: Logger;
}

export function createServices(deps: ServiceDependencies): Services {
  const { config } = deps;
  const waitingRoom = new WaitingRoom(
    deps.waitingRoomStore,
    {
      enabled: config.WAITING_ROOM_ENABLED,
      threshold: config.WAITING_ROOM_THRESHOLD,
      admissionTtlSeconds: config.ADMISSION_TTL_SECONDS,
    },
    deps.admissionTrigger,
    deps.logger,
  );
  const seatMap = new SeatMapService(deps.db, deps.seatMapVersions, deps.logger);
  const after: AfterCommit = {
    locks: deps.locks,
    logger: deps.logger,
    seatsChanged: (change) => seatMap.changed(change.showId),
    metrics: deps.metrics,
  };
  return {
    config,
    db: deps.db,
    auth: new AuthService(deps.db, deps.passwords, {
      jwtSecret: config.JWT_SECRET,
      jwtTtlSeconds: config.JWT_TTL_SECONDS,
    }),
    catalog: new CatalogService(deps.db),
    admin: new AdminService(deps.db, after),
    bookings: new BookingService(deps.db, after, waitingRoom, {
      holdTtlSeconds: config.HOLD_TTL_SECONDS,
    }),
    seatMap,
    after,
    metrics: deps.metrics,
    bookingViews: new BookingViews(deps.db),
    idempotency: new IdempotencyStore(deps.db),
    locks: deps.locks,
    rateLimitStore: deps.rateLimitStore,
    waitingRoom,
    health: deps.health,
  };
}

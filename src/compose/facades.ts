import { MemoryStore, type Store } from "hono-rate-limiter";
import type { Config } from "../config";
import type { Database } from "../db/client";
import type { StaleReads } from "../db/read-replica";
import type { Metrics } from "../infra/metrics";
import type { PasswordHasher } from "../infra/password-hasher";
import type { AfterCommit } from "../infra/seat-changes";
import type { SeatEvents } from "../infra/seat-events";
import type { SeatLocks } from "../infra/seat-locks";
import type { SeatMapVersions } from "../infra/seat-map-versions";
import type { WaitingRoomStore } from "../infra/waiting-room-store";
import type { CleanupDependencies } from "../jobs/cleanup";
import type { Logger } from "../lib/logger";
import { AnalyticsService } from "../modules/analytics/service";
import { LoginThrottle } from "../modules/auth/login-throttle";
import { AuthService } from "../modules/auth/service";
import { IdempotencyStore } from "../modules/booking/idempotency";
import { BookingService } from "../modules/booking/service";
import { BookingViews } from "../modules/booking/views";
import { AdminService } from "../modules/catalogue/admin-service";
import { CatalogService } from "../modules/catalogue/service";
import { SeatChangeAnnouncer } from "../modules/seat-map/announcer";
import { SeatMapService } from "../modules/seat-map/service";
import { SeatStreams } from "../modules/seat-map/streams";
import type { HealthCheck } from "../modules/system/health";
import { type AdmissionTrigger, WaitingRoom } from "../modules/waiting-room/service";
import { WaitlistService } from "../modules/waitlist/service";

export interface Services {
  config: Config;
  db: Database;
  auth: AuthService;
  catalog: CatalogService;
  admin: AdminService;
  bookings: BookingService;
  bookingViews: BookingViews;
  analytics: AnalyticsService;
  idempotency: IdempotencyStore;
  locks: SeatLocks;
  /** Shared rate-limit counters (Redis); undefined → each limiter counts in memory. */
  rateLimitStore?: Store;
  waitingRoom: WaitingRoom;
  /** Waitlists of sold-out shows and the users' notifications. */
  waitlist: WaitlistService;
  seatMap: SeatMapService;
  seatChanges: SeatChangeAnnouncer;
  /** Live seat maps (SSE): the per-instance bound and each stream's feed. */
  seatStreams: SeatStreams;
  /** Locks, logger, metrics and seat-change listeners: what runs after seat changes commit. */
  after: AfterCommit;
  /** What the scheduled cleanup works with (in the worker, or in process when embedded). */
  cleanup: CleanupDependencies;
  metrics: Metrics;
  health: HealthCheck;
}

export interface ServiceDependencies {
  config: Config;
  db: Database;
  /** Browsing, admin lists and analytics: on the read replica when there is one. */
  staleReads: StaleReads;
  health: HealthCheck;
  locks: SeatLocks;
  rateLimitStore?: Store;
  /** Shared failed-login counters (Redis); undefined → counted in memory. */
  loginFailureStore?: Store;
  waitingRoomStore: WaitingRoomStore;
  admissionTrigger: AdmissionTrigger;
  passwords: PasswordHasher;
  metrics: Metrics;
  /** Committed seat changes to every instance (Redis pub/sub, or in process). */
  seatEvents: SeatEvents;
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
  const seatChanges = new SeatChangeAnnouncer(seatMap, deps.seatEvents, deps.logger);
  const after: AfterCommit = {
    locks: deps.locks,
    logger: deps.logger,
    seatsChanged: (change) => seatChanges.announce(change),
    metrics: deps.metrics,
  };
  const bookings = new BookingService(deps.db, after, waitingRoom, {
    holdTtlSeconds: config.HOLD_TTL_SECONDS,
    waitlistOfferTtlSeconds: config.WAITLIST_OFFER_TTL_SECONDS,
    seatLimit: config.MAX_SEATS_PER_USER_PER_SHOW,
  });
  return {
    config,
    db: deps.db,
    auth: new AuthService(
      deps.db,
      deps.passwords,
      { jwtSecret: config.JWT_SECRET, jwtTtlSeconds: config.JWT_TTL_SECONDS },
      config.RATE_LIMIT_ENABLED
        ? new LoginThrottle(deps.loginFailureStore ?? new MemoryStore(), {
            maxFailures: config.LOGIN_FAILURES_PER_EMAIL,
            windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS,
            logger: deps.logger,
          })
        : undefined,
    ),
    catalog: new CatalogService(deps.staleReads),
    admin: new AdminService(deps.db, after, deps.staleReads),
    bookings,
    seatMap,
    seatChanges,
    seatStreams: new SeatStreams(deps.seatEvents, seatMap, deps.db, deps.logger, {
      maxStreams: config.SEAT_STREAM_MAX_PER_INSTANCE,
      maxPerClient: config.SEAT_STREAM_MAX_PER_CLIENT,
      heartbeatMs: config.SEAT_STREAM_HEARTBEAT_SECONDS * 1000,
      writeTimeoutMs: config.SEAT_STREAM_WRITE_TIMEOUT_SECONDS * 1000,
    }),
    after,
    cleanup: {
      ...after,
      db: deps.db,
      holdTtlSeconds: config.HOLD_TTL_SECONDS,
      batchSize: config.CLEANUP_BATCH_SIZE,
      waitlistOfferTtlSeconds: config.WAITLIST_OFFER_TTL_SECONDS,
      seatLimit: config.MAX_SEATS_PER_USER_PER_SHOW,
    },
    metrics: deps.metrics,
    bookingViews: new BookingViews(deps.db, deps.staleReads),
    analytics: new AnalyticsService(deps.staleReads),
    idempotency: new IdempotencyStore(deps.db),
    locks: deps.locks,
    rateLimitStore: deps.rateLimitStore,
    waitingRoom,
    waitlist: new WaitlistService(
      deps.db,
      after,
      async (showId, userId) =>
        waitingRoom.enter(showId, userId, (await bookings.timesOf(showId)).salesOpenAt),
      {
        ttlSeconds: config.WAITLIST_OFFER_TTL_SECONDS,
        seatLimit: config.MAX_SEATS_PER_USER_PER_SHOW,
      },
    ),
    health: deps.health,
  };
}

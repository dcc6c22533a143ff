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

/** The module facades the HTTP routes reach through `c.get("services")`: nothing else. */
export interface Services {
  auth: AuthService;
  catalog: CatalogService;
  admin: AdminService;
  bookings: BookingService;
  bookingViews: BookingViews;
  analytics: AnalyticsService;
  idempotency: IdempotencyStore;
  waitingRoom: WaitingRoom;
  /** Waitlists of sold-out shows and the users' notifications. */
  waitlist: WaitlistService;
  seatMap: SeatMapService;
  seatChanges: SeatChangeAnnouncer;
  /** Live seat maps (SSE): the per-instance bound and each stream's feed. */
  seatStreams: SeatStreams;
  metrics: Metrics;
  health: HealthCheck;
}

/** The adapters the booking core is built on, in the API and the worker alike. */
export interface CoreDependencies {
  config: Config;
  db: Database;
  locks: SeatLocks;
  waitingRoomStore: WaitingRoomStore;
  admissionTrigger: AdmissionTrigger;
  metrics: Metrics;
  /** Committed seat changes to every instance (Redis pub/sub, or in process). */
  seatEvents: SeatEvents;
  seatMapVersions: SeatMapVersions;
  logger: Logger;
}

/** What both processes run: holds and their expiry, the seat map they invalidate, admissions. */
export interface BookingCore {
  bookings: BookingService;
  waitingRoom: WaitingRoom;
  seatMap: SeatMapService;
  seatChanges: SeatChangeAnnouncer;
  /** Locks, logger, metrics and seat-change listeners: what runs after seat changes commit. */
  after: AfterCommit;
}

/** The token settings every AuthService is built with, in the API and in the worker. */
export const authSettings = (config: Config) => ({
  jwtSecret: config.JWT_SECRET,
  jwtTtlSeconds: config.JWT_TTL_SECONDS,
});

export function createBookingCore(deps: CoreDependencies): BookingCore {
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
    cleanupBatchSize: config.CLEANUP_BATCH_SIZE,
  });
  return { bookings, waitingRoom, seatMap, seatChanges, after };
}

export interface ServiceDependencies extends CoreDependencies {
  /** Browsing, admin lists and analytics: on the read replica when there is one. */
  staleReads: StaleReads;
  health: HealthCheck;
  /** Shared failed-login counters (Redis); undefined → counted in memory. */
  loginFailureStore?: Store;
  passwords: PasswordHasher;
}

/** Every module's facade, for the API. */
export function createServices(deps: ServiceDependencies): Services {
  const { config } = deps;
  const { bookings, waitingRoom, seatMap, seatChanges, after } = createBookingCore(deps);
  return {
    auth: new AuthService(
      deps.db,
      deps.passwords,
      authSettings(config),
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
    metrics: deps.metrics,
    bookingViews: new BookingViews(deps.db, deps.staleReads),
    analytics: new AnalyticsService(deps.staleReads),
    idempotency: new IdempotencyStore(deps.db),
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

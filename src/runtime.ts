import { Queue } from "bullmq";
import { createApp } from "./app";
import { assertDatabaseUsable, StartupError } from "./boot";
import type { Config } from "./config";
import { type DatabaseHandle, openDatabase } from "./db/client";
import { databaseConnections } from "./db/connections";
import { runMigrations } from "./db/migrate";
import { checkPooledSessionSettings } from "./db/pooled-session";
import { ReplicaReads, readsOnPrimary } from "./db/read-replica";
import { seedDemoData } from "./db/seed";
import { Metrics } from "./infra/metrics";
import { PasswordHasher } from "./infra/password-hasher";
import { RedisRateLimitStore } from "./infra/rate-limit-store";
import {
  connectRedis,
  RedisCircuit,
  type RedisClient,
  redisTarget,
  waitForRedis,
} from "./infra/redis";
import { MemorySeatEvents, RedisSeatEvents } from "./infra/seat-events";
import { MemorySeatLocks, RedisSeatLocks, type SeatLocks } from "./infra/seat-locks";
import { MemorySeatMapVersions, RedisSeatMapVersions } from "./infra/seat-map-versions";
import {
  MemoryWaitingRoomStore,
  RedisWaitingRoomStore,
  type WaitingRoomStore,
} from "./infra/waiting-room-store";
import {
  bullPrefix,
  CLEANUP_QUEUE,
  enqueueAdmission,
  queueDepths,
  WAITING_ROOM_QUEUE,
} from "./jobs/background";
import { createLogger, type Logger } from "./lib/logger";
import { createServices, type Services } from "./services";
import { createHealthCheck, databaseProbe, schemaProbe } from "./services/health";

const REDIS_START_WAIT_MS = 5000;

export interface Runtime {
  config: Config;
  logger: Logger;
  services: Services;
  app: ReturnType<typeof createApp>;
  database: DatabaseHandle;
  redis?: RedisClient;
  /** Fails Redis calls fast while Redis hangs; shared by the main and the queue connection. */
  redisCircuit?: RedisCircuit;
  waitingRoomStore: WaitingRoomStore;
  /** Admits the next in line of a show (what a waiting-room-queue job does), counted in metrics. */
  admitNext(showId: number): Promise<void>;
  /** True when demo data was written at this start. */
  seeded: boolean;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Use this database instead of opening one from the config (tests hand in their own). */
  database?: DatabaseHandle;
  logger?: Logger;
  /** Seat locks to use instead of the configured ones (tests point them at a dead Redis). */
  locks?: SeatLocks;
  /** Leave the handed-in database open on close (it belongs to someone else). */
  keepDatabaseOpen?: boolean;
}

/** Wires config, database, Redis and services into a ready app; shared by API, worker and tests. */
export async function startRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const pool = {
    poolMax: config.DB_POOL_MAX,
    prepare: config.DB_PREPARE,
    behindPgBouncer: config.DB_PGBOUNCER,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
    lockTimeoutMs: config.DB_LOCK_TIMEOUT_MS,
    planCacheMode: config.DB_PLAN_CACHE_MODE,
    connectTimeoutSeconds: config.DB_CONNECT_TIMEOUT_SECONDS,
    idleTimeoutSeconds: config.DB_IDLE_TIMEOUT_SECONDS,
  };
  const database =
    options.database ??
    (await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, ...pool }));
  if (config.DB_PGBOUNCER && database.driver === "postgres") {
    await checkPooledSessionSettings(database, {
      statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: config.DB_LOCK_TIMEOUT_MS,
    }).catch(async (error) => {
      if (!options.database) await database.close();
      throw error;
    });
  }
  // Production migrates explicitly (bun run db:migrate, the Docker entrypoint); embedded
  // mode has no operator to do it.
  if (database.driver === "pglite") await runMigrations(database);
  await assertDatabaseUsable(database, config.DATABASE_URL);

  // The replica's pool opens lazily: a replica that is down at start costs nothing but a log line.
  const staleReads =
    config.DATABASE_READ_URL && database.driver === "postgres"
      ? new ReplicaReads({
          primary: database.db,
          replica: await openDatabase({ url: config.DATABASE_READ_URL, ...pool }),
          maxLagMs: config.DATABASE_READ_MAX_LAG_SECONDS * 1000,
          logger,
        })
      : readsOnPrimary(database.db);

  let redis: RedisClient | undefined;
  let queueRedis: RedisClient | undefined;
  const target = redisTarget(config);
  const redisCircuit = target ? new RedisCircuit(logger) : undefined;
  if (target) {
    const connect = async (purpose: string) => {
      const client = connectRedis({
        ...target,
        commandTimeoutMs: config.REDIS_TIMEOUT_MS,
        circuit: redisCircuit,
      });
      // ioredis reconnects by itself; without a listener its errors would be printed unformatted.
      // While starting, its retries are one failure: the start-up error names the last one.
      let lastError = `no answer within ${REDIS_START_WAIT_MS} ms`;
      const remember = (error: Error) => {
        lastError = error.message;
      };
      client.on("error", remember);
      try {
        await waitForRedis(client, REDIS_START_WAIT_MS);
      } catch {
        client.disconnect();
        throw new StartupError(
          "redis_unreachable",
          `Redis at ${new URL(config.REDIS_URL as string).host} is unreachable (${lastError})`,
        );
      }
      client.off("error", remember);
      client.on("error", (error) =>
        logger.warn("redis connection error", { client: purpose, error: String(error) }),
      );
      return client;
    };
    const main = await connect("main");
    redis = main;
    // BullMQ defines its ~60 Lua scripts on the connection it is given, and ioredis copies
    // every defined script onto each auto-pipeline it builds: on the hot path's client that
    // cost every seat lock command a measurable share of the API's CPU.
    queueRedis = await connect("queues").catch((error) => {
      main.disconnect();
      throw error;
    });
  } else if (!config.embedded) {
    logger.warn(
      "Neither REDIS_URL nor REDIS_CLUSTER_NODES is set: locks and limits are per process; run one API instance only",
    );
  }

  const redisClient = redis;
  const health = createHealthCheck({
    required: { database: databaseProbe(database.db), schema: schemaProbe(database.db) },
    optional: {
      redis: redisClient
        ? async () => ((await redisClient.ping()) === "PONG" ? "ok" : "degraded")
        : async () => "embedded",
    },
  });
  const locks: SeatLocks =
    options.locks ??
    (redisClient
      ? new RedisSeatLocks(redisClient, config.REDIS_KEY_PREFIX)
      : new MemorySeatLocks());
  const rateLimitStore = redisClient
    ? new RedisRateLimitStore(redisClient, `${config.REDIS_KEY_PREFIX}rate:`)
    : undefined;
  const loginFailureStore = redisClient
    ? new RedisRateLimitStore(redisClient, `${config.REDIS_KEY_PREFIX}login-failures:`)
    : undefined;
  const roomSettings = {
    threshold: config.WAITING_ROOM_THRESHOLD,
    admissionTtlMs: config.ADMISSION_TTL_SECONDS * 1000,
    abandonMs: config.QUEUE_ABANDON_SECONDS * 1000,
    onLineAdmissions: (count: number) => metrics.recordAdmissions(count),
  };
  const waitingRoomStore = redisClient
    ? new RedisWaitingRoomStore(redisClient, roomSettings, config.REDIS_KEY_PREFIX)
    : new MemoryWaitingRoomStore(roomSettings);
  // With Redis a worker admits the next in line (waiting-room-queue); embedded, this process.
  const admissionQueue = queueRedis
    ? new Queue(WAITING_ROOM_QUEUE, { connection: queueRedis, prefix: bullPrefix(config) })
    : undefined;
  const admitNext = async (showId: number) => {
    await waitingRoomStore.admitNext(showId, Date.now());
  };
  const admissionTrigger = async (showId: number) => {
    if (admissionQueue) await enqueueAdmission(admissionQueue, showId);
    else await admitNext(showId);
  };
  const passwords = new PasswordHasher({
    cost: config.BCRYPT_COST,
    size: config.PASSWORD_WORKERS,
    queueLimit: config.PASSWORD_QUEUE_LIMIT,
    maxWaitMs: config.PASSWORD_QUEUE_WAIT_MS,
  });
  // Read-only handles for queue depths; the worker process consumes these queues.
  const observedQueues = queueRedis
    ? [
        new Queue(CLEANUP_QUEUE, { connection: queueRedis, prefix: bullPrefix(config) }),
        admissionQueue as Queue,
      ]
    : [];
  // They share `queueRedis`, whose errors are logged above; BullMQ re-emits each one per queue.
  for (const queue of observedQueues) {
    queue.on("error", (error) => logger.debug("queue connection error", { error: String(error) }));
  }
  const metrics = new Metrics({
    evently_waiting_room_queued: {
      help: "Users waiting in each show's waiting-room line (polled within QUEUE_ABANDON_SECONDS)",
      label: "show_id",
      read: () => waitingRoomStore.lineLengths(Date.now()),
    },
    evently_db_connections: {
      help: "Connections to this database by state (all instances), and this pool's maximum",
      label: "state",
      read: () => databaseConnections(database, config.DB_POOL_MAX),
    },
    evently_seat_streams_open: {
      help: "Live seat map streams open on this instance, by show",
      label: "show_id",
      read: () => services.seatStreams.openByShow(),
    },
    evently_redis_circuit: {
      help: "1 for the state of the Redis circuit breaker: closed (calls go to Redis) or open (a call timed out; calls fail fast until Redis answers a probe)",
      label: "state",
      read: async (): Promise<Record<string, number>> => {
        if (!redisCircuit) return {};
        const open = Number(redisCircuit.isOpen);
        return { closed: 1 - open, open };
      },
    },
    evently_queue_jobs: {
      help: "BullMQ jobs waiting, active or delayed",
      label: "queue",
      read: () => queueDepths(observedQueues),
    },
    ...(redisClient && {
      evently_redis_up: {
        help: "1 when Redis answers this instance, 0 when it is down or too slow to answer",
        read: async () => {
          await Promise.all([redisClient.ping(), queueRedis?.ping()]);
          return 1;
        },
        unanswered: 0,
      },
    }),
  });
  const services = createServices({
    config,
    db: database.db,
    staleReads,
    health,
    locks,
    rateLimitStore,
    loginFailureStore,
    waitingRoomStore,
    admissionTrigger,
    passwords,
    metrics,
    seatEvents: redisClient
      ? new RedisSeatEvents(redisClient, {
          prefix: config.REDIS_KEY_PREFIX,
          logger,
          circuit: redisCircuit,
        })
      : new MemorySeatEvents(logger),
    seatMapVersions: redisClient
      ? new RedisSeatMapVersions(redisClient, config.REDIS_KEY_PREFIX)
      : new MemorySeatMapVersions(),
    logger,
  });

  const seeded =
    database.driver === "pglite" && config.SEED_DEMO_DATA ? await seedDemoData(services) : false;
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    await services.auth.ensureAdmin({ email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD });
  }

  const app = createApp(services, logger);
  return {
    config,
    logger,
    services,
    app,
    database,
    redis,
    redisCircuit,
    waitingRoomStore,
    admitNext,
    seeded,
    async close() {
      services.seatChanges.close();
      await services.seatStreams.close();
      passwords.close();
      await Promise.all(observedQueues.map((queue) => queue.close()));
      redisCircuit?.close();
      redis?.disconnect();
      queueRedis?.disconnect();
      await staleReads.close();
      if (!options.keepDatabaseOpen) await database.close();
    },
  };
}

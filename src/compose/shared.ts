import { Queue } from "bullmq";
import type { Store } from "hono-rate-limiter";
import { assertDatabaseUsable, StartupError } from "../boot";
import type { Config } from "../config";
import { type DatabaseHandle, openDatabase } from "../db/client";
import { databaseConnections } from "../db/connections";
import { runMigrations } from "../db/migrate";
import { checkPooledSessionSettings, SessionSettingsError } from "../db/pooled-session";
import { ReplicaReads, readsOnPrimary, type StaleReads } from "../db/read-replica";
import { Metrics } from "../infra/metrics";
import { RedisRateLimitStore } from "../infra/rate-limit-store";
import {
  connectRedis,
  RedisCircuit,
  type RedisClient,
  type RedisTarget,
  redisTarget,
  waitForRedis,
} from "../infra/redis";
import { MemorySeatEvents, RedisSeatEvents, type SeatEvents } from "../infra/seat-events";
import { MemorySeatLocks, RedisSeatLocks, type SeatLocks } from "../infra/seat-locks";
import {
  MemorySeatMapVersions,
  RedisSeatMapVersions,
  type SeatMapVersions,
} from "../infra/seat-map-versions";
import {
  MemoryWaitingRoomStore,
  RedisWaitingRoomStore,
  type RoomSettings,
  type WaitingRoomStore,
} from "../infra/waiting-room-store";
import {
  bullPrefix,
  CLEANUP_QUEUE,
  enqueueAdmission,
  queueDepths,
  WAITING_ROOM_QUEUE,
} from "../jobs/background";
import { createLogger, type Logger } from "../lib/logger";
import type { AdmissionTrigger } from "../modules/waiting-room/service";

const REDIS_START_WAIT_MS = 5000;

/**
 * The adapters the API and the worker both run on: the database (and its replica), the two
 * Redis connections and the stores on them. Built once per process by `openShared`.
 */
export interface Shared {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  /** Browsing, admin lists and analytics: on the read replica when there is one. */
  staleReads: StaleReads;
  redis?: RedisClient;
  /** The connection BullMQ's queues use (see `openShared`). */
  queueRedis?: RedisClient;
  /** Fails Redis calls fast while Redis hangs; shared by the main and the queue connection. */
  redisCircuit?: RedisCircuit;
  locks: SeatLocks;
  /** Shared rate-limit counters (Redis); undefined → each limiter counts in memory. */
  rateLimitStore?: Store;
  /** Shared failed-login counters (Redis); undefined → counted in memory. */
  loginFailureStore?: Store;
  waitingRoomStore: WaitingRoomStore;
  /** Asks for the next in line of a show to be admitted: a queued job, or at once embedded. */
  admissionTrigger: AdmissionTrigger;
  /** Read-only handles on the queues, for their depths in /metrics. */
  observedQueues: Queue[];
  seatEvents: SeatEvents;
  seatMapVersions: SeatMapVersions;
  /** This process's counters and the gauges both processes expose. */
  metrics: Metrics;
  /** Closes what `openShared` opened, in reverse order. */
  close(): Promise<void>;
}

export interface SharedOptions {
  /** Use this database instead of opening one from the config (tests hand in their own). */
  database?: DatabaseHandle;
  logger?: Logger;
  /** Leave the handed-in database open on close (it belongs to someone else). */
  keepDatabaseOpen?: boolean;
}

/** Database settings common to the primary and the replica pool. */
function poolSettings(config: Config) {
  return {
    poolMax: config.DB_POOL_MAX,
    prepare: config.DB_PREPARE,
    behindPgBouncer: config.DB_PGBOUNCER,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
    lockTimeoutMs: config.DB_LOCK_TIMEOUT_MS,
    planCacheMode: config.DB_PLAN_CACHE_MODE,
    connectTimeoutSeconds: config.DB_CONNECT_TIMEOUT_SECONDS,
    idleTimeoutSeconds: config.DB_IDLE_TIMEOUT_SECONDS,
  };
}

/** The database, checked usable: refuses to start (StartupError) on a database it cannot serve. */
async function openCheckedDatabase(
  config: Config,
  options: SharedOptions,
): Promise<DatabaseHandle> {
  const database =
    options.database ??
    (await openDatabase({
      url: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      ...poolSettings(config),
    }));
  try {
    if (config.DB_PGBOUNCER && database.driver === "postgres") {
      await checkPooledSessionSettings(database, {
        statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
        lockTimeoutMs: config.DB_LOCK_TIMEOUT_MS,
      }).catch((error) => {
        throw error instanceof SessionSettingsError
          ? new StartupError("pgbouncer_settings", error.message)
          : error;
      });
    }
    // Production migrates explicitly (bun run db:migrate, the Docker entrypoint); embedded
    // mode has no operator to do it.
    if (database.driver === "pglite") await runMigrations(database);
    await assertDatabaseUsable(database, config.DATABASE_URL);
    return database;
  } catch (error) {
    // A refused start must not leave its pool open (tests and embedded callers go on running).
    if (!options.database) await database.close();
    throw error;
  }
}

/** The replica's pool opens lazily: a replica that is down at start costs nothing but a log line. */
async function openStaleReads(
  config: Config,
  database: DatabaseHandle,
  logger: Logger,
): Promise<StaleReads> {
  return config.DATABASE_READ_URL && database.driver === "postgres"
    ? new ReplicaReads({
        primary: database.db,
        replica: await openDatabase({ url: config.DATABASE_READ_URL, ...poolSettings(config) }),
        maxLagMs: config.DATABASE_READ_MAX_LAG_SECONDS * 1000,
        logger,
      })
    : readsOnPrimary(database.db);
}

/** Where Redis was looked for, without credentials: a URL's host or the cluster's nodes. */
function describeRedis(target: RedisTarget): string {
  return "url" in target
    ? `Redis at ${new URL(target.url).host}`
    : `Redis Cluster at ${target.clusterNodes.join(",")}`;
}

/**
 * The main Redis connection and the queues' own one, or none without REDIS_URL /
 * REDIS_CLUSTER_NODES. Refuses to start (StartupError `redis_unreachable`) when Redis is set
 * but does not answer.
 */
async function connectRedisPair(
  config: Config,
  logger: Logger,
): Promise<{ redis?: RedisClient; queueRedis?: RedisClient; redisCircuit?: RedisCircuit }> {
  const target = redisTarget(config);
  if (!target) {
    if (!config.embedded) {
      logger.warn(
        "Neither REDIS_URL nor REDIS_CLUSTER_NODES is set: locks and limits are per process; run one API instance only",
      );
    }
    return {};
  }
  const redisCircuit = new RedisCircuit(logger);
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
        `${describeRedis(target)} is unreachable (${lastError})`,
      );
    }
    client.off("error", remember);
    client.on("error", (error) =>
      logger.warn("redis connection error", { client: purpose, error: String(error) }),
    );
    return client;
  };
  const redis = await connect("main");
  // BullMQ defines its ~60 Lua scripts on the connection it is given, and ioredis copies
  // every defined script onto each auto-pipeline it builds: the queues get a connection of
  // their own so the seat locks' pipelines stay small.
  const queueRedis = await connect("queues").catch((error) => {
    redis.disconnect();
    throw error;
  });
  return { redis, queueRedis, redisCircuit };
}

/** Wires the database, Redis and the stores on them: what the API and the worker share. */
export async function openShared(config: Config, options: SharedOptions = {}): Promise<Shared> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const database = await openCheckedDatabase(config, options);
  const staleReads = await openStaleReads(config, database, logger);
  const { redis, queueRedis, redisCircuit } = await connectRedisPair(config, logger).catch(
    async (error) => {
      await staleReads.close();
      if (!options.database) await database.close();
      throw error;
    },
  );

  const roomSettings = {
    threshold: config.WAITING_ROOM_THRESHOLD,
    admissionTtlMs: config.ADMISSION_TTL_SECONDS * 1000,
    abandonMs: config.QUEUE_ABANDON_SECONDS * 1000,
    onLineAdmissions: (count: number) => metrics.recordAdmissions(count),
  };
  const stores = sharedStores(config, logger, roomSettings, redis, redisCircuit);
  const { waitingRoomStore } = stores;
  // With Redis a worker admits the next in line (waiting-room-queue); embedded, this process.
  const admissionQueue = queueRedis
    ? new Queue(WAITING_ROOM_QUEUE, { connection: queueRedis, prefix: bullPrefix(config) })
    : undefined;
  const admissionTrigger = async (showId: number) => {
    if (admissionQueue) await enqueueAdmission(admissionQueue, showId);
    else await waitingRoomStore.admitNext(showId, Date.now());
  };
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

  const metrics: Metrics = new Metrics({
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
    ...(redis && {
      evently_redis_up: {
        help: "1 when Redis answers this instance, 0 when it is down or too slow to answer",
        read: async () => {
          await Promise.all([redis.ping(), queueRedis?.ping()]);
          return 1;
        },
        unanswered: 0,
      },
    }),
  });

  return {
    config,
    logger,
    database,
    metrics,
    staleReads,
    redis,
    queueRedis,
    redisCircuit,
    ...stores,
    admissionTrigger,
    observedQueues,
    async close() {
      await Promise.all(observedQueues.map((queue) => queue.close()));
      redisCircuit?.close();
      redis?.disconnect();
      queueRedis?.disconnect();
      await staleReads.close();
      if (!options.keepDatabaseOpen) await database.close();
    },
  };
}

type SharedStores = Pick<
  Shared,
  | "locks"
  | "rateLimitStore"
  | "loginFailureStore"
  | "waitingRoomStore"
  | "seatEvents"
  | "seatMapVersions"
>;

/**
 * The state every instance must share: on Redis, under the key prefix; embedded (no Redis),
 * in this process's memory, and the limiters count in memory too.
 */
function sharedStores(
  config: Config,
  logger: Logger,
  roomSettings: RoomSettings,
  redis: RedisClient | undefined,
  circuit: RedisCircuit | undefined,
): SharedStores {
  const prefix = config.REDIS_KEY_PREFIX;
  if (!redis) {
    return {
      locks: new MemorySeatLocks(),
      waitingRoomStore: new MemoryWaitingRoomStore(roomSettings),
      seatEvents: new MemorySeatEvents(logger),
      seatMapVersions: new MemorySeatMapVersions(),
    };
  }
  return {
    locks: new RedisSeatLocks(redis, prefix),
    rateLimitStore: new RedisRateLimitStore(redis, `${prefix}rate:`),
    loginFailureStore: new RedisRateLimitStore(redis, `${prefix}login-failures:`),
    waitingRoomStore: new RedisWaitingRoomStore(redis, roomSettings, prefix),
    seatEvents: new RedisSeatEvents(redis, { prefix, logger, circuit }),
    seatMapVersions: new RedisSeatMapVersions(redis, prefix),
  };
}

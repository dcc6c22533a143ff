import { randomBytes } from "node:crypto";
import type { RedisTarget } from "../../src/infra/redis";
import type { Cleanup } from "./cleanup";
import {
  createDatabase,
  dropDatabase,
  setDatabaseTimeouts,
  databaseUrl as urlOfDatabase,
} from "./databases";
import { writeHaproxyConfig } from "./load-balancer";
import type { BenchOptions } from "./options";
import {
  type Child,
  freePort,
  runToCompletion,
  spawnChild,
  stopChild,
  waitForHttp,
} from "./processes";
import { deleteKeysWithPrefix, openRedis } from "./redis";

export interface Credentials {
  email: string;
  password: string;
}

/** The system under test, as the scenarios see it. */
export interface Target {
  baseUrls: string[];
  /** The target's database, when the bench may query it (users in SQL, oversell check). */
  databaseUrl?: string;
  /** Redis and REDIS_KEY_PREFIX of the target, for the seat-lock part of the oversell check. */
  redis: RedisTarget;
  redisPrefix: string;
  /** The target's JWT_SECRET, when known: user tokens are then signed by the bench. */
  jwtSecret?: string;
  admin: Credentials;
  /** How it was started, and what the bench cannot do against it. */
  notes: string[];
  /** The children's output, checked for warnings at the end. */
  logFiles: string[];
  /** The processes started for this run (none for a target somebody else started). */
  processes: { name: string; pid: number }[];
}

/** What startLocalTarget needs: the bench's options, or the soak's. */
export interface LocalTargetSettings {
  runId: string;
  instances: number;
  /** "haproxy": several instances are reached through HAProxy (TRUST_PROXY=1) at one URL. */
  loadBalancer?: "haproxy" | "none";
  /** Maintenance database of the local PostgreSQL, where the scratch database is made. */
  pgUrl: string;
  redisUrl: string;
  /** A Redis Cluster to use instead of redisUrl (REDIS_CLUSTER_NODES of the children). */
  redisClusterNodes?: string[];
  /**
   * A PgBouncer in transaction pooling the API and the worker connect through (DB_PGBOUNCER=1);
   * migrations, setup and checks go to PostgreSQL directly.
   */
  pgbouncerUrl?: string;
  /** Names the database `evently_<purpose>_<run id>` and the Redis prefix; "bench" by default. */
  purpose?: string;
  /** Variables set on top of the bench's environment (e.g. a short HOLD_TTL_SECONDS). */
  env?: Record<string, string>;
}

/**
 * The tunable part of the children's environment: rate limits and the waiting room off (they
 * would refuse or queue the load the bench is made of), holds that outlast the run, and quiet
 * logs. LocalTargetSettings.env overrides any of them.
 */
const BENCH_SETTINGS: Record<string, string> = {
  RATE_LIMIT_ENABLED: "0",
  WAITING_ROOM_ENABLED: "0",
  LOG_LEVEL: "warn",
  HOLD_TTL_SECONDS: "600",
};

/** The Redis of the run: the cluster when nodes are given, else the one server. */
function benchRedis(options: { redisUrl: string; redisClusterNodes?: string[] }): RedisTarget {
  return options.redisClusterNodes
    ? { clusterNodes: options.redisClusterNodes }
    : { url: options.redisUrl };
}

/** The timeouts PostgreSQL must apply when PgBouncer cannot pass them on (the app's defaults). */
const POOLED_TIMEOUTS = { DB_STATEMENT_TIMEOUT_MS: "10000", DB_LOCK_TIMEOUT_MS: "5000" };

/**
 * The production-mode environment of the API and worker children: a fresh database, a Redis
 * (one server or a cluster) and a prefix of their own, then the settings.
 */
function evently(
  redis: RedisTarget,
  databaseUrl: string,
  redisPrefix: string,
  jwtSecret: string,
  admin: Credentials,
  settings: Record<string, string>,
) {
  const { REDIS_URL, REDIS_CLUSTER_NODES, ...inherited } = process.env;
  return {
    ...inherited,
    NODE_ENV: "production",
    DATABASE_URL: databaseUrl,
    ...("url" in redis
      ? { REDIS_URL: redis.url }
      : { REDIS_CLUSTER_NODES: redis.clusterNodes.join(",") }),
    REDIS_KEY_PREFIX: redisPrefix,
    JWT_SECRET: jwtSecret,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    ...settings,
  };
}

/**
 * Starts Evently on a fresh database: migrations, the worker, then `instances` API processes
 * on their own ports, each ready once /health answers. Everything it creates is registered
 * with `cleanup` (children stopped first, then the Redis keys, then the database).
 */
export async function startLocalTarget(
  options: LocalTargetSettings,
  cleanup: Cleanup,
  logDir: string,
): Promise<Target> {
  const purpose = options.purpose ?? "bench";
  const databaseName = `evently_${purpose}_${options.runId}`;
  const redisPrefix = `${purpose}:${options.runId}:`;
  const jwtSecret = randomBytes(32).toString("hex");
  const admin = {
    email: `${purpose}-admin@example.com`,
    password: randomBytes(16).toString("hex"),
  };
  const settings = {
    ...BENCH_SETTINGS,
    ...(options.pgbouncerUrl ? POOLED_TIMEOUTS : {}),
    ...options.env,
  };
  const redisTarget = benchRedis(options);

  const databaseUrl = await createDatabase(options.pgUrl, databaseName);
  cleanup.add(`drop database ${databaseName}`, () => dropDatabase(options.pgUrl, databaseName));
  cleanup.add(`delete Redis keys ${redisPrefix}*`, async () => {
    const redis = await openRedis(redisTarget);
    try {
      await deleteKeysWithPrefix(redis, redisPrefix);
    } finally {
      redis.disconnect();
    }
  });

  const direct = evently(redisTarget, databaseUrl, redisPrefix, jwtSecret, admin, settings);
  // Migrations may take longer than a request's statement_timeout: they go to PostgreSQL directly.
  await runToCompletion([process.execPath, "run", "scripts/migrate.ts"], direct);
  if (options.pgbouncerUrl) {
    await setDatabaseTimeouts(options.pgUrl, databaseName, {
      statementTimeoutMs: Number(settings.DB_STATEMENT_TIMEOUT_MS),
      lockTimeoutMs: Number(settings.DB_LOCK_TIMEOUT_MS),
    });
  }
  const env = options.pgbouncerUrl
    ? {
        ...direct,
        DATABASE_URL: urlOfDatabase(options.pgbouncerUrl, databaseName),
        DB_PGBOUNCER: "1",
      }
    : direct;

  const children: Child[] = [];
  cleanup.add("stop Evently", async () => {
    await Promise.all(children.map((child) => stopChild(child)));
  });
  const worker = spawnChild(
    "worker",
    [process.execPath, "run", "src/worker.ts"],
    env,
    `${logDir}/worker.log`,
  );
  children.push(worker);
  const balanced = options.loadBalancer === "haproxy" && options.instances > 1;
  const apis = Array.from({ length: options.instances }, (_, index) => {
    const port = freePort();
    const child = spawnChild(
      `api-${index + 1}`,
      [process.execPath, "run", "src/index.ts"],
      { ...env, PORT: String(port), ...(balanced ? { TRUST_PROXY: "1" } : {}) },
      `${logDir}/api-${index + 1}.log`,
    );
    children.push(child);
    return { child, baseUrl: `http://127.0.0.1:${port}` };
  });
  await Promise.all(apis.map(({ child, baseUrl }) => waitForHttp(`${baseUrl}/health`, child)));
  if (worker.process.exitCode !== null) {
    throw new Error(`the worker exited with code ${worker.process.exitCode}`);
  }
  const baseUrls = balanced
    ? [await startHaproxy(apis, logDir, children)]
    : apis.map(({ baseUrl }) => baseUrl);

  return {
    baseUrls,
    databaseUrl,
    redis: redisTarget,
    redisPrefix,
    jwtSecret,
    admin,
    notes: [
      `Evently started by the ${purpose}: ${options.instances} API process(es) + 1 worker, ` +
        `${balanced ? "behind HAProxy (TRUST_PROXY=1), " : ""}` +
        `${options.redisClusterNodes ? `Redis Cluster ${options.redisClusterNodes.join(",")}, ` : ""}` +
        `${options.pgbouncerUrl ? "PostgreSQL through PgBouncer (migrations directly), " : ""}` +
        `NODE_ENV=production, database ${databaseName}, REDIS_KEY_PREFIX=${redisPrefix}, ` +
        `${Object.entries(settings)
          .map(([name, value]) => `${name}=${value}`)
          .join(", ")}.`,
    ],
    logFiles: children.map((child) => child.logFile),
    processes: children.map((child) => ({ name: child.name, pid: child.process.pid })),
  };
}

/** HAProxy in front of `apis`, as docs/scaling.md configures it; answers its URL once ready. */
async function startHaproxy(
  apis: { baseUrl: string }[],
  logDir: string,
  children: Child[],
): Promise<string> {
  const port = freePort();
  const upstreams = apis.map(({ baseUrl }, index) => ({ name: `api-${index + 1}`, baseUrl }));
  const config = writeHaproxyConfig({ dir: logDir, port, upstreams });
  const haproxy = spawnChild(
    "haproxy",
    ["haproxy", "-db", "-f", config],
    process.env,
    `${logDir}/haproxy.log`,
  );
  children.push(haproxy);
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${baseUrl}/health/ready`, haproxy);
  return baseUrl;
}

/**
 * A server somebody else started (BENCH_BASE_URL). The bench needs its admin account
 * (ADMIN_EMAIL/ADMIN_PASSWORD). With BENCH_DATABASE_URL (and then JWT_SECRET) it creates users
 * in SQL, signs their tokens and checks for overselling (Redis keys under REDIS_KEY_PREFIX);
 * without it, users register through the API and the checks are skipped.
 */
export function externalTarget(
  options: BenchOptions,
  env: Record<string, string | undefined>,
): Target {
  const baseUrls = options.baseUrls ?? [];
  if (!env.ADMIN_EMAIL || !env.ADMIN_PASSWORD) {
    throw new Error("With BENCH_BASE_URL, set ADMIN_EMAIL and ADMIN_PASSWORD of the target");
  }
  if (options.targetDatabaseUrl && !env.JWT_SECRET) {
    throw new Error("With BENCH_DATABASE_URL, set JWT_SECRET of the target to sign user tokens");
  }
  const notes = [
    `Targeting running server(s) ${baseUrls.join(", ")}: they must run with ` +
      "RATE_LIMIT_ENABLED=0 and WAITING_ROOM_ENABLED=0; the bench's venue, shows and users stay there.",
  ];
  if (!options.targetDatabaseUrl) {
    notes.push(
      "No BENCH_DATABASE_URL: users are registered through the API (one bcrypt hash each, slow) " +
        "and the oversell checks are skipped.",
    );
  }
  return {
    baseUrls,
    databaseUrl: options.targetDatabaseUrl,
    redis: benchRedis(options),
    redisPrefix: env.REDIS_KEY_PREFIX ?? "",
    jwtSecret: env.JWT_SECRET,
    admin: { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD },
    notes,
    logFiles: [],
    processes: [],
  };
}

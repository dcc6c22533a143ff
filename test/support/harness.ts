import { type SQL, sql } from "drizzle-orm";
import type { ClientResponse } from "hono/client";
import { testClient } from "hono/testing";
import postgres from "postgres";
import { deleteKeysWithPrefix } from "../../scripts/bench/redis";
import type { App } from "../../src/app";
import { type Api, composeApiOn } from "../../src/compose/api";
import { openShared } from "../../src/compose/shared";
import { type Config, loadConfig } from "../../src/config";
import { type DatabaseHandle, openDatabase } from "../../src/db/client";
import { runMigrations } from "../../src/db/migrate";
import { connectRedis, type RedisTarget, waitForRedis } from "../../src/infra/redis";
import type { SeatLocks } from "../../src/infra/seat-locks";
import type { ErrorCode, ErrorDetails, errorCatalogue } from "../../src/lib/errors";
import { createLogger, type Logger } from "../../src/lib/logger";
import {
  type Backend,
  databaseUrl,
  pgbouncerUrl,
  redisUrl,
  replicaUrl,
  requireRedisCluster,
  requireUrl,
} from "./services";

export const TEST_JWT_SECRET = "test-secret-that-is-at-least-32-characters-long";

/** Setup builds an app and data through the API: generous, as CI machines may be busy. */
export const SETUP_TIMEOUT_MS = 60_000;
/** The largest id a route accepts (PostgreSQL's int): an id that is valid but never exists. */
export const MAX_ID = 2_147_483_647;

export interface TestApp {
  runtime: Api;
  config: Config;
  backend: Backend;
  /**
   * The app's routes under /api/v1 through Hono's typed client, as the holder of `token` (none:
   * anonymous) with `headers` on every request: paths, parameters, bodies and answers are
   * checked against the routes' schemas. Read an answer with `answer()`.
   */
  client(token?: string, headers?: Record<string, string>): ApiClient;
  /**
   * Sends a request through the app exactly as a client would, unchecked: for input the typed
   * client cannot send (malformed bodies, wrong types, raw paths).
   */
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  close(): Promise<void>;
}

export type ApiClient = ReturnType<typeof testClient<App>>["api"]["v1"];

/**
 * A typed answer: one member per status the route's handler answers, with the body its schema
 * gives, and one for any error status, with the catalogue's error shape (the client's types
 * know only what handlers return; errors are thrown and mapped by the error handler). A test
 * that checks the status reads the body of that status with `bodyAt` or `ok`.
 */
export type Answer<R> =
  | (R extends ClientResponse<infer Body, infer Status, infer _Format>
      ? { status: Status; headers: Headers; body: Body; text: string }
      : never)
  | { status: ErrorStatus; headers: Headers; body: ErrorBody; text: string };

type ErrorStatus = (typeof errorCatalogue)[ErrorCode]["status"];

/** The error shape of the contract, one member per catalogue code. */
export type ErrorBody<C extends ErrorCode = ErrorCode> = {
  [Code in C]: { code: Code; message: string; details: ErrorDetails<Code> };
}[C];

/** Reads a typed client's response as a test reads it: status, headers, parsed body, text. */
export async function answer<R extends ClientResponse<unknown, number, string>>(
  pending: Promise<R>,
): Promise<Answer<R>> {
  const response = await pending;
  const text = await response.text();
  const json = response.headers.get("Content-Type")?.includes("application/json");
  const body: unknown = json ? JSON.parse(text) : text;
  return { status: response.status, headers: response.headers, body, text } as Answer<R>;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: string;
  token?: string;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
  body: any;
  text: string;
}

/** `server`'s URL with `database` as its database. */
export function onDatabase(server: string, database: string): string {
  const url = new URL(server);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A fresh, empty PostgreSQL database for one test file; dropped by the returned cleanup. */
export async function createScratchDatabase(): Promise<{
  name: string;
  url: string;
  drop: () => Promise<void>;
}> {
  if (!databaseUrl) throw new Error("DATABASE_URL is not set");
  const name = `evently_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  return {
    name,
    url: onDatabase(databaseUrl, name),
    drop: async () => {
      const cleaner = postgres(databaseUrl as string, { max: 1, onnotice: () => {} });
      await cleaner.unsafe(`drop database if exists ${name} with (force)`);
      await cleaner.end();
    },
  };
}

export interface TestAppOptions {
  /** Seat locks to use instead of the configured ones. */
  locks?: SeatLocks;
  /**
   * A second API instance: same database and Redis keys as `app`, but its own pool, Redis
   * connection and services (on PGlite, which is single-process, the same handle).
   */
  sameDataAs?: TestApp;
  /**
   * Postgres backend only: the app's pool goes through PgBouncer (PGBOUNCER_URL) with
   * DB_PGBOUNCER=1; its timeouts are set on the test database, as an operator sets them on
   * the role (the role here is shared by every test run).
   */
  throughPgBouncer?: boolean;
  /** Postgres backend only: DATABASE_READ_URL is the test database on the replica. */
  readReplica?: boolean;
  /** Where the app logs (silent unless LOG_LEVEL says otherwise). */
  logger?: Logger;
}

export async function createTestApp(
  backend: Backend,
  env: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  let database: DatabaseHandle;
  let dropDatabase = async () => {};
  let closeDatabase = true;
  const baseEnv: Record<string, string> = {
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    BCRYPT_COST: "4",
    SEED_DEMO_DATA: "0",
    JWT_SECRET: TEST_JWT_SECRET,
    // Suites make many requests as one user; the traffic suites switch these back on.
    RATE_LIMIT_ENABLED: "0",
    WAITING_ROOM_ENABLED: "0",
  };
  const twin = options.sameDataAs;
  if (twin) {
    Object.assign(baseEnv, {
      DATABASE_URL: twin.config.DATABASE_URL ?? "",
      REDIS_URL: twin.config.REDIS_URL ?? "",
      REDIS_CLUSTER_NODES: twin.config.REDIS_CLUSTER_NODES?.join(",") ?? "",
      REDIS_KEY_PREFIX: twin.config.REDIS_KEY_PREFIX,
      DB_PGBOUNCER: twin.config.DB_PGBOUNCER ? "1" : "0",
    });
    if (twin.config.DATABASE_URL) {
      database = await openDatabase({
        url: twin.config.DATABASE_URL,
        poolMax: 10,
        behindPgBouncer: twin.config.DB_PGBOUNCER,
      });
    } else {
      database = twin.runtime.shared.database;
      closeDatabase = false;
    }
  } else if (backend === "postgres" || backend === "postgres-cluster") {
    const scratch = await createScratchDatabase();
    dropDatabase = scratch.drop;
    baseEnv.DATABASE_URL = scratch.url;
    const redis = testRedis(backend, env);
    if (redis) {
      const prefix = `test:${scratch.name}:`;
      if ("url" in redis) baseEnv.REDIS_URL = redis.url;
      else baseEnv.REDIS_CLUSTER_NODES = redis.clusterNodes.join(",");
      // Redis is shared by every test file and run: each app gets keys of its own, gone with
      // its database (seat markers would otherwise outlive the run by days).
      baseEnv.REDIS_KEY_PREFIX = prefix;
      dropDatabase = async () => {
        await scratch.drop();
        const client = connectRedis({ ...redis, commandTimeoutMs: 5000 });
        try {
          await waitForRedis(client, 5000);
          await deleteKeysWithPrefix(client, prefix);
        } finally {
          client.disconnect();
        }
      };
    }
    if (options.readReplica) {
      baseEnv.DATABASE_READ_URL = onDatabase(
        requireUrl(replicaUrl, "DATABASE_REPLICA_URL"),
        scratch.name,
      );
    }
    // Lock waits are unbounded unless a suite asks for a bound (production has one).
    const lockTimeoutMs = env.DB_LOCK_TIMEOUT_MS ? Number(env.DB_LOCK_TIMEOUT_MS) : undefined;
    database = await openDatabase({ url: scratch.url, poolMax: 10, lockTimeoutMs });
    await runMigrations(database);
    if (options.throughPgBouncer) {
      const wanted = loadConfig({ ...baseEnv, ...env });
      const settings = {
        statement_timeout: wanted.DB_STATEMENT_TIMEOUT_MS,
        lock_timeout: wanted.DB_LOCK_TIMEOUT_MS,
      };
      for (const [name, value] of Object.entries(settings)) {
        await database.db.execute(sql.raw(`alter database ${scratch.name} set ${name} = ${value}`));
      }
      await database.close();
      baseEnv.DATABASE_URL = onDatabase(requireUrl(pgbouncerUrl, "PGBOUNCER_URL"), scratch.name);
      baseEnv.DB_PGBOUNCER = "1";
      database = await openDatabase({
        url: baseEnv.DATABASE_URL,
        poolMax: 10,
        behindPgBouncer: true,
      });
    }
  } else {
    database = await openDatabase({ dataDir: "memory://" });
  }
  const config = loadConfig({ ...baseEnv, ...env });
  const shared = await openShared(config, {
    database,
    logger: options.logger ?? createLogger(config.LOG_LEVEL),
    keepDatabaseOpen: !closeDatabase,
  });
  // Embedded "instances" live in one process: they share the in-memory locks as real
  // instances share Redis.
  const locks =
    options.locks ?? (twin && !twin.config.DATABASE_URL ? twin.runtime.shared.locks : undefined);
  const runtime = await composeApiOn(locks ? { ...shared, locks } : shared);

  return {
    runtime,
    config,
    backend,
    client(token, headers = {}) {
      const authorization: Record<string, string> = token
        ? { Authorization: `Bearer ${token}` }
        : {};
      return testClient<App>(runtime.app, undefined, undefined, {
        headers: { ...authorization, ...headers },
      }).api.v1;
    },
    async request(method, path, options = {}) {
      const headers = new Headers(options.headers);
      if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
      }
      const response = await runtime.app.request(path, { method, headers, body });
      const text = await response.text();
      let parsed: unknown = text;
      if (response.headers.get("Content-Type")?.includes("application/json")) {
        parsed = JSON.parse(text);
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
    async close() {
      await runtime.close();
      await dropDatabase();
    },
  };
}

/**
 * The Redis of a backend: the run's one Redis, or for "postgres-cluster" the cluster the
 * suite names (REDIS_CLUSTER_NODES in its env: a private one) or else the run's test cluster.
 */
function testRedis(backend: Backend, env: Record<string, string>): RedisTarget | undefined {
  if (backend === "postgres-cluster") {
    return { clusterNodes: env.REDIS_CLUSTER_NODES?.split(",") ?? requireRedisCluster() };
  }
  return redisUrl ? { url: redisUrl } : undefined;
}

/** Runs a raw SQL query on the test's database and returns its rows. */
export async function query<T = Record<string, unknown>>(
  app: TestApp,
  statement: SQL<T> | SQL,
): Promise<T[]> {
  const result = await app.runtime.shared.database.db.execute(statement);
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

export { sql };

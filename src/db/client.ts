import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { type Placeholder, type Query, type SQL, sql } from "drizzle-orm";
import {
  type PgDatabase,
  PgDialect,
  PgPreparedQuery,
  type PgQueryResultHKT,
} from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { withoutStatementValues } from "./errors";
import * as schema from "./schema";

/**
 * Every statement of both drivers runs through this drizzle method, which wraps a failure in
 * an error that quotes the statement's values: they are taken out here, once for every caller.
 */
const preparedQuery = PgPreparedQuery.prototype as unknown as {
  queryWithCache(this: unknown, ...args: unknown[]): Promise<unknown>;
};
const queryWithCache = preparedQuery.queryWithCache;
if (typeof queryWithCache !== "function") {
  throw new Error(
    "drizzle's PgPreparedQuery.queryWithCache is gone: failed queries would print their values",
  );
}
preparedQuery.queryWithCache = function (...args) {
  return queryWithCache.apply(this, args).catch((error: unknown) => {
    throw withoutStatementValues(error);
  });
};

export type Schema = typeof schema;
/** The drizzle database every service uses; it does not know which driver is underneath. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Either the database or a transaction on it: what a query helper needs. */
export type Queryable = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  driver: "pglite" | "postgres";
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent PGlite runs in-process. */
  url?: string;
  /** PGlite data directory; "memory://" keeps everything in memory. */
  dataDir?: string;
  poolMax?: number;
  /** Prepared statements; switch off behind PgBouncer in transaction mode. */
  prepare?: boolean;
  /**
   * A transaction pooler (PgBouncer, pool_mode = transaction) is in front: it refuses session
   * settings as startup parameters and keeps no prepared statement from one transaction to the
   * next, so neither is sent. The timeouts must then come from the role or the database
   * (`checkPooledSessionSettings` verifies that they do).
   */
  behindPgBouncer?: boolean;
  /** Upper bounds for one statement and for one wait on a row lock (ms); 0 = none. */
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  /**
   * How prepared statements are planned. PostgreSQL's "auto" kept planning the hold statement
   * afresh on every execution (a custom plan was always estimated cheaper), which was about a
   * third of its CPU during a sale; every statement here is a lookup whose generic plan is the
   * custom one.
   */
  planCacheMode?: "auto" | "force_generic_plan" | "force_custom_plan";
  /**
   * Upper bound of opening a connection. Also how long a request can wait when a backend dies
   * during its connection's startup: postgres.js then retries until this runs out
   * (porsager/postgres#1193).
   */
  connectTimeoutSeconds?: number;
  /**
   * Closes a pooled connection after this long unused; 0 (the default) never does. A sale
   * after a quiet spell should not first open the pool again: a new backend starts with cold
   * caches and prepares every statement anew (S4 after 45 idle seconds: 503 purchases/s with
   * 30 s, 740–777 with connections kept).
   */
  idleTimeoutSeconds?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) {
    const client = postgres(options.url, {
      max: options.poolMax ?? 20,
      prepare: !options.behindPgBouncer && (options.prepare ?? true),
      onnotice: () => {},
      connect_timeout: options.connectTimeoutSeconds ?? 5,
      idle_timeout: options.idleTimeoutSeconds ?? 0,
      // Sent as startup parameters: no request waits on a lock or a query without bound.
      connection: options.behindPgBouncer
        ? {}
        : {
            statement_timeout: options.statementTimeoutMs ?? 0,
            lock_timeout: options.lockTimeoutMs ?? 0,
            plan_cache_mode: options.planCacheMode ?? "force_generic_plan",
          },
    });
    return {
      db: drizzlePostgres({ client, schema }) as unknown as Database,
      driver: "postgres",
      close: () => client.end({ timeout: 5 }),
    };
  }
  const dataDir = options.dataDir ?? "memory://";
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  return {
    db: drizzlePglite({ client, schema }) as unknown as Database,
    driver: "pglite",
    close: () => client.close(),
  };
}

const dialect = new PgDialect();

/**
 * Runs raw SQL as a prepared statement and returns its rows, whichever driver is underneath.
 * (drizzle's db.execute never prepares; on the hot paths parsing and planning each statement
 * again is a large share of PostgreSQL's work.) The pool's DB_PREPARE=false still wins.
 */
export async function execRows<T>(db: Queryable, statement: SQL): Promise<T[]> {
  return runQuery<T>(db, dialect.sqlToQuery(statement));
}

async function runQuery<T>(db: Queryable, query: Query, values?: Record<string, unknown>) {
  const result = await db._.session.prepareQuery(query, undefined, "raw", false).execute(values);
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

type Placeholders<Params> = { [Name in keyof Params & string]: Placeholder<Name> };

/**
 * A statement of a hot path whose SQL text is written once: `write` gets a placeholder for
 * each parameter and each run fills them in. Writing the hold statement's text from drizzle's
 * template took 8–10 µs a run, about 2% of the API's CPU per successful hold.
 */
export class Statement<Params extends Required<Params>, Row> {
  private readonly query: Query;

  constructor(write: (params: Placeholders<Params>) => SQL) {
    const placeholders = new Proxy({} as Placeholders<Params>, {
      get: (_, name) => sql.placeholder(String(name)),
    });
    this.query = dialect.sqlToQuery(write(placeholders));
  }

  rows(db: Queryable, params: Params): Promise<Row[]> {
    return runQuery<Row>(db, this.query, params);
  }
}

/** An int[] parameter: one placeholder whatever the length, so the statement text is stable. */
export const intArray = (values: number[]) => sql`${sql.param(values)}::int[]`;

import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import {
  fillPlaceholders,
  type Placeholder,
  type Query,
  type QueryWithTypings,
  SQL,
  sql,
} from "drizzle-orm";
import { type PgDatabase, PgDialect, type PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
// Failed statements lose their values before anything can log them (every driver, every caller).
import "./failed-query-values";
import { DEFAULT_POOL_MAX } from "./pool-size";
import * as schema from "./schema";

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
   * caches and prepares every statement anew.
   */
  idleTimeoutSeconds?: number;
}

/**
 * One statement in flight per connection. When no connection is free, postgres.js otherwise
 * sends a query down a busy one (up to `max_pipeline` behind what runs there): one slow
 * statement (a pick looking for a free row, a lock wait) then holds up the requests queued
 * behind it (for up to DB_LOCK_TIMEOUT_MS) while other connections go free. With none
 * pipelined, waiting queries form one queue and each goes to the next free connection: in
 * the bench's best-available sale at 200 VUs, p99 fell from about 300 to 210-250 ms at the
 * same throughput. `max_pipeline` is read by postgres.js but missing from its types.
 */
const oneStatementPerConnection = { max_pipeline: 0 } as object;

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) {
    const client = postgres(options.url, {
      max: options.poolMax ?? DEFAULT_POOL_MAX,
      prepare: !options.behindPgBouncer && (options.prepare ?? true),
      onnotice: () => {},
      connect_timeout: options.connectTimeoutSeconds ?? 5,
      idle_timeout: options.idleTimeoutSeconds ?? 0,
      ...oneStatementPerConnection,
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
      db: drizzlePostgres({
        client: preparingRawStatements(client),
        schema,
      }) as unknown as Database,
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
 * Texts of the raw statements (execRows, Statement): the ones that run as prepared statements
 * (postgres.js keeps one per text and connection). As many as the code writes distinct texts.
 */
const textsToPrepare = new Set<string>();

/**
 * A statement already written as text and values: drizzle's db.execute sends it as it is
 * instead of writing the text from a template again on every run (see Statement).
 */
class PrewrittenQuery extends SQL {
  constructor(private readonly query: Query) {
    super([]);
  }

  override toQuery(): QueryWithTypings {
    return this.query;
  }
}

/**
 * The postgres.js client drizzle runs on, and each transaction's and savepoint's connection it
 * hands out, with one change: the raw statements run as prepared statements. drizzle prepares
 * only query-builder statements given a name (`.prepare("name")`) and runs `db.execute`
 * unprepared; postgres.js prepares a text when asked (`unsafe(text, params, { prepare: true })`)
 * and its pool setting `prepare: false` (DB_PREPARE=false, PgBouncer) still wins. Parsing and
 * planning the hot paths' statements on every run would cost PostgreSQL more than running them.
 */
function preparingRawStatements<Client extends postgres.Sql | postgres.TransactionSql>(
  client: Client,
): Client {
  return new Proxy(client, {
    get(target, key) {
      // postgres.js's methods are closures over their connection: no `this` to keep.
      const value = Reflect.get(target, key) as (...args: unknown[]) => unknown;
      switch (key) {
        case "unsafe":
          return (text: string, params?: unknown[], options?: object) =>
            value(text, params, textsToPrepare.has(text) ? { ...options, prepare: true } : options);
        case "begin":
        case "savepoint":
          return (...args: unknown[]) => {
            const body = args.pop() as (connection: postgres.TransactionSql) => unknown;
            return value(...args, (connection: postgres.TransactionSql) =>
              body(preparingRawStatements(connection)),
            );
          };
        default:
          return value;
      }
    },
  });
}

/** Runs a written statement through drizzle's db.execute (a transaction's on its connection). */
async function executePrewritten<T>(db: Queryable, query: Query): Promise<T[]> {
  textsToPrepare.add(query.sql);
  const result: unknown = await db.execute(new PrewrittenQuery(query));
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/**
 * Runs raw SQL as a prepared statement and returns its rows, whichever driver is underneath,
 * on the transaction's connection when `db` is one. The pool's DB_PREPARE=false still wins.
 */
export async function execRows<T>(db: Queryable, statement: SQL): Promise<T[]> {
  return executePrewritten<T>(db, dialect.sqlToQuery(statement));
}

type Placeholders<Params> = { [Name in keyof Params & string]: Placeholder<Name> };

/**
 * A statement of a hot path whose SQL text is written once: `write` gets a placeholder for
 * each parameter and each run fills them in: writing a long statement's text from drizzle's
 * template on every run is measurable on the hold path (see docs/performance.md).
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
    return executePrewritten<Row>(db, {
      sql: this.query.sql,
      params: fillPlaceholders(this.query.params, params),
    });
  }
}

/** An int[] parameter: one placeholder whatever the length, so the statement text is stable. */
export const intArray = (values: number[]) => sql`${sql.param(values)}::int[]`;

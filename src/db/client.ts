import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import {
  fillPlaceholders,
  Param,
  type Placeholder,
  type Query,
  SQL,
  StringChunk,
  sql,
} from "drizzle-orm";
import { type PgDatabase, PgDialect, type PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
// Failed statements lose their values before anything can log them (every driver, every caller).
import "./failed-query-values";
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
 * The raw statements (execRows, Statement): their texts split at their parameters, by text.
 * A text here runs as a prepared statement (postgres.js caches one per connection, as for
 * every prepared text); the map holds as many entries as the code writes distinct statements.
 */
const rawStatements = new Map<string, StringChunk[]>();

/**
 * The postgres.js client drizzle runs on, and each transaction's and savepoint's connection it
 * hands out, with one change: the raw statements run as prepared statements. drizzle prepares
 * only query-builder statements given a name (`.prepare("name")`) and runs `db.execute`
 * unprepared; postgres.js prepares a text when asked (`unsafe(text, params, { prepare: true })`)
 * and its pool setting `prepare: false` (DB_PREPARE=false, PgBouncer) still wins. On the hot
 * paths parsing and planning each statement again was a large share of PostgreSQL's work.
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
            value(text, params, rawStatements.has(text) ? { ...options, prepare: true } : options);
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

/** The text's pieces between its parameters ($1, $2, … in order), remembered by text. */
function piecesOf(query: Query): StringChunk[] {
  let pieces = rawStatements.get(query.sql);
  if (!pieces) {
    const texts = query.sql.split(/\$\d+/);
    const numbers = query.sql.match(/\$\d+/g) ?? [];
    if (texts.length !== query.params.length + 1 || numbers.some((n, i) => n !== `$${i + 1}`)) {
      throw new Error(`a raw statement's parameters are not $1…$${query.params.length} in order`);
    }
    pieces = texts.map((text) => new StringChunk(text));
    rawStatements.set(query.sql, pieces);
  }
  return pieces;
}

/** Runs a statement (its text cut into pieces, and its values) through drizzle's db.execute. */
async function runPieces<T>(db: Queryable, pieces: StringChunk[], values: unknown[]) {
  const chunks: (StringChunk | Param)[] = [pieces[0] as StringChunk];
  for (const [index, value] of values.entries()) {
    chunks.push(new Param(value), pieces[index + 1] as StringChunk);
  }
  const result: unknown = await db.execute(new SQL(chunks));
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/**
 * Runs raw SQL as a prepared statement and returns its rows, whichever driver is underneath,
 * on the transaction's connection when `db` is one. The pool's DB_PREPARE=false still wins.
 */
export async function execRows<T>(db: Queryable, statement: SQL): Promise<T[]> {
  const query = dialect.sqlToQuery(statement);
  return runPieces<T>(db, piecesOf(query), query.params);
}

type Placeholders<Params> = { [Name in keyof Params & string]: Placeholder<Name> };

/**
 * A statement of a hot path whose SQL text is written once: `write` gets a placeholder for
 * each parameter and each run fills them in. Writing the hold statement's text from drizzle's
 * template took 8–10 µs a run, about 2% of the API's CPU per successful hold.
 */
export class Statement<Params extends Required<Params>, Row> {
  private readonly query: Query;
  private readonly pieces: StringChunk[];

  constructor(write: (params: Placeholders<Params>) => SQL) {
    const placeholders = new Proxy({} as Placeholders<Params>, {
      get: (_, name) => sql.placeholder(String(name)),
    });
    this.query = dialect.sqlToQuery(write(placeholders));
    this.pieces = piecesOf(this.query);
  }

  rows(db: Queryable, params: Params): Promise<Row[]> {
    return runPieces<Row>(db, this.pieces, fillPlaceholders(this.query.params, params));
  }
}

/** An int[] parameter: one placeholder whatever the length, so the statement text is stable. */
export const intArray = (values: number[]) => sql`${sql.param(values)}::int[]`;

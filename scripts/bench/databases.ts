import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import postgres from "postgres";

/** Opens a small postgres.js client (the bench only runs a few setup and check queries). */
export function connectPostgres(url: string) {
  return postgres(url, { max: 2, onnotice: () => {}, connect_timeout: 10 });
}
export type Sql = ReturnType<typeof connectPostgres>;

/**
 * ANALYZE of the whole database. A database in service has statistics (autovacuum analyses a
 * table once enough of it has changed); the bench's is minutes old, and the plans PostgreSQL
 * picks for tables it believes nearly empty (the hold statement hash-joining every seat, the
 * user lookup scanning all users) are not the ones production runs: S1 at 200 VUs ran 599 /
 * 728 / 636 holds/s without it and 772 / 842 / 771 with it, back to back. Run after the
 * warm-up, when every table the scenarios touch holds data: analysed empty, bookings would
 * get sequential foreign-key checks.
 */
export async function analyzeDatabase(url: string): Promise<void> {
  const client = connectPostgres(url);
  try {
    await client`analyze`;
  } finally {
    await client.end();
  }
}

const dialect = new PgDialect();

/** Runs a statement written with drizzle's `sql` (as the app's queries are) on a bench client. */
export async function rowsOf<T>(client: Sql, statement: SQL<T>): Promise<T[]> {
  const query = dialect.sqlToQuery(statement);
  return (await client.unsafe(query.sql, query.params as never[])) as unknown as T[];
}

const SAFE_NAME = /^[a-z_][a-z0-9_]*$/;

function requireSafeName(name: string): string {
  if (!SAFE_NAME.test(name)) throw new Error(`not a plain database name: ${name}`);
  return name;
}

/** The URL of database `name` on the server (or PgBouncer) of `serverUrl`. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = connectPostgres(serverUrl);
  try {
    await admin.unsafe(`create database ${requireSafeName(name)}`);
  } finally {
    await admin.end();
  }
  return databaseUrl(serverUrl, name);
}

/**
 * Session timeouts every new connection to database `name` starts with: behind PgBouncer in
 * transaction pooling they cannot be sent per connection. Set on the database, not the role,
 * so the role's other databases keep theirs.
 */
export async function setDatabaseTimeouts(
  serverUrl: string,
  name: string,
  timeouts: { statementTimeoutMs: number; lockTimeoutMs: number },
): Promise<void> {
  const admin = connectPostgres(serverUrl);
  const database = requireSafeName(name);
  try {
    await admin.unsafe(
      `alter database ${database} set statement_timeout = ${Math.trunc(timeouts.statementTimeoutMs)}`,
    );
    await admin.unsafe(
      `alter database ${database} set lock_timeout = ${Math.trunc(timeouts.lockTimeoutMs)}`,
    );
  } finally {
    await admin.end();
  }
}

/** Drops the database, disconnecting whoever is still connected. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = connectPostgres(serverUrl);
  try {
    await admin.unsafe(`drop database if exists ${requireSafeName(name)} with (force)`);
  } finally {
    await admin.end();
  }
}

/** The server's version, for the results; undefined when it cannot be read. */
export async function postgresVersion(serverUrl: string): Promise<string | undefined> {
  const sql = connectPostgres(serverUrl);
  try {
    const [row] = await sql<{ server_version: string }[]>`show server_version`;
    return row?.server_version;
  } catch {
    return undefined;
  } finally {
    await sql.end();
  }
}

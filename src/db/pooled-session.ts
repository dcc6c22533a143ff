import { sql } from "drizzle-orm";
import { type DatabaseHandle, execRows } from "./client";

export interface SessionTimeouts {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
}

interface ReportedSettings {
  role: string;
  statement_timeout: number;
  lock_timeout: number;
}

export class SessionSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SessionSettingsError";
  }
}

/**
 * Behind PgBouncer in transaction pooling the pool cannot send its timeouts, so they must come
 * from the role (`ALTER ROLE … SET`) or the database. Refuses to start when the server
 * connection PgBouncer hands out reports other values than the configuration: without them one
 * stuck lock would hold every request that queues behind it. Names the statements that fix it.
 */
export async function checkPooledSessionSettings(
  database: DatabaseHandle,
  wanted: SessionTimeouts,
): Promise<void> {
  const [reported] = await execRows<ReportedSettings>(
    database.db,
    sql`select quote_ident(current_user) as role,
          (select setting::int from pg_settings where name = 'statement_timeout') as statement_timeout,
          (select setting::int from pg_settings where name = 'lock_timeout') as lock_timeout`,
  );
  if (!reported) throw new SessionSettingsError("PostgreSQL reported no session settings");
  const settings = [
    [
      "statement_timeout",
      reported.statement_timeout,
      wanted.statementTimeoutMs,
      "DB_STATEMENT_TIMEOUT_MS",
    ],
    ["lock_timeout", reported.lock_timeout, wanted.lockTimeoutMs, "DB_LOCK_TIMEOUT_MS"],
  ] as const;
  const wrong = settings.filter(([, actual, expected]) => actual !== expected);
  if (wrong.length === 0) return;
  throw new SessionSettingsError(
    [
      `DB_PGBOUNCER=1: the pool cannot send its timeouts through PgBouncer, and PostgreSQL reports ${wrong
        .map(
          ([name, actual, expected, variable]) =>
            `${name} = ${actual} ms (${variable}=${expected})`,
        )
        .join(", ")}.`,
      "Set them on the role the API connects as, then restart (PgBouncer's existing server connections keep the old values until RECONNECT):",
      ...wrong.map(
        ([name, , expected]) => `  ALTER ROLE ${reported.role} SET ${name} = ${expected};`,
      ),
    ].join("\n"),
  );
}

import { type Config, ConfigError, loadConfig } from "./config";
import type { DatabaseHandle } from "./db/client";
import { causeChain, pgErrorCode } from "./db/errors";
import { readSchemaVersion } from "./db/migrate";
import { createLogger } from "./lib/logger";

/** Why this process cannot start, said so an operator knows what to fix; `code` is stable. */
export class StartupError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "StartupError";
  }
}

/** Loads the config or stops the process with one log line listing what is wrong. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      createLogger("info").error("cannot start: invalid configuration", {
        cause: "invalid_config",
        problems: error.problems,
      });
      process.exit(1);
    }
    throw error;
  }
}

/**
 * Runs a process's start-up; when it fails, logs one line naming the cause (no stack: a
 * supervisor's log shows it as it is) and exits 1, so the supervisor retries.
 */
export async function startOrExit<T>(config: Config, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const cause = error instanceof StartupError ? error.code : "unexpected";
    createLogger(config.LOG_LEVEL).error(`cannot start: ${innermostMessage(error)}`, { cause });
    process.exit(1);
  }
}

// drizzle's query errors carry the statement's parameters in their message; the driver's
// error underneath says what went wrong without them.
function innermostMessage(error: unknown): string {
  const innermost = [...causeChain(error)].at(-1);
  return innermost instanceof Error ? innermost.message : String(innermost);
}

/**
 * Refuses a database this code cannot serve from: unreachable, missing, or with a schema that
 * is not the one the migrations in `drizzle/` describe.
 */
export async function assertDatabaseUsable(database: DatabaseHandle, url?: string): Promise<void> {
  const version = await readSchemaVersion(database.db).catch((error) => {
    throw databaseFailure(error, url);
  });
  if (version.state === "behind") {
    throw new StartupError(
      "schema_behind",
      `the database schema is behind the migrations in drizzle/ (${version.applied} of ${version.known} applied): run \`bun run db:migrate\``,
    );
  }
  if (version.state === "ahead") {
    throw new StartupError(
      "schema_ahead",
      `the database schema is ahead of the migrations in drizzle/ (${version.unknown} applied migration(s) unknown to this release): run the release that migrated it`,
    );
  }
}

const UNREACHABLE = ["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT", "CONNECT_TIMEOUT"];
const INVALID_CATALOG_NAME = "3D000";

function databaseFailure(error: unknown, url: string | undefined): StartupError {
  // Host, port and name only: the URL's password must not reach a log.
  const where = url ? new URL(url) : undefined;
  const server = where ? `PostgreSQL at ${where.host}` : "the embedded database";
  const codes = [...causeChain(error)].map((cause) => (cause as { code?: unknown }).code);
  const unreachable = codes.find((code) => UNREACHABLE.includes(String(code)));
  if (unreachable) {
    return new StartupError("database_unreachable", `${server} is unreachable (${unreachable})`);
  }
  if (pgErrorCode(error) === INVALID_CATALOG_NAME) {
    const name = decodeURIComponent(where?.pathname.slice(1) ?? "");
    return new StartupError(
      "no_such_database",
      `${server} has no database "${name}": create it, then run \`bun run db:migrate\``,
    );
  }
  return new StartupError(
    "database_unusable",
    `${server} cannot be used: ${innermostMessage(error)}`,
  );
}

import { DrizzleQueryError } from "drizzle-orm";

/** An error and its causes, outermost first (drizzle wraps the driver's error in its own). */
export function* causeChain(error: unknown): Generator<unknown> {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

/** SQLSTATE of a PostgreSQL error, looking through drizzle's DrizzleQueryError wrapper. */
export function pgErrorCode(error: unknown): string | undefined {
  for (const current of causeChain(error)) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = "23505";

/**
 * Failures that say "the database cannot serve this right now", not "this request is wrong":
 * connection loss (08…), shutdown (57P0…), statement or lock timeouts (57014, 55P03), and
 * deadlocks or serialization failures that survived their retries (40P01, 40001).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = pgErrorCode(error);
  const unavailableCode =
    code !== undefined &&
    (code.startsWith("08") ||
      code.startsWith("57P0") ||
      ["57014", "55P03", "40P01", "40001", "53300"].includes(code));
  if (unavailableCode) return true;
  // Socket-level failures carry errno-style codes (EPIPE looks like a SQLSTATE): by message.
  const message = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : "";
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|CONNECTION_CLOSED|CONNECTION_DESTROYED|CONNECT_TIMEOUT|CONNECTION_ENDED/.test(
    message,
  );
}

/** Deadlocks and serialization failures are safe to retry: the transaction left nothing. */
export function isTransientConflict(error: unknown): boolean {
  const code = pgErrorCode(error);
  return code === "40P01" || code === "40001";
}

const ATTEMPTS = 3;

/** Runs `work` up to three times in all while it fails with an error `retryable` accepts. */
export async function withRetries<T>(
  work: () => Promise<T>,
  retryable: (error: unknown) => boolean = isTransientConflict,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!retryable(error) || attempt >= ATTEMPTS) throw error;
    }
  }
}

/**
 * Where a failed statement's values sit on its errors: drizzle's own list, the drivers'
 * copies (PGlite's are printed with the error), and PostgreSQL's detail, which may quote the
 * failing row ("Failing row contains (…)").
 */
const STATEMENT_VALUES = ["params", "parameters", "args", "queryOptions", "detail"];

/**
 * Takes a failed statement's values out of its error and the errors it wraps: they include
 * password hashes and stored answers, and anything that prints an error (a log line, the
 * runtime's report of an uncaught error) would print them. The SQL text and PostgreSQL's
 * code and message stay for the operator.
 */
export function withoutStatementValues(error: unknown): unknown {
  if (error instanceof DrizzleQueryError) {
    const message = `Failed query: ${error.query}`;
    error.stack = error.stack?.replace(error.message, message);
    error.message = message;
    error.params = [];
  }
  let wrapped = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; wrapped && typeof wrapped === "object" && depth < 5; depth++) {
    for (const name of STATEMENT_VALUES) {
      // postgres.js defines its copies unenumerable and fixed: never printed, and not removable.
      if (Object.getOwnPropertyDescriptor(wrapped, name)?.configurable) {
        delete (wrapped as Record<string, unknown>)[name];
      }
    }
    wrapped = (wrapped as { cause?: unknown }).cause;
  }
  return error;
}

import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../app-env";
import { isDatabaseUnavailable, pgErrorCode } from "../db/errors";
import { AppError, errorCatalogue } from "../lib/errors";
import type { Logger } from "../lib/logger";

function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) {
    return new AppError("UNAVAILABLE", {
      message: "The database is unavailable or busy; retry shortly",
    });
  }
  // PostgreSQL refuses text it cannot store (a NUL character, 22021; 22P05): the input is
  // wrong, the statement failed as a whole, and nothing was written.
  const code = pgErrorCode(error);
  if (code === "22021" || code === "22P05") {
    return new AppError("VALIDATION_ERROR", {
      message: "Text must not contain NUL characters",
      details: { input: "contains a NUL character, which cannot be stored" },
    });
  }
  if (error instanceof HTTPException) {
    // Hono raises these for malformed JSON bodies and similar protocol-level problems.
    if (error.status === 413) return new AppError("PAYLOAD_TOO_LARGE");
    // @hono/zod-openapi raises this when a JSON route gets a body of another media type.
    if (error.status === 415) return new AppError("UNSUPPORTED_MEDIA_TYPE");
    if (error.status === 400) {
      return new AppError("VALIDATION_ERROR", {
        message: error.message || "Malformed request",
        details: { body: error.message || "malformed" },
      });
    }
  }
  return undefined;
}

/** A catalogued error as HTTP: its status, the contract's body and the code's headers. */
export function httpError(error: AppError) {
  const entry = errorCatalogue[error.code];
  const headers: Record<string, string> = { ...("headers" in entry ? entry.headers : {}) };
  const retryAfter =
    error.retryAfterSeconds ?? ("retryAfterSeconds" in entry ? entry.retryAfterSeconds : undefined);
  if (retryAfter !== undefined) headers["Retry-After"] = String(retryAfter);
  if (error.rateLimit) {
    headers["RateLimit-Limit"] = String(error.rateLimit.limit);
    headers["RateLimit-Remaining"] = String(error.rateLimit.remaining);
    headers["RateLimit-Reset"] = String(error.rateLimit.resetSeconds);
  }
  return {
    status: entry.status,
    headers,
    body: {
      message: error.message,
      code: error.code,
      ...(error.details ? { details: error.details } : {}),
    },
  };
}

/** The one place errors become responses, always in the contract's shape. */
export const errorHandler =
  (logger: Logger): ErrorHandler<AppEnv> =>
  (error, c) => {
    const known = toAppError(error);
    if (isDatabaseUnavailable(error)) {
      // Operators need the driver's reason for an outage the clients only see as "retry".
      logger.warn("dependency unavailable", {
        request_id: c.get("requestId"),
        path: c.req.path,
        cause: String(error instanceof Error && error.cause ? error.cause : error),
      });
    }
    if (known) {
      const { status, headers, body } = httpError(known);
      for (const [name, value] of Object.entries(headers)) c.header(name, value);
      return c.json(body, status);
    }
    logger.error("unhandled error", {
      request_id: c.get("requestId"),
      path: c.req.path,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      // drizzle wraps driver errors: the cause says what PostgreSQL (or the socket) answered.
      cause: error instanceof Error && error.cause ? String(error.cause) : undefined,
    });
    const { status, body } = httpError(new AppError("INTERNAL"));
    return c.json(body, status);
  };

export const notFoundHandler: NotFoundHandler<AppEnv> = (c) => {
  const { status, body } = httpError(
    new AppError("NOT_FOUND", { message: `No route for ${c.req.method} ${c.req.path}` }),
  );
  return c.json(body, status);
};

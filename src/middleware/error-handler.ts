import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../app-env";
import { isDatabaseUnavailable, pgErrorCode } from "../db/errors";
import { AppError } from "../lib/errors";
import type { Logger } from "../lib/logger";

function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) {
    return new AppError(
      503,
      "UNAVAILABLE",
      "The database is unavailable or busy; retry shortly",
      undefined,
      { "Retry-After": "1" },
    );
  }
  // PostgreSQL refuses text it cannot store (a NUL character, 22021; 22P05): the input is
  // wrong, the statement failed as a whole, and nothing was written.
  const code = pgErrorCode(error);
  if (code === "22021" || code === "22P05") {
    return new AppError(400, "VALIDATION_ERROR", "Text must not contain NUL characters", {
      input: "contains a NUL character, which cannot be stored",
    });
  }
  if (error instanceof HTTPException) {
    // Hono raises these for malformed JSON bodies and similar protocol-level problems.
    if (error.status === 413) {
      return new AppError(413, "PAYLOAD_TOO_LARGE", "Request body is too large");
    }
    if (error.status === 415) {
      // @hono/zod-openapi raises this when a JSON route gets a body of another media type.
      return new AppError(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Send the request body as application/json",
      );
    }
    if (error.status === 400) {
      return new AppError(400, "VALIDATION_ERROR", error.message || "Malformed request", {
        body: error.message || "malformed",
      });
    }
  }
  return undefined;
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
      for (const [name, value] of Object.entries(known.headers ?? {})) c.header(name, value);
      return c.json(
        {
          message: known.message,
          code: known.code,
          ...(known.details ? { details: known.details } : {}),
        },
        known.status,
      );
    }
    logger.error("unhandled error", {
      request_id: c.get("requestId"),
      path: c.req.path,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      // drizzle wraps driver errors: the cause says what PostgreSQL (or the socket) answered.
      cause: error instanceof Error && error.cause ? String(error.cause) : undefined,
    });
    return c.json({ message: "Internal server error", code: "INTERNAL" }, 500);
  };

export const notFoundHandler: NotFoundHandler<AppEnv> = (c) =>
  c.json({ message: `No route for ${c.req.method} ${c.req.path}`, code: "NOT_FOUND" }, 404);

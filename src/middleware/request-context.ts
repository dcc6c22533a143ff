import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import type { Logger } from "../lib/logger";
import { errorHandler } from "./error-handler";

const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Echoes a caller's sane X-Request-Id or makes one, and logs one line per request.
 * (hono/request-id accepts a different character set than the contract's, hence this.)
 */
export const requestContext = (logger: Logger) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header("X-Request-Id");
    const requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);
    const started = performance.now();
    try {
      await next();
    } catch (error) {
      // Hono hands only Error instances to app.onError; any other thrown value would escape
      // the app as the runtime's own 500 page. Answer it like any other bug.
      if (error instanceof Error) throw error;
      c.res = await errorHandler(logger)(
        new Error("A non-Error value was thrown", { cause: error }),
        c,
      );
    }
    c.header("X-Request-Id", requestId);
    logger.info("request", {
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
      user_id: c.get("user")?.user_id,
    });
  });

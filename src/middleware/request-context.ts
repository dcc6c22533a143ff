import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import type { AppEnv } from "../app-env";
import type { Metrics } from "../infra/metrics";
import type { Logger } from "../lib/logger";
import { inRequest } from "../lib/request-scope";
import { clientIp } from "./client-identity";
import { errorHandler } from "./error-handler";

const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The route template a request matched ("/api/v1/shows/:show_id"), never the raw path. */
function routeTemplate(c: Context<AppEnv>): string {
  const template = routePath(c, -1);
  return template.includes("*") ? "unmatched" : template;
}

/**
 * Echoes a caller's sane X-Request-Id or makes one, logs one line per request (with the client
 * IP the rate limits count, see TRUST_PROXY) and counts it in the metrics. (hono/request-id
 * accepts a different character set than the contract's.) The rest of the request runs in its
 * request scope, where the booking log finds the id.
 */
export const requestContext = (logger: Logger, metrics: Metrics, trustedProxies: number) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header("X-Request-Id");
    const requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);
    const started = performance.now();
    try {
      await inRequest(requestId, next);
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
    const seconds = (performance.now() - started) / 1000;
    metrics.recordRequest(c.req.method, routeTemplate(c), c.res.status, seconds);
    logger.info("request", {
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round(seconds * 10_000) / 10,
      user_id: c.get("user")?.user_id,
      client_ip: clientIp(c, trustedProxies),
    });
  });

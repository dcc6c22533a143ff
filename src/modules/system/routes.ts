import { createRoute } from "@hono/zod-openapi";
import { requireMetricsToken } from "../../infra/metrics";
import { createRouter, errorResponses, jsonResponse, z } from "../../lib/openapi";
import { timestamp } from "../../lib/shapes";

const ChecksSchema = z.record(
  z.string(),
  z.enum(["ok", "embedded", "degraded", "down", "behind", "ahead"]),
);

const liveness = createRoute({
  method: "get",
  path: "/health",
  operationId: "getLiveness",
  tags: ["System"],
  summary: "Liveness: the process answers; touches nothing else",
  responses: {
    200: jsonResponse(z.object({ status: z.literal("OK"), timestamp: timestamp() }), "Alive"),
  },
});

const readiness = createRoute({
  method: "get",
  path: "/health/ready",
  operationId: "getReadiness",
  tags: ["System"],
  summary: "Readiness: this instance can serve",
  description:
    "`checks.database`: `ok` or `down`. `checks.schema`: `ok` when the database has exactly the migrations this release ships, `behind` when some are missing, `ahead` when it has migrations this release does not know (a newer release migrated it, as during a rolling deploy). `checks.redis`: `ok`, `degraded` (down or too slow: the API keeps serving on PostgreSQL alone) or `embedded` (no Redis configured, the in-process replacement is in use). 503 `UNAVAILABLE` only when this instance cannot serve: the database is down or the schema is `behind`. A Redis outage or a schema `ahead` answers 200 with status `DEGRADED`, so a load balancer does not take every instance out at once for them.",
  responses: {
    200: jsonResponse(
      z.object({ status: z.enum(["OK", "DEGRADED"]), checks: ChecksSchema }),
      "Ready (`DEGRADED`: serving without a shared dependency)",
    ),
    503: jsonResponse(
      z.object({ status: z.literal("UNAVAILABLE"), checks: ChecksSchema }),
      "This instance cannot serve",
    ),
  },
});

const metrics = createRoute({
  method: "get",
  path: "/metrics",
  operationId: "getMetrics",
  tags: ["System"],
  summary: "Prometheus metrics",
  description:
    "Text exposition format: `evently_http_requests_total` and `evently_http_request_duration_seconds` by method, route template and status; `evently_holds_total` by result; `evently_booking_transitions_total` (confirmed, cancelled, expired); `evently_waiting_room_queued` per show (users who polled within QUEUE_ABANDON_SECONDS) and `evently_waiting_room_admissions_total` (admissions from a line, by any call or job); `evently_db_connections` by state; `evently_queue_jobs` per BullMQ queue; `evently_redis_up` (1 or 0, when Redis is configured); process metrics. Answers 200 while Redis or the database is down or hung: a gauge whose source does not answer within a second has no samples in that scrape. When the operator sets `METRICS_TOKEN`, it needs `Authorization: Bearer <METRICS_TOKEN>` (401 `UNAUTHENTICATED` otherwise). Not rate limited.",
  responses: {
    200: { description: "Metrics", content: { "text/plain": { schema: z.string() } } },
    ...errorResponses("UNAUTHENTICATED"),
  },
});

export const systemRoutes = createRouter()
  .openapi(liveness, (c) =>
    c.json({ status: "OK" as const, timestamp: new Date().toISOString() }, 200),
  )
  .openapi(readiness, async (c) => {
    const { status, checks } = await c.get("services").health();
    return status === "UNAVAILABLE"
      ? c.json({ status, checks }, 503)
      : c.json({ status, checks }, 200);
  })
  .openapi(metrics, async (c) => {
    const { metrics } = c.get("services");
    requireMetricsToken(c.req.header("Authorization"), c.get("metricsToken"));
    return c.text(await metrics.render(), 200, { "Content-Type": metrics.contentType });
  });

import { createRoute } from "@hono/zod-openapi";
import { createRouter, jsonResponse, z } from "../lib/openapi";

const CheckSchema = z.enum(["ok", "down", "embedded"]);

const liveness = createRoute({
  method: "get",
  path: "/health",
  tags: ["System"],
  summary: "Liveness: the process answers; touches nothing else",
  responses: {
    200: jsonResponse(z.object({ status: z.literal("OK"), timestamp: z.string() }), "Alive"),
  },
});

const readiness = createRoute({
  method: "get",
  path: "/health/ready",
  tags: ["System"],
  summary: "Readiness: the database and Redis answer",
  description: "`embedded` means the in-process replacement is in use (no Redis configured).",
  responses: {
    200: jsonResponse(
      z.object({ status: z.literal("OK"), checks: z.record(z.string(), CheckSchema) }),
      "Ready",
    ),
    503: jsonResponse(
      z.object({ status: z.literal("DEGRADED"), checks: z.record(z.string(), CheckSchema) }),
      "A dependency is down",
    ),
  },
});

const metrics = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["System"],
  summary: "Prometheus metrics",
  description:
    "Text exposition format: `evently_http_requests_total` and `evently_http_request_duration_seconds` by method, route template and status; `evently_holds_total` by result; `evently_booking_transitions_total` (confirmed, cancelled, expired); `evently_waiting_room_queued` per show (users who polled within QUEUE_ABANDON_SECONDS) and `evently_waiting_room_admissions_total` (admissions from a line, by any call or job); `evently_db_connections` by state; `evently_queue_jobs` per BullMQ queue; process metrics. Not rate limited.",
  responses: { 200: { description: "Metrics", content: { "text/plain": { schema: z.string() } } } },
});

export const systemRoutes = createRouter()
  .openapi(liveness, (c) =>
    c.json({ status: "OK" as const, timestamp: new Date().toISOString() }, 200),
  )
  .openapi(readiness, async (c) => {
    const report = await c.get("services").health();
    return report.status === "OK"
      ? c.json({ status: "OK" as const, checks: report.checks }, 200)
      : c.json({ status: "DEGRADED" as const, checks: report.checks }, 503);
  })
  .openapi(metrics, async (c) => {
    const registry = c.get("services").metrics;
    return c.text(await registry.render(), 200, { "Content-Type": registry.contentType });
  });

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type Redis from "ioredis";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdSeats,
  payAndConfirm,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, type TestApp } from "./support/harness";
import { describeEachBackend, hasPostgresAndRedis } from "./support/services";

/** The value of one series in Prometheus text format, or 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((pair) => line.includes(pair))) return Number(line.split(" ").at(-1));
  }
  return 0;
}

describeEachBackend("/metrics on %s", (backend) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(backend);
  });
  afterAll(() => app.close());

  const scrape = async () => {
    const response = await app.request("GET", "/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toContain("text/plain");
    return response.text;
  };

  test("exposes the named series, and they move when bookings happen", async () => {
    const before = await scrape();
    for (const name of [
      "evently_http_requests_total",
      "evently_http_request_duration_seconds",
      "evently_holds_total",
      "evently_db_connections",
      "evently_process_resident_memory_bytes",
    ]) {
      expect(before).toContain(name);
    }

    const admin = await createAdmin(app);
    const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 3 });
    const [buyer, rival] = await createUsersDirect(app, 2);
    const held = await holdSeats(app, buyer as TestUser, show.show_id, [
      show.seat_ids[0] as number,
    ]);
    expect(held.status).toBe(200);
    const refused = await holdSeats(app, rival as TestUser, show.show_id, [
      show.seat_ids[0] as number,
    ]);
    expect(refused.status).toBe(409);
    await payAndConfirm(app, buyer as TestUser, held.body);
    const cancelled = await app.request("POST", `/api/v1/bookings/${held.body.booking_id}/cancel`, {
      token: buyer?.token,
    });
    expect(cancelled.status).toBe(200);

    const after = await scrape();
    expect(sample(after, "evently_holds_total", { result: "won" })).toBe(
      sample(before, "evently_holds_total", { result: "won" }) + 1,
    );
    expect(sample(after, "evently_holds_total", { result: "conflicted" })).toBe(
      sample(before, "evently_holds_total", { result: "conflicted" }) + 1,
    );
    expect(sample(after, "evently_booking_transitions_total", { to: "CONFIRMED" })).toBe(1);
    expect(sample(after, "evently_booking_transitions_total", { to: "CANCELLED" })).toBe(1);
    // Requests are labelled by route template, not by raw path.
    expect(
      sample(after, "evently_http_requests_total", {
        route: "/api/v1/bookings/:booking_id/confirm",
        status: "200",
      }),
    ).toBe(1);
    expect(after).not.toContain(`/api/v1/bookings/${held.body.booking_id}/confirm`);
  });

  test("is listed in the OpenAPI document and never rate limited", async () => {
    const doc = await app.request("GET", "/api/v1/openapi.json");
    expect(Object.keys(doc.body.paths)).toContain("/metrics");
    const limited = await createTestApp(backend, {
      RATE_LIMIT_ENABLED: "1",
      RATE_LIMIT_PER_MINUTE: "3",
    });
    try {
      for (let i = 0; i < 5; i++)
        expect((await limited.request("GET", "/metrics")).status).toBe(200);
      expect((await limited.request("GET", "/api/v1/shows")).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

// Real Redis: the postgres backend runs with REDIS_URL whenever it is set (CI requires it).
describe.skipIf(!hasPostgresAndRedis)("Redis clients of the API on postgres", () => {
  test("queue depths read through BullMQ; its scripts stay off the seat locks' client", async () => {
    const app = await createTestApp("postgres");
    try {
      const metrics = await app.request("GET", "/metrics");
      expect(metrics.status).toBe(200);
      for (const queue of ["cleanup-queue", "waiting-room-queue"]) {
        expect(metrics.text).toContain(`evently_queue_jobs{queue="${queue}"} 0`);
      }
      // Reading the depths made BullMQ define its scripts on the connection it was given.
      const defined = Object.keys((app.runtime.redis as Redis).scriptsSet);
      expect(defined).toContain("seatLockAcquire");
      const foreign = defined.filter(
        (name) => !/^(seatLock|seatMapVersion|waitingRoom|rateLimit)/.test(name),
      );
      expect(foreign).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

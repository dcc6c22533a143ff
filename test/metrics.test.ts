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
import { freePort, privateRedis, startWorker, waitUntil } from "./support/processes";
import { sample } from "./support/prometheus";
import { databaseUrl, describeEachBackend, hasPostgresAndRedis } from "./support/services";

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

describeEachBackend("METRICS_TOKEN on %s", (backend) => {
  const TOKEN = "metrics-token-for-the-scraper-only";
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(backend, { METRICS_TOKEN: TOKEN });
  });
  afterAll(() => app.close());

  test("without the bearer token /metrics is 401 UNAUTHENTICATED and shows nothing", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: `Bearer ${TOKEN}x` },
      { Authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { Authorization: TOKEN },
      { Authorization: `Basic ${btoa(`x:${TOKEN}`)}` },
      { Authorization: "Bearer " },
    ];
    for (const headers of attempts) {
      const response = await app.request("GET", "/metrics", { headers });
      expect({ headers, status: response.status }).toEqual({ headers, status: 401 });
      expect(response.body.code).toBe("UNAUTHENTICATED");
      expect(response.headers.get("WWW-Authenticate")).toStartWith("Bearer");
      expect(response.text).not.toContain("evently_");
    }
  });

  test("with it /metrics answers, and the rest of the API does not need it", async () => {
    const response = await app.request("GET", "/metrics", {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(response.text).toContain("evently_http_requests_total");
    expect((await app.request("GET", "/health/ready")).status).toBe(200);
  });
});

describe.skipIf(!databaseUrl || !Bun.which("redis-server"))(
  "/metrics and readiness while Redis is down or hung",
  () => {
    const redis = privateRedis();
    let app: TestApp;
    beforeAll(async () => {
      await redis.start();
      app = await createTestApp("postgres", { REDIS_URL: redis.url });
    });
    afterAll(async () => {
      redis.resume();
      await app.close();
      await redis.kill();
    });

    const observe = async () => {
      const [metrics, ready] = await Promise.all([
        app.request("GET", "/metrics"),
        app.request("GET", "/health/ready"),
      ]);
      return { metrics, ready };
    };
    const redisUp = (text: string) => sample(text, "evently_redis_up");

    const expectServingWithoutRedis = async () => {
      const { metrics, ready } = await observe();
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/^evently_redis_up 0$/m);
      // What does not need Redis is still measured.
      expect(sample(metrics.text, "evently_db_connections", { state: "max" })).toBeGreaterThan(0);
      expect(metrics.text).toContain("evently_http_requests_total{");
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({
        status: "DEGRADED",
        checks: { database: "ok", schema: "ok", redis: "degraded" },
      });
    };

    test("with Redis up, evently_redis_up is 1 and readiness is OK", async () => {
      const { metrics, ready } = await observe();
      expect(redisUp(metrics.text)).toBe(1);
      expect(ready.body.status).toBe("OK");
    });

    test("hung (SIGSTOP): 200 with evently_redis_up 0, readiness 200 degraded; recovers", async () => {
      redis.pause();
      try {
        await expectServingWithoutRedis();
      } finally {
        redis.resume();
      }
      await waitUntil(
        async () => redisUp((await app.request("GET", "/metrics")).text) === 1,
        () => "evently_redis_up never went back to 1",
      );
    });

    test("down (killed): 200 with evently_redis_up 0, readiness 200 degraded", async () => {
      await redis.kill();
      await expectServingWithoutRedis();
    });
  },
);

describe.skipIf(!databaseUrl)("the worker's metrics port", () => {
  const TOKEN = "worker-metrics-token";
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp("postgres");
  });
  afterAll(() => app.close());

  test("needs METRICS_TOKEN's bearer token when it is set", async () => {
    const port = freePort();
    const worker = startWorker(app, {
      WORKER_METRICS_PORT: String(port),
      METRICS_TOKEN: TOKEN,
      HOST: "127.0.0.1",
    });
    const url = `http://127.0.0.1:${port}/metrics`;
    try {
      await waitUntil(
        async () => (await fetch(url)).status === 401,
        () => `the worker's metrics port never answered 401:\n${worker.output()}`,
      );
      const refused = await fetch(url, { headers: { Authorization: "Bearer wrong" } });
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { code: string }).code).toBe("UNAUTHENTICATED");
      const allowed = await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toContain("evently_booking_transitions_total");
    } finally {
      expect(await worker.stop()).toBe(0);
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
      const defined = Object.keys((app.runtime.shared.redis as Redis).scriptsSet);
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

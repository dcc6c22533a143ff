import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connectRedis, scanKeys } from "../src/infra/redis";
import { bullPrefix, startInProcessJobs, startQueuedJobs } from "../src/jobs/background";
import { expireLapsedHolds, runCleanup } from "../src/jobs/cleanup";
import { createLogger } from "../src/lib/logger";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdSeats,
  lapseHolds,
  type ShowFixture,
} from "./support/fixtures";
import { createTestApp, query, sql, type TestApp } from "./support/harness";
import { bookingInvariantViolations } from "./support/invariants";
import { startWorker } from "./support/processes";
import {
  clusterSuitesRun,
  describeEachBackend,
  hasPostgresAndRedis,
  redisUrl,
} from "./support/services";

const silent = createLogger("silent");

/** Polls until `check` holds or the deadline passes; returns whether it held. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await Bun.sleep(200);
  }
  return check();
}

const pendingCount = async (app: TestApp, showId: number) => {
  const [row] = await query<{ count: number }>(
    app,
    sql`select count(*)::int as count from bookings where show_id = ${showId} and status = 'PENDING'`,
  );
  return row?.count ?? 0;
};

/** `count` users each hold one seat of the show; returns the booking ids. */
async function holdOneSeatEach(app: TestApp, show: ShowFixture, count: number): Promise<number[]> {
  const users = await createUsersDirect(app, count);
  const responses = await Promise.all(
    users.map((user, index) =>
      holdSeats(app, user, show.show_id, [show.seat_ids[index] as number]),
    ),
  );
  for (const response of responses) expect(response.status).toBe(200);
  return responses.map((response) => response.body.booking_id);
}

describeEachBackend("hold expiry cleanup on %s", (backend) => {
  let app: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    app = await createTestApp(backend, { HOLD_TTL_SECONDS: "2" });
    adminToken = (await createAdmin(app)).token;
  });
  afterAll(() => app.close());

  const deps = () => ({ ...app.runtime.cleanup, logger: silent });

  test("the scheduled job expires abandoned holds and frees their seats", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 6 });
    await holdOneSeatEach(app, show, 4);
    const settings = { cleanupCron: "* * * * * *", logger: silent };
    const jobs =
      backend === "postgres" && redisUrl
        ? startQueuedJobs(deps(), {
            ...settings,
            prefix: bullPrefix(app.config),
            admit: async () => [],
            admitConcurrency: 1,
            connect: () => connectRedis({ url: redisUrl as string, forWorkers: true }),
          })
        : startInProcessJobs(deps(), settings);
    try {
      expect(await eventually(async () => (await pendingCount(app, show.show_id)) === 0)).toBe(
        true,
      );
    } finally {
      await jobs.stop();
    }
    const seats = await query<{ status: string; booking_id: number | null }>(
      app,
      sql`select status::text as status, booking_id from show_seats where show_id = ${show.show_id}`,
    );
    expect(seats.every((seat) => seat.status === "AVAILABLE" && seat.booking_id === null)).toBe(
      true,
    );
    const [expired] = await query<{ count: number }>(
      app,
      sql`select count(*)::int as count from bookings where show_id = ${show.show_id} and status = 'EXPIRED'`,
    );
    expect(expired?.count).toBe(4);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("cleanup drops idempotency keys older than 24 hours and keeps younger ones", async () => {
    const [user] = await createUsersDirect(app, 1);
    await query(
      app,
      sql`insert into idempotency_keys (user_id, key, request_hash, created_at)
      values (${user?.user_id}, 'old', 'h', now() - interval '25 hours'),
             (${user?.user_id}, 'young', 'h', now() - interval '23 hours')`,
    );

    const result = await runCleanup(deps());

    expect(result.purgedKeys).toBe(1);
    const left = await query<{ key: string }>(
      app,
      sql`select key from idempotency_keys where user_id = ${user?.user_id}`,
    );
    expect(left.map((row) => row.key)).toEqual(["young"]);
  });

  test("two cleanup runs at once expire each booking exactly once", async () => {
    const show = await createShowFixture(app, adminToken, {
      rows: ["A", "B", "C", "D"],
      perRow: 15,
    });
    const bookingIds = await holdOneSeatEach(app, show, 60);
    await lapseHolds(app, bookingIds);

    const [first, second] = await Promise.all([
      expireLapsedHolds(deps(), 7),
      expireLapsedHolds(deps(), 7),
    ]);

    expect((first?.expired ?? 0) + (second?.expired ?? 0)).toBe(60);
    expect(await pendingCount(app, show.show_id)).toBe(0);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("a run that expires nothing logs at debug; one that expires holds at info", async () => {
    const lines: Array<{ level: string; expired: unknown }> = [];
    const recording = {
      ...silent,
      debug: (_: string, fields?: Record<string, unknown>) =>
        lines.push({ level: "debug", expired: fields?.expired }),
      info: (_: string, fields?: Record<string, unknown>) =>
        lines.push({ level: "info", expired: fields?.expired }),
    };
    await expireLapsedHolds(deps());
    await expireLapsedHolds({ ...deps(), logger: recording });
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 2 });
    const [bookingId] = await holdOneSeatEach(app, show, 1);
    await query(
      app,
      sql`update bookings set expires_at = now() - interval '1 second' where booking_id = ${bookingId}`,
    );
    await expireLapsedHolds({ ...deps(), logger: recording });
    expect(lines).toEqual([
      { level: "debug", expired: 0 },
      { level: "info", expired: 1 },
    ]);
  });
});

// Only where real PostgreSQL and Redis exist (always in CI): the worker process needs both.
describe.skipIf(!hasPostgresAndRedis)("the worker process", () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp("postgres", { HOLD_TTL_SECONDS: "2" });
  });
  afterAll(() => app.close());

  test("runs as its own process, expires holds on its schedule, and exits cleanly on SIGTERM", async () => {
    const admin = await createAdmin(app);
    const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 4 });
    await holdOneSeatEach(app, show, 3);

    const worker = startWorker(app, { CLEANUP_CRON: "* * * * * *" });
    try {
      expect(
        await eventually(async () => (await pendingCount(app, show.show_id)) === 0, 30_000),
      ).toBe(true);
    } finally {
      expect(await worker.stop("SIGTERM")).toBe(0);
    }
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });
});

describe.skipIf(!clusterSuitesRun)("BullMQ queues on postgres-cluster", () => {
  const backend = "postgres-cluster";
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(backend, { HOLD_TTL_SECONDS: "2" });
  });
  afterAll(() => app.close());

  test("the queued cleanup runs on the cluster, every queue key under the {bull} hash tag", async () => {
    const adminToken = (await createAdmin(app)).token;
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 4 });
    await holdOneSeatEach(app, show, 3);
    const nodes = app.config.REDIS_CLUSTER_NODES as string[];
    const jobs = startQueuedJobs(
      { ...app.runtime.cleanup, logger: silent },
      {
        cleanupCron: "* * * * * *",
        logger: silent,
        prefix: bullPrefix(app.config),
        admit: async () => [],
        admitConcurrency: 1,
        connect: () => connectRedis({ clusterNodes: nodes, forWorkers: true }),
      },
    );
    try {
      expect(await eventually(async () => (await pendingCount(app, show.show_id)) === 0)).toBe(
        true,
      );
    } finally {
      await jobs.stop();
    }
    const redis = app.runtime.shared.redis;
    if (!redis) throw new Error("the app has no Redis");
    const queueKeys: string[] = [];
    for await (const { keys } of scanKeys(redis, `${app.config.REDIS_KEY_PREFIX}*bull*`)) {
      queueKeys.push(...keys);
    }
    expect(queueKeys.length).toBeGreaterThan(0);
    for (const key of queueKeys) {
      expect(key.startsWith(`${app.config.REDIS_KEY_PREFIX}{bull}:`)).toBe(true);
    }
  });
});

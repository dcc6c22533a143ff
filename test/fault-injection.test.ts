import { afterEach, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import postgres from "postgres";
import { runCleanup } from "../src/jobs/cleanup";
import { createLogger } from "../src/lib/logger";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdSeats,
  type ShowFixture,
  type TestUser,
} from "./support/fixtures";
import { type LoadResult, runFlashSale, type ToldHold } from "./support/flash-sale-load";
import { createTestApp, query, sql, type TestApp } from "./support/harness";
import { bookingInvariantViolations, toldHoldViolations } from "./support/invariants";
import {
  API_SESSIONS,
  type ApiProcess,
  privateRedis,
  type RedisProcess,
  startApi,
  startWorker,
  type TestProcess,
  WORKER_SESSIONS,
  waitUntil,
} from "./support/processes";
import { canRun, databaseUrl, hasPostgresAndRedis } from "./support/services";

/**
 * Real API and worker processes on real PostgreSQL and Redis, with faults injected while a
 * bounded flash sale runs. FAULT_LOAD_SECONDS lengthens the load (`bun run faults`).
 */
const LOAD_MS = Number(process.env.FAULT_LOAD_SECONDS ?? 4) * 1000;

// Real PostgreSQL and Redis (always in CI), and redis-server on the PATH for the Redis fault.
describe.skipIf(!hasPostgresAndRedis || !canRun("redis-server"))("fault injection", () => {
  const running: { app?: TestApp; processes: TestProcess[]; redis?: RedisProcess } = {
    processes: [],
  };
  afterEach(async () => {
    for (const child of running.processes) child.process.kill("SIGKILL");
    await running.app?.close();
    await running.redis?.kill();
    running.processes = [];
    running.app = undefined;
    running.redis = undefined;
  });

  async function setUp(env: Record<string, string> = {}) {
    const app = await createTestApp("postgres", env);
    running.app = app;
    const admin = await createAdmin(app);
    const rows = Array.from({ length: 40 }, (_, index) => `R${index + 1}`);
    const show = await createShowFixture(app, admin.token, { rows, perRow: 50 });
    const users = await createUsersDirect(app, 20);
    return { app, show, users };
  }

  async function api(app: TestApp): Promise<ApiProcess> {
    const started = await startApi(app);
    running.processes.push(started);
    return started;
  }

  /** Runs the load, calling each fault at its offset (ms) from the start. */
  async function flashSaleWith(
    target: { baseUrl: string; users: TestUser[]; show: ShowFixture },
    faults: [number, (stopClients: () => void) => Promise<void>][],
  ): Promise<LoadResult> {
    let stopped = false;
    const stopClients = () => {
      stopped = true;
    };
    const load = runFlashSale({
      baseUrl: target.baseUrl,
      users: target.users,
      showId: target.show.show_id,
      seatIds: target.show.seat_ids,
      stopped: () => stopped,
      // Paced so that the 2,000 seats last the whole load, however long it is.
      pauseMs: LOAD_MS / 80,
    });
    const started = Date.now();
    for (const [at, fault] of faults) {
      await Bun.sleep(Math.max(at - (Date.now() - started), 0));
      await fault(stopClients);
    }
    await Bun.sleep(Math.max(LOAD_MS - (Date.now() - started), 0));
    stopClients();
    return load;
  }

  /** Sales went on: holds were won, no answer broke the contract, no request hung. */
  function expectServedThroughout(result: LoadResult) {
    expect(result.violations).toEqual([]);
    expect(result.outcomes["hold 200"]).toBeGreaterThan(0);
    const hung = Object.keys(result.outcomes).filter((outcome) => outcome.endsWith("TimeoutError"));
    expect(hung).toEqual([]);
  }

  /** Hold requests that got no definite answer: their booking may or may not exist. */
  const undecidedHolds = (result: LoadResult) =>
    Object.entries(result.outcomes)
      .filter(([outcome]) => outcome.startsWith("hold ") && !/^hold (200|409)$/.test(outcome))
      .reduce((sum, [, count]) => sum + count, 0);

  /** One hold on a seat nobody took: proves the service serves again, and is told too. */
  async function probeHold(baseUrl: string, app: TestApp, show: ShowFixture): Promise<ToldHold> {
    const [user] = await createUsersDirect(app, 1);
    const [free] = await query<{ seat_id: number }>(
      app,
      sql`select seat_id from show_seats where show_id = ${show.show_id} and status = 'AVAILABLE'
          order by seat_id desc limit 1`,
    );
    let answer: { status: number; body: { booking_id: number } } | undefined;
    await waitUntil(
      async () => {
        const response = await fetch(`${baseUrl}/api/v1/bookings/lock`, {
          method: "POST",
          headers: { Authorization: `Bearer ${user?.token}`, "Content-Type": "application/json" },
          body: JSON.stringify({ show_id: show.show_id, seat_ids: [free?.seat_id] }),
        });
        answer = {
          status: response.status,
          body: (await response.json()) as { booking_id: number },
        };
        return response.status === 200;
      },
      () => `the API did not recover: ${JSON.stringify(answer)}`,
    );
    return {
      bookingId: answer?.body.booking_id as number,
      seatIds: [free?.seat_id as number],
      confirmed: false,
    };
  }

  /** Seat lock keys of `app` that would never expire (PTTL -1). */
  async function seatLocksWithoutExpiry(app: TestApp): Promise<string[]> {
    const redis = new Redis(app.config.REDIS_URL as string);
    try {
      const keys = await redis.keys(`${app.config.REDIS_KEY_PREFIX}seat_lock:*`);
      const ttls = await Promise.all(keys.map((key) => redis.pttl(key)));
      return keys.filter((_, index) => ttls[index] === -1);
    } finally {
      redis.disconnect();
    }
  }

  /** The booking engine's invariants, after one cleanup run has repaired the seat locks. */
  async function expectConsistentAfterCleanup(
    app: TestApp,
    show: ShowFixture,
    told: ToldHold[],
    undecided: number,
  ) {
    await runCleanup({ ...app.runtime.cleanup, logger: createLogger("silent") });
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    expect(await toldHoldViolations(app, show.show_id, told, undecided)).toEqual([]);
  }

  test("Redis dies and comes back empty: no oversell, no 500, the service heals itself", async () => {
    const redis = privateRedis();
    running.redis = redis;
    await redis.start();
    const { app, show, users } = await setUp({ REDIS_URL: redis.url });
    const server = await api(app);

    const result = await flashSaleWith({ baseUrl: server.baseUrl, users, show }, [
      [LOAD_MS * 0.25, () => redis.kill()],
      [LOAD_MS * 0.6, () => redis.start()],
    ]);

    expectServedThroughout(result);
    // Readiness sees Redis again, and new holds take Redis locks.
    await waitUntil(
      async () => {
        const ready = (await (await fetch(`${server.baseUrl}/health/ready`)).json()) as {
          checks: { redis: string };
        };
        return ready.checks.redis === "ok";
      },
      () => "readiness never saw Redis again",
    );
    const probe = await probeHold(server.baseUrl, app, show);
    // This test's own connection to the restarted Redis reconnects on its own schedule.
    await waitUntil(
      async () => (await app.runtime.shared.redis?.ping()) === "PONG",
      () => "the test's Redis client never reconnected",
    );
    const locks = await app.runtime.shared.locks.snapshot(show.show_id);
    expect(locks.get(probe.seatIds[0] as number)).toBeString();
    await expectConsistentAfterCleanup(app, show, [...result.holds, probe], undecidedHolds(result));
  });

  test("PostgreSQL connections are terminated: the pool recovers, no partial booking", async () => {
    const { app, show, users } = await setUp();
    const server = await api(app);
    const admin = postgres(databaseUrl as string, { max: 1, onnotice: () => {} });
    const database = new URL(app.config.DATABASE_URL as string).pathname.slice(1);
    const terminateAll = async () => {
      await admin`select pg_terminate_backend(pid) from pg_stat_activity
                  where datname = ${database} and application_name = ${API_SESSIONS}`;
    };
    try {
      const result = await flashSaleWith(
        { baseUrl: server.baseUrl, users, show },
        [0.2, 0.45, 0.7].map((share) => [LOAD_MS * share, terminateAll] as const),
      );

      expectServedThroughout(result);
      const probe = await probeHold(server.baseUrl, app, show);
      await expectConsistentAfterCleanup(
        app,
        show,
        [...result.holds, probe],
        undecidedHolds(result),
      );
    } finally {
      await admin.end();
    }
  });

  test("SIGTERM under load: in-flight requests complete, the process exits 0, every hold expires", async () => {
    const { app, show, users } = await setUp();
    const server = await api(app);

    let exitCode: number | null | undefined;
    const result = await flashSaleWith({ baseUrl: server.baseUrl, users, show }, [
      [
        LOAD_MS * 0.5,
        async (stopClients) => {
          // No new requests from here: what is in flight now must be answered, not reset.
          stopClients();
          // Requests issued just before are given a moment to connect: one refused because
          // it never reached the server is not an in-flight request.
          await Bun.sleep(10);
          exitCode = await server.stop("SIGTERM");
        },
      ],
    ]);
    expect(exitCode).toBe(0);
    const unanswered = Object.keys(result.outcomes).filter(
      (outcome) => !/ (\d{3}|ECONNREFUSED)$/.test(outcome),
    );
    expect(unanswered).toEqual([]);
    expect(result.violations).toEqual([]);

    const [unbounded] = await query<{ count: number }>(
      app,
      sql`select count(*)::int as count from bookings b
          where b.show_id = ${show.show_id} and b.status = 'PENDING'
            and (b.expires_at is null or b.expires_at > now() + interval '10 minutes')`,
    );
    expect(unbounded?.count).toBe(0);
    expect(await seatLocksWithoutExpiry(app)).toEqual([]);
    await expectConsistentAfterCleanup(app, show, result.holds, 0);
  });

  test("a worker SIGKILLed in the middle of a cleanup: the next one finishes, nothing expires twice", async () => {
    const { app, show } = await setUp({ HOLD_TTL_SECONDS: "2" });
    const holders = await createUsersDirect(app, 300);
    const holds = await Promise.all(
      holders.map(async (user, index) => {
        const seatIds = show.seat_ids.slice(2 * index, 2 * index + 2);
        const response = await holdSeats(app, user, show.show_id, seatIds);
        expect(response.status).toBe(200);
        return { bookingId: response.body.booking_id, seatIds, confirmed: false };
      }),
    );
    await Bun.sleep(2_500);
    const expiredCount = async () => {
      const [row] = await query<{ count: number }>(
        app,
        sql`select count(*)::int as count from bookings
            where show_id = ${show.show_id} and status = 'EXPIRED'`,
      );
      return row?.count ?? 0;
    };
    // Small batches: the first worker is still mid-run, many commits in, when it is killed.
    const workerEnv = { CLEANUP_CRON: "* * * * * *", CLEANUP_BATCH_SIZE: "2", LOG_LEVEL: "info" };

    const first = startWorker(app, workerEnv);
    running.processes.push(first);
    await waitUntil(
      async () => (await expiredCount()) > 0,
      () => first.output(),
      30_000,
      5,
    );
    await first.stop("SIGKILL");
    // A COMMIT the worker sent just before dying may still be finishing: count once its
    // backends are idle or gone.
    await waitUntil(
      async () => {
        const [busy] = await query<{ count: number }>(
          app,
          sql`select count(*)::int as count from pg_stat_activity
              where datname = current_database() and state <> 'idle'
                and application_name = ${WORKER_SESSIONS}`,
        );
        return busy?.count === 0;
      },
      () => "the killed worker's transactions never ended",
    );
    const expiredByFirst = await expiredCount();
    // Killed with work left: some batches committed, the rest never ran.
    expect(expiredByFirst).toBeGreaterThan(0);
    expect(expiredByFirst).toBeLessThan(holds.length);

    const second = startWorker(app, workerEnv);
    running.processes.push(second);
    const expiredBySecond = () =>
      second
        .stdout()
        .split("\n")
        .slice(0, -1) // the last piece may be a line still being written
        .filter((line) => line.includes('"cleanup: expired lapsed holds"'))
        .reduce((sum, line) => sum + JSON.parse(line).expired, 0);
    await waitUntil(
      async () => expiredBySecond() >= holds.length - expiredByFirst,
      () => `the second worker did not finish:\n${second.output()}`,
      60_000,
    );
    expect(await second.stop("SIGTERM")).toBe(0);

    expect(expiredByFirst + expiredBySecond()).toBe(holds.length);
    expect(await expiredCount()).toBe(holds.length);
    await expectConsistentAfterCleanup(app, show, holds, 0);
  });
});

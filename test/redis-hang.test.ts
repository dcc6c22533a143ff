import { afterEach, describe, expect, test } from "bun:test";
import { runCleanup } from "../src/jobs/cleanup";
import { createLogger } from "../src/lib/logger";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, query, sql, type TestApp, type TestResponse } from "./support/harness";
import { bookingInvariantViolations } from "./support/invariants";
import { privateRedis, type RedisProcess, waitUntil } from "./support/processes";
import { databaseUrl, redisUrl } from "./support/services";

const redisServerOnPath = Bun.which("redis-server") !== null;

/**
 * A hung Redis (SIGSTOP: connections stay open, nothing is answered) used to cost every Redis
 * call its whole REDIS_TIMEOUT_MS, one after another. Each request now waits at most once per
 * outage: counted in commands that timed out, never in wall-clock time.
 */
describe.skipIf(!(databaseUrl && redisUrl && redisServerOnPath))("a hung Redis", () => {
  const running: { app?: TestApp; redis?: RedisProcess } = {};
  afterEach(async () => {
    running.redis?.resume();
    await running.app?.close();
    await running.redis?.kill();
    running.app = undefined;
    running.redis = undefined;
  });

  test("only the first request waits for it, nothing is sold twice, and its locks return with it", async () => {
    const redis = privateRedis();
    running.redis = redis;
    await redis.start();
    // Every Redis caller of the request path on: rate limits and the waiting room too.
    const app = await createTestApp("postgres", {
      REDIS_URL: redis.url,
      RATE_LIMIT_ENABLED: "1",
      WAITING_ROOM_ENABLED: "1",
    });
    running.app = app;
    const circuit = app.runtime.shared.redisCircuit;
    if (!circuit) throw new Error("the app has no Redis circuit");
    const admin = await createAdmin(app);
    const show = await createShowFixture(app, admin.token);
    const [canceller, buyer, latecomer, afterwards] = await createUsersDirect(app, 4);
    const racers = await createUsersDirect(app, 10);
    const [cancelledSeat, boughtSeat, freeSeat, raced] = show.seat_ids;

    /** Sends a request; answers its response and how many of the Redis commands timed out. */
    const timeoutsWaited: Record<string, number> = {};
    const send = async (
      step: string,
      user: TestUser | undefined,
      method: string,
      path: string,
      body?: unknown,
    ): Promise<TestResponse> => {
      const before = circuit.timeouts;
      const response = await app.request(method, path, { token: user?.token, body });
      timeoutsWaited[step] = circuit.timeouts - before;
      return response;
    };
    const buy = async (who: string, user: TestUser | undefined, seatId: number | undefined) => {
      const hold = await send(`${who} hold`, user, "POST", "/api/v1/bookings/lock", {
        show_id: show.show_id,
        seat_ids: [seatId],
      });
      expect(hold.status).toBe(200);
      const bookingId = hold.body.booking_id;
      const paid = await send(`${who} pay`, user, "POST", "/api/v1/bookings/payments/simulate", {
        booking_id: bookingId,
        amount: hold.body.amount,
      });
      expect(paid.status).toBe(200);
      const confirmed = await send(
        `${who} confirm`,
        user,
        "POST",
        `/api/v1/bookings/${bookingId}/confirm`,
        {},
      );
      expect(confirmed.status).toBe(200);
      return bookingId as number;
    };

    redis.pause();
    const cancelledId = await buy("canceller", canceller, cancelledSeat);
    const cancelled = await send(
      "canceller cancel",
      canceller,
      "POST",
      `/api/v1/bookings/${cancelledId}/cancel`,
      {},
    );
    expect(cancelled.status).toBe(200);
    const boughtId = await buy("buyer", buyer, boughtSeat);
    // Without Redis's refusal, PostgreSQL's row locks alone keep the sold seat sold.
    const refused = await send("latecomer hold", latecomer, "POST", "/api/v1/bookings/lock", {
      show_id: show.show_id,
      seat_ids: [boughtSeat],
    });
    expect(refused.status).toBe(409);
    // Ten at once for one seat, every Redis call failing fast: PostgreSQL lets one through.
    const beforeRace = circuit.timeouts;
    const race = await Promise.all(
      racers.map((racer) =>
        app.request("POST", "/api/v1/bookings/lock", {
          token: racer.token,
          body: { show_id: show.show_id, seat_ids: [raced] },
        }),
      ),
    );
    timeoutsWaited["ten holds of one seat"] = circuit.timeouts - beforeRace;
    expect(race.map((response) => response.status).sort()).toEqual([
      200,
      ...Array(racers.length - 1).fill(409),
    ]);
    const seatMap = await send("seat map", undefined, "GET", `/api/v1/shows/${show.show_id}/seats`);
    expect(seatMap.status).toBe(200);

    // The first request found Redis hung; every later one failed its Redis calls fast.
    const [first, ...later] = Object.entries(timeoutsWaited);
    expect(first?.[1]).toBeGreaterThanOrEqual(1);
    expect(later.filter(([, waited]) => waited > 0)).toEqual([]);
    expect(circuit.isOpen).toBe(true);

    redis.resume();
    await waitUntil(
      async () => !circuit.isOpen,
      () => "the circuit never closed after Redis answered again",
    );
    expect(await app.runtime.services.metrics.render()).toContain(
      'evently_redis_circuit{state="closed"} 1',
    );
    // Redis locks are taken again.
    const hold = await send("afterwards hold", afterwards, "POST", "/api/v1/bookings/lock", {
      show_id: show.show_id,
      seat_ids: [freeSeat],
    });
    expect(hold.status).toBe(200);
    const locks = await app.runtime.shared.locks.snapshot(show.show_id);
    expect(locks.get(freeSeat as number)).toBeString();
    expect(timeoutsWaited["afterwards hold"]).toBe(0);

    // Nothing lost: the bought booking stands, the cancelled one is cancelled; one cleanup run
    // brings Redis in line with PostgreSQL (the BOOKED marker the outage skipped).
    const statuses = await query<{ booking_id: number; status: string }>(
      app,
      sql`select booking_id, status::text as status from bookings
          where booking_id in (${cancelledId}, ${boughtId}) order by booking_id`,
    );
    expect(statuses).toEqual([
      { booking_id: cancelledId, status: "CANCELLED" },
      { booking_id: boughtId, status: "CONFIRMED" },
    ]);
    await runCleanup({ ...app.runtime.cleanup, logger: createLogger("silent") });
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });
});

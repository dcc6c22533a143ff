import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type Redis from "ioredis";
import { deleteKeysWithPrefix } from "../scripts/bench/redis";
import { connectRedis, waitForRedis } from "../src/infra/redis";
import {
  MemoryWaitingRoomStore,
  RedisWaitingRoomStore,
  type RoomSettings,
  type WaitingRoomStore,
} from "../src/infra/waiting-room-store";
import { bullPrefix, startQueuedJobs } from "../src/jobs/background";
import { AppError } from "../src/lib/errors";
import { createLogger } from "../src/lib/logger";
import { WaitingRoom } from "../src/modules/waiting-room/service";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdSeats,
  payAndConfirm,
  type ShowFixture,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, type TestApp } from "./support/harness";
import { sample } from "./support/prometheus";
import {
  describeEachBackend,
  describeEachIfAvailable,
  hasPostgresAndRedis,
  redisUrl,
} from "./support/services";

const room = { WAITING_ROOM_ENABLED: "1", WAITING_ROOM_THRESHOLD: "3" };

describeEachBackend("waiting room on %s", (backend) => {
  let app: TestApp;
  let show: ShowFixture;
  let users: TestUser[];

  beforeAll(async () => {
    app = await createTestApp(backend, room);
    const admin = await createAdmin(app);
    show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 12 });
    users = await createUsersDirect(app, 10);
  });
  afterAll(() => app.close());

  const hold = (user: TestUser, seatIndex: number) =>
    holdSeats(app, user, show.show_id, [show.seat_ids[seatIndex] as number]);
  const status = (user: TestUser) =>
    app.request("GET", `/api/v1/waiting-room/${show.show_id}`, { token: user.token });

  test("threshold 3: three are admitted, seven queue in arrival order and move up FIFO as buyers confirm", async () => {
    const stranger = users[9] as TestUser;
    expect((await status(stranger)).body).toEqual({ status: "open" });

    const arrivals = [];
    for (const [index, user] of users.entries()) arrivals.push(await hold(user, index));

    const admitted = arrivals.slice(0, 3);
    for (const response of admitted) expect(response.status).toBe(200);
    const queued = arrivals.slice(3);
    queued.forEach((response, index) => {
      expect(response.status).toBe(429);
      expect(response.body.code).toBe("WAITING_ROOM");
      expect(response.body.details.position).toBe(index + 1);
      expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
    });

    // Status agrees, and asking (or retrying the hold) neither loses nor improves a place.
    const fourth = users[3] as TestUser;
    const fifth = users[4] as TestUser;
    const fourthStatus = await status(fourth);
    expect(fourthStatus.body.status).toBe("queued");
    expect(fourthStatus.body.position).toBe(1);
    expect(fourthStatus.body.estimated_wait_seconds).toBeGreaterThan(0);
    const retried = await hold(fifth, 4);
    expect(retried.status).toBe(429);
    expect(retried.body.details.position).toBe(2);
    expect((await status(users[0] as TestUser)).body.status).toBe("admitted");

    // A queued user cannot hold seats before admission: nothing was held for them.
    const seatMap = await app.request("GET", `/api/v1/shows/${show.show_id}/seats`);
    const lockedSeats = seatMap.body.seats.filter(
      (seat: { status: string }) => seat.status === "LOCKED",
    );
    expect(lockedSeats).toHaveLength(3);

    // The first buyer confirms: the head of the line (user 4) is admitted, the rest move up.
    await payAndConfirm(app, users[0] as TestUser, admitted[0]?.body);
    expect((await status(fourth)).body.status).toBe("admitted");
    expect((await status(fifth)).body.position).toBe(1);
    expect((await hold(fourth, 3)).status).toBe(200);
    expect((await hold(fifth, 4)).status).toBe(429);

    // Two more sessions end: the next two in line, in order, get in.
    await payAndConfirm(app, users[1] as TestUser, admitted[1]?.body);
    const cancelled = await app.request(
      "POST",
      `/api/v1/bookings/${admitted[2]?.body.booking_id}/cancel`,
      {
        token: (users[2] as TestUser).token,
      },
    );
    expect(cancelled.status).toBe(200);
    expect((await status(fifth)).body.status).toBe("admitted");
    expect((await status(users[5] as TestUser)).body.status).toBe("admitted");
    expect((await status(users[6] as TestUser)).body).toMatchObject({
      status: "queued",
      position: 1,
    });
    expect((await hold(fifth, 4)).status).toBe(200);
  });

  test("refused hold attempts never renew an admission; a hold that succeeds and a payment do", async () => {
    const admin = await createAdmin(app);
    const other = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 4 });
    const [buyer, rival] = (await createUsersDirect(app, 2)) as [TestUser, TestUser];
    const [taken, free] = other.seat_ids as [number, number];
    const admittedUntil = async () => {
      const response = await app.request("GET", `/api/v1/waiting-room/${other.show_id}`, {
        token: buyer.token,
      });
      expect(response.body.status).toBe("admitted");
      return Date.parse(response.body.admitted_until);
    };

    expect((await holdSeats(app, rival, other.show_id, [taken])).status).toBe(200);
    expect((await holdSeats(app, buyer, other.show_id, [taken])).status).toBe(409);
    const admission = await admittedUntil();
    // A seat someone holds, a seat id of no venue: attempts that hold nothing renew nothing.
    for (const seat of [taken, 999_999_999, taken]) {
      await Bun.sleep(5);
      expect([400, 409]).toContain((await holdSeats(app, buyer, other.show_id, [seat])).status);
    }
    expect(await admittedUntil()).toBe(admission);

    await Bun.sleep(5);
    const held = await holdSeats(app, buyer, other.show_id, [free]);
    expect(held.status).toBe(200);
    const renewedByHold = await admittedUntil();
    expect(renewedByHold).toBeGreaterThan(admission);

    await Bun.sleep(5);
    const paid = await app.request("POST", "/api/v1/bookings/payments/simulate", {
      token: buyer.token,
      body: { booking_id: held.body.booking_id, amount: held.body.amount },
    });
    expect(paid.status).toBe(200);
    expect(await admittedUntil()).toBeGreaterThan(renewedByHold);
  });

  test("simultaneous arrivals get distinct consecutive places", async () => {
    const admin = await createAdmin(app);
    const other = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 12 });
    const crowd = await createUsersDirect(app, 10);
    const responses = await Promise.all(
      crowd.map((user, index) =>
        holdSeats(app, user, other.show_id, [other.seat_ids[index] as number]),
      ),
    );
    expect(responses.filter((response) => response.status === 200)).toHaveLength(3);
    const places = responses
      .filter((response) => response.status === 429)
      .map((response) => response.body.details.position)
      .sort((a, b) => a - b);
    expect(places).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});

describe.skipIf(!hasPostgresAndRedis)("waiting-room-queue worker", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp("postgres", room);
  });
  afterAll(() => app.close());

  test("a BullMQ admission job moves the line when a session ends, without anyone polling", async () => {
    const admin = await createAdmin(app);
    const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 6 });
    const users = await createUsersDirect(app, 5);
    const store = app.runtime.shared.waitingRoomStore;
    const jobs = startQueuedJobs(app.runtime.cleanup, {
      cleanupCron: "0 0 1 1 *",
      logger: createLogger("silent"),
      prefix: bullPrefix(app.config),
      connect: () => connectRedis({ url: redisUrl as string, forWorkers: true }),
      admit: (showId) => store.admitNext(showId, Date.now()),
      admitConcurrency: 10,
    });
    try {
      const holds = [];
      for (const [index, user] of users.entries()) {
        holds.push(await holdSeats(app, user, show.show_id, [show.seat_ids[index] as number]));
      }
      expect(holds.map((response) => response.status)).toEqual([200, 200, 200, 429, 429]);
      expect(await store.queueLength(show.show_id)).toBe(2);

      const cancelled = await app.request(
        "POST",
        `/api/v1/bookings/${holds[0]?.body.booking_id}/cancel`,
        {
          token: (users[0] as TestUser).token,
        },
      );
      expect(cancelled.status).toBe(200);

      const deadline = Date.now() + 10_000;
      while ((await store.queueLength(show.show_id)) !== 1 && Date.now() < deadline)
        await Bun.sleep(100);
      expect(await store.queueLength(show.show_id)).toBe(1);
    } finally {
      await jobs.stop();
    }
  });
});

describeEachBackend("waiting room metrics and silence on %s", (backend) => {
  // Admissions lapse after 1 s, silent places after 2 s: the tests wait them out.
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(backend, {
      ...room,
      ADMISSION_TTL_SECONDS: "1",
      QUEUE_ABANDON_SECONDS: "2",
    });
  });
  afterAll(() => app.close());

  const scrape = async () => (await app.request("GET", "/metrics")).text;

  /** Threshold 3 on a new show: three users admitted, two in line. */
  const crowd = async () => {
    const admin = await createAdmin(app);
    const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 5 });
    const users = await createUsersDirect(app, 5);
    for (const [index, user] of users.entries()) {
      const response = await holdSeats(app, user, show.show_id, [show.seat_ids[index] as number]);
      expect(response.status).toBe(index < 3 ? 200 : 429);
    }
    const status = async (user: TestUser) =>
      (await app.request("GET", `/api/v1/waiting-room/${show.show_id}`, { token: user.token }))
        .body;
    return { show, waiting: users.slice(3), status };
  };

  test("queued users silent past QUEUE_ABANDON_SECONDS leave the gauge and lose their place, even if their own call comes first", async () => {
    const { show, waiting, status } = await crowd();
    const queued = async () =>
      sample(await scrape(), "evently_waiting_room_queued", { show_id: String(show.show_id) });
    expect(await queued()).toBe(2);

    // Nobody calls for longer than QUEUE_ABANDON_SECONDS; the admissions lapse meanwhile.
    await Bun.sleep(2100);
    expect(await queued()).toBe(0);
    for (const user of waiting) expect(await status(user)).toEqual({ status: "open" });
  });

  test("admissions made by a status call are counted", async () => {
    const { waiting, status } = await crowd();
    const admissions = async () => sample(await scrape(), "evently_waiting_room_admissions_total");
    const before = await admissions();

    // The three admissions lapse; the line's own status calls admit it (no job runs).
    await Bun.sleep(1100);
    for (const user of waiting) expect((await status(user)).status).toBe("admitted");
    expect(await admissions()).toBe(before + 2);
  });
});

// ---------------------------------------------------------------------------------------------
// ETA error, on a fake clock: the line's real waits against what each poll was told.
// ---------------------------------------------------------------------------------------------

const ETA_TTL_SECONDS = 300;
const ETA_THRESHOLD = 3;
const ETA_LINE = 15;
const POLL_SECONDS = 10;
const etaStoreSettings: RoomSettings = {
  threshold: ETA_THRESHOLD,
  admissionTtlMs: ETA_TTL_SECONDS * 1000,
  abandonMs: 3_600_000,
};

interface Estimate {
  told: number;
  truth: number;
  /** The line had moved twice within the last admission TTL when this was told. */
  paced: boolean;
}

/**
 * Three admitted, ETA_LINE in line, everybody polling every POLL_SECONDS. Each admitted user
 * ends the session `sessionSeconds` after admission (confirming), or sits out the whole
 * admission when that is the TTL. Returns every ETA told, with the wait that followed.
 */
async function driveLine(store: WaitingRoomStore, sessionSeconds: number): Promise<Estimate[]> {
  const show = 1;
  let now = 1_700_000_000_000;
  const room = new WaitingRoom(
    store,
    { enabled: true, threshold: ETA_THRESHOLD, admissionTtlSeconds: ETA_TTL_SECONDS },
    async () => {},
    createLogger("silent"),
    () => now,
  );
  const sessions = new Map<number, number>();
  const admittedAt = new Map<number, number>();
  const batches: number[] = [];
  const told: { user: number; at: number; eta: number; paced: boolean }[] = [];
  const paced = () => new Set(batches.filter((at) => at > now - ETA_TTL_SECONDS * 1000)).size >= 2;

  for (const user of [1, 2, 3]) {
    await room.enter(show, user);
    sessions.set(user, now);
  }
  const waiting = new Set(Array.from({ length: ETA_LINE }, (_, i) => 100 + i));
  for (const user of waiting) {
    const refusal = await room.enter(show, user).catch((error: unknown) => error);
    if (!(refusal instanceof AppError)) throw new Error(`user ${user} was not queued`);
    told.push({
      user,
      at: now,
      eta: refusal.details?.estimated_wait_seconds as number,
      paced: false,
    });
  }
  // Even with every session running its whole admission, the line is through by then.
  const end = now + Math.ceil(ETA_LINE / ETA_THRESHOLD + 1) * ETA_TTL_SECONDS * 1000;
  while (waiting.size > 0) {
    now += POLL_SECONDS * 1000;
    if (now > end) throw new Error(`the line stopped moving with ${waiting.size} waiting`);
    for (const [user, since] of sessions) {
      if (sessionSeconds < ETA_TTL_SECONDS && now >= since + sessionSeconds * 1000) {
        await room.leave(show, user);
        sessions.delete(user);
      }
    }
    for (const user of waiting) {
      const state = await room.status(show, user);
      if (state.status === "admitted") {
        admittedAt.set(user, now);
        sessions.set(user, now);
        if (batches.at(-1) !== now) batches.push(now);
        waiting.delete(user);
      } else {
        told.push({ user, at: now, eta: state.estimated_wait_seconds as number, paced: paced() });
      }
    }
  }
  return told.map(({ user, at, eta, paced }) => ({
    told: eta,
    truth: ((admittedAt.get(user) as number) - at) / 1000,
    paced,
  }));
}

let etaRedis: Redis | undefined;
const etaPrefix = `test:wr-eta:${crypto.randomUUID().slice(0, 8)}:`;
let etaRooms = 0;
const etaStores: { name: string; create: () => WaitingRoomStore }[] = [
  { name: "memory", create: () => new MemoryWaitingRoomStore(etaStoreSettings) },
  {
    name: "redis",
    create: () => {
      if (!etaRedis) throw new Error("Redis is not connected");
      return new RedisWaitingRoomStore(etaRedis, etaStoreSettings, `${etaPrefix}${++etaRooms}:`);
    },
  },
];
beforeAll(async () => {
  if (!redisUrl) return;
  etaRedis = connectRedis({ url: redisUrl, commandTimeoutMs: 2000 });
  await waitForRedis(etaRedis, 5000);
});
afterAll(async () => {
  if (!etaRedis) return;
  await deleteKeysWithPrefix(etaRedis, etaPrefix);
  etaRedis.disconnect();
});

describeEachIfAvailable(
  etaStores,
  (store) => store.name,
  (store) => store.name === "memory" || redisUrl !== undefined,
)("waiting-room ETA against the real wait (%s store)", ({ create }) => {
  test.each([
    ["every admitted user stays the full admission", ETA_TTL_SECONDS],
    ["buyers confirm within 30 s", 30],
  ])("%s", async (name, sessionSeconds) => {
    const estimates = await driveLine(create(), sessionSeconds);
    for (const paced of [false, true]) {
      const errors = estimates
        .filter((estimate) => estimate.paced === paced)
        .map(({ told, truth }) => told - truth);
      if (errors.length === 0) continue;
      const meanAbsolute = errors.reduce((sum, error) => sum + Math.abs(error), 0) / errors.length;
      console.log(
        `ETA error, ${name}, ${paced ? "at the observed pace" : "before the line moved twice"}:` +
          ` ${errors.length} estimates, ${errors.filter((error) => error < 0).length} shorter` +
          ` than the wait (by up to ${-Math.min(0, ...errors)} s), longer by up to` +
          ` ${Math.max(0, ...errors)} s, mean |error| ${meanAbsolute.toFixed(1)} s`,
      );
    }
    for (const { told, truth, paced } of estimates) {
      // At the observed pace the truth is off by at most one session (places free up in
      // batches as sessions end). Before that, every session is assumed to run its whole
      // admission: nobody waits longer than told.
      if (paced) expect(Math.abs(told - truth)).toBeLessThanOrEqual(sessionSeconds);
      else expect(told).toBeGreaterThanOrEqual(truth);
    }
    // Sessions that all run their whole admission, in step, never show a pace.
    expect(estimates.some(({ paced }) => paced)).toBe(sessionSeconds < ETA_TTL_SECONDS);
  });
});

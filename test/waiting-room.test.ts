import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connectRedis } from "../src/infra/redis";
import { bullPrefix, startQueuedJobs } from "../src/jobs/background";
import { createLogger } from "../src/lib/logger";
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
import { describeEachBackend, hasPostgresAndRedis, redisUrl } from "./support/services";

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
    const store = app.runtime.waitingRoomStore;
    const jobs = startQueuedJobs(app.runtime.services.cleanup, {
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

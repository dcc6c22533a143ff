import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import net from "node:net";
import { RedisSeatEvents } from "../src/infra/seat-events";
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
import { privateRedis, type RedisProcess } from "./support/processes";
import { databaseUrl, describeEachBackend, redisUrl } from "./support/services";
import { changeOf, SseClient } from "./support/sse-client";

/** Polls `read` until it returns `expected` or `timeoutMs` passes; answers the last value. */
async function eventually<T>(
  read: () => T | Promise<T>,
  expected: T,
  timeoutMs = 2000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await Bun.sleep(20);
    value = await read();
  }
  return value;
}

/** The first AVAILABLE change that names the seat (possibly with other seats). */
async function lapseOf(client: SseClient, seatId: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const event = await client.nextOf("change", Math.max(1, deadline - Date.now()));
    const body = JSON.parse(event.data) as { seat_ids: number[]; status: string };
    if (body.status === "AVAILABLE" && body.seat_ids.includes(seatId)) return body;
  }
}

/** A raw client that sends the request and never reads a byte of the answer. */
function neverReading(url: string, headers: Record<string, string>): net.Socket {
  const { hostname, port, pathname } = new URL(url);
  const socket = net.createConnection({ host: hostname, port: Number(port) }, () => {
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\n${lines.join("")}\r\n`);
  });
  socket.pause();
  return socket;
}

describeEachBackend("live seat map stream on %s", (backend) => {
  const testWithRedis = test.skipIf(!(backend === "postgres" && redisUrl));
  let app: TestApp;
  /** A second API instance on the same database and Redis; embedded mode is one process. */
  let other: TestApp;
  let show: ShowFixture;
  let admin: TestUser;
  let users: TestUser[];
  let server: ReturnType<typeof Bun.serve>;
  let baseUrl: string;
  const env = {
    SEAT_STREAM_MAX_PER_INSTANCE: "3",
    SEAT_STREAM_MAX_PER_CLIENT: "2",
    SEAT_STREAM_HEARTBEAT_SECONDS: "1",
    SEAT_STREAM_WRITE_TIMEOUT_SECONDS: "1",
    // Clients tell their address in X-Forwarded-For, as through one proxy.
    TRUST_PROXY: "1",
    HOLD_TTL_SECONDS: "3",
  };

  beforeAll(async () => {
    app = await createTestApp(backend, env);
    other =
      backend === "postgres" && redisUrl
        ? await createTestApp(backend, env, { sameDataAs: app })
        : app;
    admin = await createAdmin(app);
    show = await createShowFixture(app, admin.token, { rows: ["A", "B"], perRow: 5 });
    users = await createUsersDirect(app, 4);
    server = Bun.serve({ port: 0, fetch: app.runtime.app.fetch });
    baseUrl = `http://127.0.0.1:${server.port}`;
  }, 30_000);
  afterAll(async () => {
    await server?.stop(true);
    if (other && other !== app) await other.close();
    await app?.close();
  }, 30_000);

  const streamUrl = (showId = show.show_id) => `${baseUrl}/api/v1/shows/${showId}/seats/stream`;

  /** Closes the clients and waits until the server has let go of every stream. */
  async function closeAll(...clients: SseClient[]) {
    for (const client of clients) client.close();
    const { seatStreams } = app.runtime.services;
    expect(await eventually(() => seatStreams.openStreams, 0)).toBe(0);
  }

  /** Headers of an anonymous client at `ip`, or of a user, as one proxy forwards them. */
  const from = (ip: string, token?: string): Record<string, string> => ({
    "X-Forwarded-For": ip,
    ...(token ? { Authorization: `Bearer ${token}` } : {}),
  });

  async function openStream(
    showId?: number,
    headers: Record<string, string> = {},
  ): Promise<SseClient> {
    const opened = await SseClient.open(streamUrl(showId), headers);
    if (opened instanceof Response) {
      throw new Error(`stream refused: ${opened.status} ${await opened.text()}`);
    }
    return opened;
  }

  const hold = async (target: TestApp, user: TestUser, seatIds: number[]) => {
    const held = await holdSeats(target, user, show.show_id, seatIds);
    expect(held.status).toBe(200);
    return held.body as { booking_id: number; amount: number };
  };

  /** Holds one seat through `target`; the stream must announce it LOCKED within a second. */
  async function holdAndSee(client: SseClient, target: TestApp, user: TestUser, seatId: number) {
    await hold(target, user, [seatId]);
    expect(await changeOf(client, [seatId], 1000)).toEqual({
      seat_ids: [seatId],
      status: "LOCKED",
    });
  }

  test("sends the snapshot, then every hold, confirmation and cancellation within a second", async () => {
    const client = await openStream();
    try {
      expect(client.response.headers.get("Content-Type")).toContain("text/event-stream");
      const snapshot = await client.next(2000);
      expect(snapshot.event).toBe("seats");
      const map = await app.request("GET", `/api/v1/shows/${show.show_id}/seats`);
      expect(snapshot.data).toBe(map.text);
      expect(JSON.parse(snapshot.data).seats).toHaveLength(10);

      const user = users[0] as TestUser;
      const seatIds = show.seat_ids.slice(0, 2);
      const booking = await hold(app, user, seatIds);
      expect(await changeOf(client, seatIds, 1000)).toEqual({
        seat_ids: seatIds,
        status: "LOCKED",
      });

      await payAndConfirm(app, user, booking);
      expect(await changeOf(client, seatIds, 1000)).toEqual({
        seat_ids: seatIds,
        status: "BOOKED",
      });

      const cancelled = await app.request("POST", `/api/v1/bookings/${booking.booking_id}/cancel`, {
        token: user.token,
      });
      expect(cancelled.status).toBe(200);
      expect(await changeOf(client, seatIds, 1000)).toEqual({
        seat_ids: seatIds,
        status: "AVAILABLE",
      });
    } finally {
      await closeAll(client);
    }
  }, 15_000);

  test("the SSE stream receives the snapshot and a change made through another app instance", async () => {
    if (backend === "postgres" && redisUrl) expect(other).not.toBe(app);
    const client = await openStream();
    try {
      expect((await client.next(2000)).event).toBe("seats");
      const seatId = show.seat_ids[2] as number;
      await holdAndSee(client, other, users[1] as TestUser, seatId);
    } finally {
      await closeAll(client);
    }
  }, 15_000);

  test("a change that arrives out of order is corrected from PostgreSQL", async () => {
    const client = await openStream();
    try {
      expect((await client.next(2000)).event).toBe("seats");
      const seatId = show.seat_ids[5] as number;
      await holdAndSee(client, app, users[0] as TestUser, seatId);
      // An older change of the seat (its release before this hold, say) published late.
      await app.runtime.services.seatStreams.events.publish({
        showId: show.show_id,
        seatIds: [seatId],
        status: "AVAILABLE",
      });
      expect(await changeOf(client, [seatId], 1000)).toEqual({
        seat_ids: [seatId],
        status: "AVAILABLE",
      });
      expect(await changeOf(client, [seatId], 1000)).toEqual({
        seat_ids: [seatId],
        status: "LOCKED",
      });
    } finally {
      await closeAll(client);
    }
  }, 15_000);

  test("a change that could not be announced reaches the streams as a fresh snapshot", async () => {
    const client = await openStream();
    const { events } = app.runtime.services.seatStreams;
    const publish = spyOn(events, "publish").mockImplementationOnce(() =>
      Promise.reject(new Error("Redis unreachable")),
    );
    try {
      expect((await client.next(2000)).event).toBe("seats");
      const seatId = show.seat_ids[6] as number;
      await hold(app, users[3] as TestUser, [seatId]);
      // Told again within a second or so, as a resynchronisation of the whole show.
      const fresh = JSON.parse((await client.nextOf("seats", 3000)).data) as {
        seats: { seat_id: number; status: string }[];
      };
      expect(fresh.seats.find((seat) => seat.seat_id === seatId)?.status).toBe("LOCKED");
      expect(app.runtime.services.seatChanges.pending).toEqual([]);
    } finally {
      publish.mockRestore();
      await closeAll(client);
    }
  }, 15_000);

  test("a hold that runs out is announced without waiting for the cleanup job", async () => {
    const client = await openStream();
    try {
      expect((await client.next(2000)).event).toBe("seats");
      const seatId = show.seat_ids[3] as number;
      await holdAndSee(client, app, users[2] as TestUser, seatId);
      // HOLD_TTL_SECONDS=3 and no cleanup job runs in tests. Seats that lapse in the same
      // instant (an earlier test's hold) may come in the same event.
      const lapse = await lapseOf(client, seatId, 9000);
      expect(lapse.status).toBe("AVAILABLE");
      expect(lapse.seat_ids).toContain(seatId);
    } finally {
      await closeAll(client);
    }
  }, 15_000);

  test("a layout change sends a fresh snapshot; heartbeats fill the silence", async () => {
    const client = await openStream();
    try {
      expect(JSON.parse((await client.next(2000)).data).seats).toHaveLength(10);
      const added = await app.request("POST", `/api/v1/admin/venues/${show.venue_id}/seats`, {
        token: admin.token,
        body: { rows: [{ seat_row: "C", count: 2 }] },
      });
      expect(added.status).toBeLessThan(300);
      const fresh = await client.nextOf("seats", 1000);
      expect(JSON.parse(fresh.data).seats).toHaveLength(12);
      // SEAT_STREAM_HEARTBEAT_SECONDS=1
      const heartbeat = await client.next(2500);
      expect(heartbeat.event).toBe("heartbeat");
      expect(Date.parse(JSON.parse(heartbeat.data).time)).toBeGreaterThan(0);
    } finally {
      await closeAll(client);
    }
  }, 15_000);

  test("an unknown show is a 404 before any stream opens", async () => {
    const missing = await SseClient.open(streamUrl(999_999));
    expect(missing).toBeInstanceOf(Response);
    const response = missing as Response;
    expect(response.status).toBe(404);
    expect(response.headers.get("Content-Type")).toContain("application/json");
    expect(((await response.json()) as { code: string }).code).toBe("NOT_FOUND");
    expect(app.runtime.services.seatStreams.openStreams).toBe(0);
  });

  test("a client that disconnects leaves no subscriber behind", async () => {
    const { seatStreams } = app.runtime.services;
    const { events } = seatStreams;
    const streamsOf = async (showId: number) => (await seatStreams.openByShow())[showId] ?? 0;
    const redis = app.runtime.shared.redis;
    /** Subscribers of the show's channel in Redis (all instances); -1 without Redis. */
    const redisSubscribers = async () => {
      if (!(events instanceof RedisSeatEvents) || !redis) return -1;
      const reply = (await redis.pubsub("NUMSUB", events.channel(show.show_id))) as unknown[];
      return Number(reply[1]);
    };
    const withRedis = (await redisSubscribers()) >= 0;
    expect(withRedis).toBe(backend === "postgres" && Boolean(redisUrl));

    const client = await openStream();
    try {
      expect((await client.next(2000)).event).toBe("seats");
      expect(await streamsOf(show.show_id)).toBe(1);
      expect(events.listenerCount(show.show_id)).toBe(1);
      if (withRedis) expect(await redisSubscribers()).toBe(1);
    } finally {
      client.close();
    }
    expect(await eventually(() => streamsOf(show.show_id), 0)).toBe(0);
    expect(events.listenerCount(show.show_id)).toBe(0);
    expect(seatStreams.openStreams).toBe(0);
    if (withRedis) {
      const deadline = Date.now() + 2000;
      while ((await redisSubscribers()) !== 0 && Date.now() < deadline) await Bun.sleep(20);
      expect(await redisSubscribers()).toBe(0);
    }
  }, 15_000);

  test("over the per-instance bound a stream is refused with 503 until one closes", async () => {
    const open: SseClient[] = [];
    try {
      for (const ip of ["192.0.2.1", "192.0.2.2", "192.0.2.3"]) {
        open.push(await openStream(show.show_id, from(ip)));
      }
      const refused = await SseClient.open(streamUrl(), from("192.0.2.4"));
      expect(refused).toBeInstanceOf(Response);
      const response = refused as Response;
      expect(response.status).toBe(503);
      expect(response.headers.get("Retry-After")).toBeTruthy();
      const body = (await response.json()) as { code: string; message: unknown };
      expect(body.code).toBe("UNAVAILABLE");
      expect(typeof body.message).toBe("string");

      open.shift()?.close();
      const seatStreams = app.runtime.services.seatStreams;
      expect(await eventually(() => seatStreams.openStreams, 2)).toBe(2);
      const again = await openStream(show.show_id, from("192.0.2.4"));
      open.push(again);
      expect((await again.next(2000)).event).toBe("seats");
    } finally {
      await closeAll(...open);
    }
  }, 15_000);

  test("one client holds at most SEAT_STREAM_MAX_PER_CLIENT streams: per user with a valid token, per IP without", async () => {
    const open: SseClient[] = [];
    const refusal = async (headers: Record<string, string>, showId = show.show_id) => {
      const refused = await SseClient.open(streamUrl(showId), headers);
      if (!(refused instanceof Response)) {
        open.push(refused);
        return { status: 200, retryAfter: null, code: undefined };
      }
      const body = (await refused.json()) as { code: string };
      return {
        status: refused.status,
        retryAfter: refused.headers.get("Retry-After"),
        code: body.code,
      };
    };
    const user = users[0] as TestUser;
    const forged =
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjEsInZlciI6MH0.c2lnbmF0dXJlLWZyb20tYW5vdGhlci1rZXk";
    try {
      open.push(await openStream(show.show_id, from("198.51.100.7")));
      open.push(await openStream(show.show_id, from("198.51.100.7")));
      // A third from that IP, to the same show or another, and with a forged token too.
      for (const headers of [from("198.51.100.7"), from("198.51.100.7", forged)]) {
        const third = await refusal(headers);
        expect(third.status).toBe(429);
        expect(third.code).toBe("RATE_LIMITED");
        expect(Number(third.retryAfter)).toBeGreaterThan(0);
      }
      // A signed-in user from the same IP is another client.
      open.push(await openStream(show.show_id, from("198.51.100.7", user.token)));
      expect(app.runtime.services.seatStreams.openStreams).toBe(3);
      for (const stream of open) expect((await stream.next(2000)).event).toBe("seats");

      // A closed stream frees its client's slot.
      open.shift()?.close();
      const seatStreams = app.runtime.services.seatStreams;
      expect(await eventually(() => seatStreams.openStreams, 2)).toBe(2);
      open.push(await openStream(show.show_id, from("198.51.100.7")));
    } finally {
      await closeAll(...open);
    }
  }, 15_000);

  test("a client that never reads is dropped once its socket stops draining, freeing its slots", async () => {
    const { seatStreams } = app.runtime.services;
    const silent = ["203.0.113.50", "203.0.113.50"].map((ip) =>
      neverReading(streamUrl(), from(ip)),
    );
    const reader = await openStream(show.show_id, from("203.0.113.60"));
    try {
      expect(await eventually(() => seatStreams.openStreams, 3)).toBe(3);
      expect((await reader.next(2000)).event).toBe("seats");
      const third = await SseClient.open(streamUrl(), from("203.0.113.50"));
      expect(third instanceof Response && third.status).toBe(429);
      // Large changes, until the silent sockets' buffers are full and their writes stall
      // (SEAT_STREAM_WRITE_TIMEOUT_SECONDS=1). The reader keeps up and stays.
      const seatIds = Array.from({ length: 2000 }, (_, index) => 1_000_000 + index);
      const deadline = Date.now() + 30_000;
      while (seatStreams.openStreams > 1 && Date.now() < deadline) {
        for (let i = 0; i < 20; i++) {
          await seatStreams.events.publish({ showId: show.show_id, seatIds, status: "LOCKED" });
        }
        await Bun.sleep(10);
      }
      expect(seatStreams.openStreams).toBe(1);
      // The dropped client may connect again; the reader still gets changes.
      const back = await openStream(show.show_id, from("203.0.113.50"));
      expect((await back.next(2000)).event).toBe("seats");
      back.close();
      const seatId = show.seat_ids[7] as number;
      await hold(app, users[2] as TestUser, [seatId]);
      expect(await changeOf(reader, [seatId], 5000)).toEqual({
        seat_ids: [seatId],
        status: "LOCKED",
      });
    } finally {
      for (const socket of silent) socket.destroy();
      await closeAll(reader);
    }
  }, 60_000);

  // Only defined where Redis exists (always in CI): embedded mode has no subscription to lose.
  testWithRedis(
    "a lost Redis subscription resynchronises the streams with a fresh snapshot",
    async () => {
      const redis = app.runtime.shared.redis;
      if (!redis) throw new Error("Redis expected");
      const client = await openStream();
      try {
        expect((await client.next(2000)).event).toBe("seats");
        // This app's subscriber connection, by its name; the server drops it.
        const name = `${app.config.REDIS_KEY_PREFIX}seat_events`;
        const ids = String(await redis.client("LIST"))
          .split("\n")
          .filter((line) => line.includes(` name=${name} `))
          .map((line) => /\bid=(\d+)/.exec(line)?.[1])
          .filter((id): id is string => Boolean(id));
        expect(ids.length).toBeGreaterThan(0);
        for (const id of ids) await redis.client("KILL", "ID", id);
        expect((await client.nextOf("seats", 5000)).event).toBe("seats");
        // Subscribed again: changes keep flowing.
        const seatId = show.seat_ids[4] as number;
        await holdAndSee(client, other, users[3] as TestUser, seatId);
      } finally {
        await closeAll(client);
      }
    },
    15_000,
  );

  test("the route is in the OpenAPI document as text/event-stream", async () => {
    const doc = await app.request("GET", "/api/v1/openapi.json");
    const operation = doc.body.paths["/api/v1/shows/{show_id}/seats/stream"]?.get;
    expect(operation).toBeDefined();
    expect(Object.keys(operation.responses[200].content)).toEqual(["text/event-stream"]);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(["200", "404", "503"]));
  });
});

// A Redis of its own that the test stops: PostgreSQL, and redis-server on the PATH (as in CI).
describe.skipIf(!databaseUrl || !redisUrl)("live seat map while Redis is away", () => {
  let redis: RedisProcess;
  let app: TestApp;
  let server: ReturnType<typeof Bun.serve>;
  let show: ShowFixture;
  let user: TestUser;

  beforeAll(async () => {
    redis = privateRedis();
    await redis.start();
    app = await createTestApp("postgres", { REDIS_URL: redis.url });
    const admin = await createAdmin(app);
    show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 5 });
    [user] = (await createUsersDirect(app, 1)) as [TestUser];
    server = Bun.serve({ port: 0, fetch: app.runtime.app.fetch });
  }, 30_000);
  afterAll(async () => {
    await server?.stop(true);
    await redis?.start();
    await app?.close();
    await redis?.kill();
  }, 30_000);

  const streamUrl = () =>
    `http://127.0.0.1:${server.port}/api/v1/shows/${show.show_id}/seats/stream`;

  /** Once Redis is back, a new stream opens and sees a hold of `seatId` made after it. */
  async function expectStreamsLiveAgain(seatId: number) {
    const { seatStreams } = app.runtime.services;
    expect(await eventually(() => seatStreams.events.live, true, 15_000)).toBe(true);
    const again = await SseClient.open(streamUrl());
    if (again instanceof Response) throw new Error(`stream refused: ${again.status}`);
    try {
      expect((await again.next(2000)).event).toBe("seats");
      expect((await holdSeats(app, user, show.show_id, [seatId])).status).toBe(200);
      expect(await changeOf(again, [seatId], 5000)).toEqual({
        seat_ids: [seatId],
        status: "LOCKED",
      });
    } finally {
      again.close();
    }
  }

  test("new streams get 503 and open ones are told to reconnect, then end; back with Redis", async () => {
    const { seatStreams } = app.runtime.services;
    const open = await SseClient.open(streamUrl());
    if (open instanceof Response) throw new Error(`stream refused: ${open.status}`);
    try {
      expect((await open.next(2000)).event).toBe("seats");
      await redis.kill();
      expect(await eventually(() => seatStreams.events.live, false, 5000)).toBe(false);

      // The show already has a stream (and a subscription) on this instance: no shortcut.
      const refused = await SseClient.open(streamUrl());
      expect(refused).toBeInstanceOf(Response);
      const response = refused as Response;
      expect(response.status).toBe(503);
      expect(response.headers.get("Retry-After")).toBe("5");
      expect(((await response.json()) as { code: string }).code).toBe("UNAVAILABLE");

      const told = await open.nextOf("reconnect", 10_000);
      expect(JSON.parse(told.data)).toMatchObject({ retry_after: 5 });
      expect(await open.endsWithin(5000)).toBe(true);
      expect(await eventually(() => seatStreams.openStreams, 0)).toBe(0);
    } finally {
      open.close();
    }

    await redis.start();
    await expectStreamsLiveAgain(show.seat_ids[0] as number);
  }, 60_000);

  test("a hung Redis (the circuit open): new streams get 503 and open ones are told to reconnect", async () => {
    const { seatStreams } = app.runtime.services;
    const circuit = app.runtime.shared.redisCircuit;
    if (!circuit) throw new Error("the app has no Redis circuit");
    const open = await SseClient.open(streamUrl());
    if (open instanceof Response) throw new Error(`stream refused: ${open.status}`);
    // The first seat is held by the test before.
    const [, first, second] = show.seat_ids as [number, number, number];
    try {
      expect((await open.next(2000)).event).toBe("seats");
      redis.pause();
      // The hold's own Redis calls time out and open the circuit; its change cannot be told.
      expect((await holdSeats(app, user, show.show_id, [first])).status).toBe(200);
      expect(circuit.isOpen).toBe(true);
      expect(seatStreams.events.live).toBe(false);

      const refused = await SseClient.open(streamUrl());
      expect(refused).toBeInstanceOf(Response);
      expect((refused as Response).status).toBe(503);

      const told = await open.nextOf("reconnect", 10_000);
      expect(JSON.parse(told.data)).toMatchObject({ retry_after: 5 });
      expect(await open.endsWithin(5000)).toBe(true);
    } finally {
      open.close();
      redis.resume();
    }

    await expectStreamsLiveAgain(second);
  }, 60_000);
});

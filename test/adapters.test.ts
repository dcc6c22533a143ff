/**
 * Contract suites for the coordination adapters (DESIGN §2): each interface has one suite that
 * runs against the in-memory implementation always, against the Redis one when REDIS_URL is
 * set, and against the Redis one on a Redis Cluster when REDIS_CLUSTER_TEST_NODES is set
 * (REQUIRE_SERVICES=1 makes either missing an error, see ./support/services).
 *
 * Every Redis store gets its own key space under one random prefix per run, so parallel runs
 * never collide; the run's keys are deleted (SCAN + DEL) at the end.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { MemoryStore, type Store } from "hono-rate-limiter";
import { deleteKeysWithPrefix } from "../scripts/bench/redis";
import { RedisRateLimitStore } from "../src/infra/rate-limit-store";
import { connectRedis, keyspaces, type RedisClient, waitForRedis } from "../src/infra/redis";
import type { SeatChange } from "../src/infra/seat-changes";
import { RedisSeatEvents } from "../src/infra/seat-events";
import {
  BOOKED_MARKER,
  MemorySeatLocks,
  RedisSeatLocks,
  type SeatLocks,
} from "../src/infra/seat-locks";
import {
  MemorySeatMapVersions,
  RedisSeatMapVersions,
  type SeatMapVersions,
} from "../src/infra/seat-map-versions";
import {
  MemoryWaitingRoomStore,
  RedisWaitingRoomStore,
  type RoomSettings,
  type RoomState,
  seededShuffle,
  type WaitingRoomStore,
} from "../src/infra/waiting-room-store";
import { createLogger } from "../src/lib/logger";
import { waitUntil } from "./support/processes";
import {
  clusterSuitesRun,
  describeEachIfAvailable,
  redisClusterNodes,
  redisUrl,
  requireRedisCluster,
} from "./support/services";

// ---------------------------------------------------------------------------------------------
// Redis connection and key spaces
// ---------------------------------------------------------------------------------------------

const runPrefix = `test:adapters:${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}:`;
let redis: RedisClient | undefined;
let cluster: RedisClient | undefined;
let keySpaces = 0;

/** A fresh key space under the run's prefix: every store instance starts empty. */
const nextPrefix = () => `${runPrefix}${++keySpaces}:`;

const connection = (): RedisClient => {
  if (!redis) throw new Error("Redis is not connected (REDIS_URL set, but beforeAll failed?)");
  return redis;
};

/** Fails each cluster test (not the file) when CI requires a cluster this run lacks. */
const clusterConnection = (): RedisClient => {
  requireRedisCluster();
  if (!cluster) throw new Error("the Redis Cluster is not connected (beforeAll failed?)");
  return cluster;
};

beforeAll(async () => {
  if (redisUrl) {
    redis = connectRedis({ url: redisUrl, commandTimeoutMs: 1000 });
    await waitForRedis(redis, 5000);
  }
  if (redisClusterNodes) {
    cluster = connectRedis({ clusterNodes: redisClusterNodes, commandTimeoutMs: 1000 });
    await waitForRedis(cluster, 5000);
  }
});

afterAll(async () => {
  for (const client of [redis, cluster]) {
    if (!client) continue;
    await deleteKeysWithPrefix(client, runPrefix);
    await client.quit();
  }
});

interface Implementation<T> {
  name: "memory" | "redis" | "redis-cluster";
  create: () => T;
}

/**
 * The memory implementation, and the Redis one on each Redis the suites are written for (one
 * server, a cluster); those this run lacks are listed as skipped. `redisBacked` gets the
 * connection to build on.
 */
function implementations<T>(
  memory: () => T,
  redisBacked: (redis: RedisClient) => T,
): Implementation<T>[] {
  return [
    { name: "memory", create: memory },
    { name: "redis", create: () => redisBacked(connection()) },
    { name: "redis-cluster", create: () => redisBacked(clusterConnection()) },
  ];
}

/** `describe.each` over implementations: the Redis one is skipped when this run has no Redis. */
const describeEach = <T>(list: Implementation<T>[]) =>
  describeEachIfAvailable(
    list,
    (implementation) => implementation.name,
    (implementation) =>
      implementation.name === "memory" ||
      (implementation.name === "redis" ? redisUrl !== undefined : clusterSuitesRun),
  );

const sorted = (values: Iterable<number>) => [...values].sort((a, b) => a - b);

// ---------------------------------------------------------------------------------------------
// SeatLocks
// ---------------------------------------------------------------------------------------------

// ---- SeatMapVersions -------------------------------------------------------------------------

const versionImplementations = implementations<{
  versions: SeatMapVersions;
  prefix: string;
  redis?: RedisClient;
}>(
  () => ({ versions: new MemorySeatMapVersions(), prefix: "" }),
  (redis) => {
    const prefix = nextPrefix();
    return { versions: new RedisSeatMapVersions(redis, prefix), prefix, redis };
  },
);

describeEach(versionImplementations)("SeatMapVersions contract: %s", ({ create }) => {
  test("a show has no version until started or bumped; starting twice keeps it", async () => {
    const { versions } = create();
    expect(await versions.current(1)).toBeUndefined();
    const started = await versions.start(1);
    expect(await versions.current(1)).toBe(started);
    expect(await versions.start(1)).toBe(started);
    await versions.bump(2);
    expect(await versions.current(2)).toEqual(expect.any(Number));
  });

  test("every bump gives the show a larger version; other shows keep theirs", async () => {
    const { versions } = create();
    const seen = [await versions.start(1)];
    for (let bump = 0; bump < 5; bump++) {
      await versions.bump(1);
      seen.push((await versions.current(1)) as number);
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(seen.length);
    const other = await versions.start(2);
    await versions.bump(1);
    expect(await versions.current(2)).toBe(other);
  });
});

/** The connection a Redis-backed implementation was built on. */
const redisOf = ({ redis }: { redis?: RedisClient }): RedisClient => {
  if (!redis) throw new Error("a Redis-backed implementation carries its connection");
  return redis;
};

describeEach(versionImplementations.filter(({ name }) => name !== "memory"))(
  "SeatMapVersions in Redis",
  ({ create }) => {
    test("a version Redis lost never comes back to a value it had", async () => {
      const created = create();
      const { versions, prefix } = created;
      const redis = redisOf(created);
      const key = `${prefix}seatmap_version:{7}`;
      const issued = [await versions.start(7)];
      const bumpAndRead = async () => {
        await versions.bump(7);
        issued.push((await versions.current(7)) as number);
      };
      for (let bump = 0; bump < 3; bump++) await bumpAndRead();
      // Lost (a restart without persistence), then started by a read.
      await redis.del(key);
      issued.push(await versions.start(7));
      await bumpAndRead();
      // Lost, and bumped before anyone reads it.
      await redis.del(key);
      await bumpAndRead();
      expect(issued).toEqual([...issued].sort((a, b) => a - b));
      expect(new Set(issued).size).toBe(issued.length);
    });

    test("a version starts at Redis's clock in microseconds, a whole number", async () => {
      const created = create();
      const { versions } = created;
      const [seconds, micros] = await redisOf(created).time();
      const started = await versions.start(8);
      expect(started).toBeGreaterThanOrEqual(Number(seconds) * 1e6 + Number(micros));
      expect(started).toBeLessThan((Number(seconds) + 5) * 1e6);
      expect(Number.isSafeInteger(started)).toBe(true);
    });
  },
);

const seatLockImplementations = implementations<SeatLocks>(
  () => new MemorySeatLocks(),
  (redis) => new RedisSeatLocks(redis, nextPrefix()),
);

describeEach(seatLockImplementations)("SeatLocks contract: %s", ({ create }) => {
  const LONG = 60_000;
  const SHOW = 1;

  test("acquire takes every requested seat and answers []", async () => {
    const locks = create();
    expect(await locks.acquire(SHOW, [1, 2, 3], "A", LONG)).toEqual([]);
    expect(await locks.snapshot(SHOW)).toEqual(
      new Map([
        [1, "A"],
        [2, "A"],
        [3, "A"],
      ]),
    );
  });

  test("acquire is all-or-nothing: one taken seat refuses the whole set, and only it is answered", async () => {
    const locks = create();
    expect(await locks.acquire(SHOW, [2], "A", LONG)).toEqual([]);

    expect(await locks.acquire(SHOW, [1, 2, 3], "B", LONG)).toEqual([2]);
    // Neither 1 nor 3 was locked for B.
    expect(await locks.snapshot(SHOW)).toEqual(new Map([[2, "A"]]));

    // Several taken seats are answered in request order, and nothing else.
    expect(await locks.acquire(SHOW, [5], "C", LONG)).toEqual([]);
    expect(await locks.acquire(SHOW, [5, 1, 2, 3], "B", LONG)).toEqual([5, 2]);
    expect(await locks.snapshot(SHOW)).toEqual(
      new Map([
        [2, "A"],
        [5, "C"],
      ]),
    );

    // The free seats are still free for B.
    expect(await locks.acquire(SHOW, [1, 3], "B", LONG)).toEqual([]);
    expect(await locks.snapshot(SHOW)).toEqual(
      new Map([
        [1, "B"],
        [2, "A"],
        [3, "B"],
        [5, "C"],
      ]),
    );
  });

  test("release is compare-and-delete: only the owning token frees its seats", async () => {
    const locks = create();
    expect(await locks.acquire(SHOW, [1, 2], "A", LONG)).toEqual([]);
    expect(await locks.acquire(SHOW, [3], "B", LONG)).toEqual([]);

    await locks.release(SHOW, [1, 2], "B");
    expect(await locks.snapshot(SHOW)).toEqual(
      new Map([
        [1, "A"],
        [2, "A"],
        [3, "B"],
      ]),
    );

    // A releases 1 and names 3 too: 3 belongs to B and stays.
    await locks.release(SHOW, [1, 3], "A");
    expect(await locks.snapshot(SHOW)).toEqual(
      new Map([
        [2, "A"],
        [3, "B"],
      ]),
    );
    expect(await locks.acquire(SHOW, [1], "C", LONG)).toEqual([]);
    expect(await locks.acquire(SHOW, [3], "C", LONG)).toEqual([3]);

    // Releasing nothing is harmless.
    await locks.release(SHOW, [], "A");
    expect((await locks.snapshot(SHOW)).size).toBe(3);
  });

  test("entries lists every show's live locks with their time left; expired ones are gone", async () => {
    const locks = create();
    await locks.acquire(SHOW, [1], "A", LONG);
    await locks.acquire(SHOW + 1, [7], "B", 80);
    await locks.markBooked(SHOW, [1], "A", LONG);
    const listed = (await locks.entries()).sort((a, b) => a.showId - b.showId);
    expect(listed.map(({ showId, seatId, value }) => ({ showId, seatId, value }))).toEqual([
      { showId: SHOW, seatId: 1, value: BOOKED_MARKER },
      { showId: SHOW + 1, seatId: 7, value: "B" },
    ]);
    for (const entry of listed) expect(entry.ttlMs).toBeGreaterThan(0);
    expect(listed[0]?.ttlMs).toBeLessThanOrEqual(LONG);

    await Bun.sleep(180);
    expect((await locks.entries()).map((entry) => entry.seatId)).toEqual([1]);
  });

  test("restore sets only free keys; discard deletes only keys still holding the value", async () => {
    const locks = create();
    await locks.acquire(SHOW, [1], "A", LONG);
    const restored = await locks.restore([
      { showId: SHOW, seatId: 1, value: "X", ttlMs: LONG },
      { showId: SHOW, seatId: 2, value: BOOKED_MARKER, ttlMs: LONG },
    ]);
    expect(restored).toBe(1);
    expect(await locks.snapshot(SHOW)).toEqual(
      new Map([
        [1, "A"],
        [2, BOOKED_MARKER],
      ]),
    );

    const discarded = await locks.discard([
      { showId: SHOW, seatId: 1, value: "not-A", ttlMs: 0 },
      { showId: SHOW, seatId: 2, value: BOOKED_MARKER, ttlMs: 0 },
    ]);
    expect(discarded).toBe(1);
    expect(await locks.snapshot(SHOW)).toEqual(new Map([[1, "A"]]));
  });

  test("a hold expires after its TTL and frees the seat for others", async () => {
    const locks = create();
    expect(await locks.acquire(SHOW, [1, 3], "A", 80)).toEqual([]);
    expect(await locks.acquire(SHOW, [2], "B", LONG)).toEqual([]);
    // Still held right after acquiring.
    expect(await locks.acquire(SHOW, [1], "C", LONG)).toEqual([1]);

    await Bun.sleep(180);

    expect(await locks.snapshot(SHOW)).toEqual(new Map([[2, "B"]]));
    expect(await locks.acquire(SHOW, [1], "C", LONG)).toEqual([]);
    expect(await locks.snapshot(SHOW)).toEqual(
      new Map([
        [1, "C"],
        [2, "B"],
      ]),
    );
  });

  test("markBooked turns a hold into lasting markers: acquire refuses them and the old token cannot release them", async () => {
    const locks = create();
    expect(await locks.acquire(SHOW, [1, 2], "A", 80)).toEqual([]);
    await locks.markBooked(SHOW, [1, 2], "A", LONG);

    await locks.release(SHOW, [1, 2], "A");
    expect(await locks.snapshot(SHOW)).toEqual(
      new Map([
        [1, BOOKED_MARKER],
        [2, BOOKED_MARKER],
      ]),
    );

    // Outlives the hold's TTL.
    await Bun.sleep(180);
    expect(await locks.acquire(SHOW, [2, 3], "B", LONG)).toEqual([2]);
    expect(await locks.snapshot(SHOW)).toEqual(
      new Map([
        [1, BOOKED_MARKER],
        [2, BOOKED_MARKER],
      ]),
    );
  });

  test("markBooked only converts keys the token still owns", async () => {
    const locks = create();
    expect(await locks.acquire(SHOW, [1], "A", LONG)).toEqual([]);
    await locks.markBooked(SHOW, [1, 2], "other", LONG);
    await locks.markBooked(SHOW, [2], "A", LONG);
    expect(await locks.snapshot(SHOW)).toEqual(new Map([[1, "A"]]));

    // A marker is bounded too: it lasts the TTL it was given.
    await locks.markBooked(SHOW, [1], "A", 60);
    await Bun.sleep(120);
    expect(await locks.snapshot(SHOW)).toEqual(new Map());
  });

  test("clearBooked removes BOOKED markers and the booking's own locks, never another hold", async () => {
    const locks = create();
    expect(await locks.acquire(SHOW, [1, 3], "Z", LONG)).toEqual([]);
    await locks.markBooked(SHOW, [1, 3], "Z", LONG);
    expect(await locks.acquire(SHOW, [2], "A", LONG)).toEqual([]);
    expect(await locks.acquire(SHOW, [4], "Z", LONG)).toEqual([]);

    await locks.clearBooked(SHOW, [1, 2, 4], "Z");
    expect(await locks.snapshot(SHOW)).toEqual(
      new Map([
        [2, "A"],
        [3, BOOKED_MARKER],
      ]),
    );
    expect(await locks.acquire(SHOW, [1], "B", LONG)).toEqual([]);
    expect(await locks.acquire(SHOW, [2], "B", LONG)).toEqual([2]);

    await locks.clearBooked(SHOW, [], "Z");
    expect(await locks.snapshot(SHOW)).toEqual(
      new Map([
        [1, "B"],
        [2, "A"],
        [3, BOOKED_MARKER],
      ]),
    );
  });

  test("snapshot returns exactly the live keys of that show", async () => {
    const locks = create();
    expect(await locks.snapshot(SHOW)).toEqual(new Map());

    expect(await locks.acquire(1, [1, 2], "A", LONG)).toEqual([]);
    expect(await locks.acquire(1, [3], "M", LONG)).toEqual([]);
    await locks.markBooked(1, [3], "M", LONG);
    expect(await locks.acquire(1, [4], "short", 60)).toEqual([]);
    // Other shows, including ones whose id starts with the same digit.
    expect(await locks.acquire(11, [1, 5], "X", LONG)).toEqual([]);
    expect(await locks.acquire(2, [1], "Y", LONG)).toEqual([]);
    expect(await locks.acquire(12, [9], "N", LONG)).toEqual([]);
    await locks.markBooked(12, [9], "N", LONG);

    await Bun.sleep(160);

    expect(await locks.snapshot(1)).toEqual(
      new Map([
        [1, "A"],
        [2, "A"],
        [3, BOOKED_MARKER],
      ]),
    );
    expect(await locks.snapshot(11)).toEqual(
      new Map([
        [1, "X"],
        [5, "X"],
      ]),
    );
    expect(await locks.snapshot(2)).toEqual(new Map([[1, "Y"]]));
    expect(await locks.snapshot(12)).toEqual(new Map([[9, BOOKED_MARKER]]));
    expect(await locks.snapshot(3)).toEqual(new Map());
  });

  test("the same seat id in different shows is a different lock", async () => {
    const locks = create();
    expect(await locks.acquire(1, [7], "A", LONG)).toEqual([]);
    expect(await locks.acquire(2, [7], "B", LONG)).toEqual([]);
    await locks.release(2, [7], "A");
    expect(await locks.acquire(3, [7], "C", LONG)).toEqual([]);
    await locks.markBooked(3, [7], "C", LONG);
    await locks.clearBooked(1, [7], "C");
    expect(await locks.snapshot(1)).toEqual(new Map([[7, "A"]]));
    expect(await locks.snapshot(2)).toEqual(new Map([[7, "B"]]));
    expect(await locks.snapshot(3)).toEqual(new Map([[7, BOOKED_MARKER]]));
  });

  test("50 concurrent acquires of overlapping seat sets never grant one seat to two tokens", async () => {
    const locks = create();
    const SEATS = 20;
    const requests = Array.from({ length: 50 }, (_, i) => ({
      token: `T${i}`,
      seats: [(i * 7) % SEATS, (i * 7 + 3) % SEATS, (i * 7 + 5) % SEATS].map((s) => s + 1),
    }));

    const answers = await Promise.all(
      requests.map(({ token, seats }) => locks.acquire(SHOW, seats, token, LONG)),
    );

    const granted = requests.filter((_, i) => answers[i]?.length === 0);
    expect(granted.length).toBeGreaterThan(0);
    expect(granted.length).toBeLessThan(requests.length);

    // No seat is in two granted sets.
    const owner = new Map<number, string>();
    for (const { token, seats } of granted) {
      for (const seat of seats) {
        expect(owner.get(seat)).toBeUndefined();
        owner.set(seat, token);
      }
    }
    // The locks say exactly that: every granted seat is its token's, nothing else is locked.
    expect(await locks.snapshot(SHOW)).toEqual(owner);

    // Every refusal names only seats of its own request, each one really held by a winner.
    requests.forEach(({ seats }, i) => {
      const taken = answers[i] as number[];
      if (taken.length === 0) return;
      for (const seat of taken) {
        expect(seats).toContain(seat);
        expect(owner.has(seat)).toBe(true);
      }
      // ... and every seat of the request that a winner holds is named.
      expect(taken).toEqual(seats.filter((seat) => owner.has(seat)));
    });
  });
});

// ---------------------------------------------------------------------------------------------
// WaitingRoomStore
// ---------------------------------------------------------------------------------------------

const SETTINGS: RoomSettings = { threshold: 3, admissionTtlMs: 300, abandonMs: 500 };
const T0 = 1_700_000_000_000;

const roomImplementations = implementations<WaitingRoomStore>(
  () => new MemoryWaitingRoomStore(SETTINGS),
  (redis) => new RedisWaitingRoomStore(redis, SETTINGS, nextPrefix()),
);

const admitted = (admittedUntil: number): RoomState => ({ status: "admitted", admittedUntil });
const queued = (position: number): RoomState => ({ status: "queued", position });
const OPEN: RoomState = { status: "open" };

describeEach(roomImplementations)("WaitingRoomStore contract: %s", ({ create }) => {
  const SHOW = 1;

  /** Users 1..3 admitted at `now`: the room is full. */
  const fill = async (room: WaitingRoomStore, now = T0, show = SHOW) => {
    for (const user of [1, 2, 3]) {
      expect(await room.enter(show, user, now)).toEqual(admitted(now + SETTINGS.admissionTtlMs));
    }
  };

  test("below the threshold enter admits, until now + admissionTtlMs", async () => {
    const room = create();
    expect(await room.enter(SHOW, 1, T0)).toEqual(admitted(T0 + 300));
    expect(await room.enter(SHOW, 2, T0 + 5)).toEqual(admitted(T0 + 305));
    expect(await room.enter(SHOW, 3, T0 + 9)).toEqual(admitted(T0 + 309));
    expect(await room.queueLength(SHOW)).toBe(0);
    expect(await room.status(SHOW, 2, T0 + 10)).toEqual(admitted(T0 + 305));
  });

  test("at the threshold arrivals are queued with positions 1..n in arrival order", async () => {
    const room = create();
    await fill(room);
    expect(await room.enter(SHOW, 40, T0 + 1)).toEqual(queued(1));
    expect(await room.enter(SHOW, 10, T0 + 2)).toEqual(queued(2));
    expect(await room.enter(SHOW, 30, T0 + 3)).toEqual(queued(3));
    expect(await room.enter(SHOW, 20, T0 + 4)).toEqual(queued(4));
    expect(await room.queueLength(SHOW)).toBe(4);
    expect(await room.status(SHOW, 40, T0 + 5)).toEqual(queued(1));
    expect(await room.status(SHOW, 10, T0 + 5)).toEqual(queued(2));
    expect(await room.status(SHOW, 30, T0 + 5)).toEqual(queued(3));
    expect(await room.status(SHOW, 20, T0 + 5)).toEqual(queued(4));
  });

  test("repeated enter/status never moves a queued user nor re-queues an admitted one", async () => {
    const room = create();
    await fill(room);
    for (const user of [4, 5, 6]) await room.enter(SHOW, user, T0 + 1);

    for (let i = 0; i < 3; i++) {
      expect(await room.enter(SHOW, 5, T0 + 10 + i)).toEqual(queued(2));
      expect(await room.status(SHOW, 5, T0 + 10 + i)).toEqual(queued(2));
    }
    expect(await room.enter(SHOW, 4, T0 + 20)).toEqual(queued(1));
    expect(await room.enter(SHOW, 6, T0 + 20)).toEqual(queued(3));
    expect(await room.queueLength(SHOW)).toBe(3);

    // An admitted user's enter keeps them admitted (the line is not empty).
    expect(await room.enter(SHOW, 1, T0 + 50)).toEqual(admitted(T0 + 300));
    expect(await room.status(SHOW, 1, T0 + 70)).toEqual(admitted(T0 + 300));
    expect(await room.queueLength(SHOW)).toBe(3);
    expect(await room.status(SHOW, 6, T0 + 70)).toEqual(queued(3));
  });

  test("an admission lasts admissionTtlMs from admission: enter never extends it, renew does while it lasts", async () => {
    const room = create();
    await fill(room);
    for (const user of [4, 5])
      expect(await room.enter(SHOW, user, T0 + 1)).toEqual(queued(user - 3));

    // Hold attempts that come to nothing call enter again and again: the admission stays put.
    for (const at of [T0 + 100, T0 + 200, T0 + 299]) {
      expect(await room.enter(SHOW, 1, at)).toEqual(admitted(T0 + 300));
      expect(await room.status(SHOW, 4, at)).toEqual(queued(1));
      expect(await room.status(SHOW, 5, at)).toEqual(queued(2));
    }
    // Progress (a hold that succeeded, a payment) renews it from now.
    expect(await room.renew(SHOW, 2, T0 + 250)).toEqual(admitted(T0 + 550));
    expect(await room.status(SHOW, 2, T0 + 251)).toEqual(admitted(T0 + 550));

    // At T0 + 300 the admissions of 1 and 3 lapse and the line moves in.
    expect(await room.status(SHOW, 4, T0 + 300)).toEqual(admitted(T0 + 600));
    expect(await room.status(SHOW, 5, T0 + 300)).toEqual(admitted(T0 + 600));
    expect(await room.status(SHOW, 1, T0 + 300)).toEqual(OPEN);
    // Renewing a lapsed admission, a queued place or nothing changes nothing.
    expect(await room.renew(SHOW, 1, T0 + 301)).toEqual(OPEN);
    expect(await room.enter(SHOW, 1, T0 + 302)).toEqual(queued(1));
    expect(await room.renew(SHOW, 1, T0 + 303)).toEqual(queued(1));
    expect(await room.status(SHOW, 1, T0 + 304)).toEqual(queued(1));
    expect(await room.renew(SHOW, 99, T0 + 305)).toEqual(OPEN);
    expect(await room.queueLength(SHOW)).toBe(1);
  });

  test("a queued user silent for abandonMs loses the place even when their own call comes first", async () => {
    const room = create();
    await fill(room);
    for (const user of [4, 5, 6]) await room.enter(SHOW, user, T0);
    for (const user of [1, 2, 3]) await room.renew(SHOW, user, T0 + 250);
    expect(await room.status(SHOW, 5, T0 + 400)).toEqual(queued(2));

    // Nobody else called since 4 went silent: 4's own hold attempt is judged on 4's clock, so
    // 4 goes to the back, behind 5, who kept polling (6 went silent too and is gone).
    expect(await room.enter(SHOW, 4, T0 + 500)).toEqual(queued(2));
    expect(await room.status(SHOW, 5, T0 + 501)).toEqual(queued(1));
    expect(await room.status(SHOW, 6, T0 + 502)).toEqual(OPEN);
    expect(await room.enter(SHOW, 6, T0 + 503)).toEqual(queued(3));
    expect(await room.queueLength(SHOW)).toBe(3);
  });

  test("a queued user whose own status call comes first after abandonMs of silence is out", async () => {
    const room = create();
    await fill(room);
    await room.enter(SHOW, 4, T0);
    for (const user of [1, 2, 3]) await room.renew(SHOW, user, T0 + 250);
    expect(await room.status(SHOW, 4, T0 + 500)).toEqual(OPEN);
    expect(await room.queueLength(SHOW)).toBe(0);
  });

  test("lineLengths counts only the queued users who polled within abandonMs", async () => {
    const room = create();
    await fill(room, T0, 1);
    await fill(room, T0, 2);
    for (const user of [4, 5]) await room.enter(1, user, T0);
    await room.enter(2, 4, T0);
    for (const user of [1, 2, 3]) await room.renew(1, user, T0 + 250);
    expect(await room.status(1, 5, T0 + 400)).toEqual(queued(2));

    expect(await room.lineLengths(T0 + 499)).toEqual({ "1": 2, "2": 1 });
    // Nobody called since: the silent ones are no longer counted as waiting.
    expect(await room.lineLengths(T0 + 500)).toEqual({ "1": 1 });
    expect(await room.lineLengths(T0 + 900)).toEqual({});
  });

  test("linePace: admissions from the line in the last admissionTtlMs, after the first of them", async () => {
    const room = create();
    const none = { admissions: 0, spanMs: 0 };
    expect(await room.linePace(SHOW, T0)).toEqual(none);
    // Arrivals admitted at once did not come from the line: no pace.
    await fill(room);
    for (const user of [4, 5, 6, 7]) await room.enter(SHOW, user, T0);
    expect(await room.linePace(SHOW, T0 + 1)).toEqual(none);

    // One batch is no pace yet: it only starts the clock.
    await room.leave(SHOW, 1);
    await room.leave(SHOW, 2);
    expect(await room.admitNext(SHOW, T0 + 100)).toEqual([4, 5]);
    expect(await room.linePace(SHOW, T0 + 150)).toEqual(none);

    await room.leave(SHOW, 4);
    expect(await room.status(SHOW, 6, T0 + 200)).toEqual(admitted(T0 + 500));
    expect(await room.linePace(SHOW, T0 + 250)).toEqual({ admissions: 1, spanMs: 100 });
    // User 3's admission lapses: 7 comes in.
    expect(await room.status(SHOW, 7, T0 + 300)).toEqual(admitted(T0 + 600));
    expect(await room.linePace(SHOW, T0 + 350)).toEqual({ admissions: 2, spanMs: 200 });

    // The span is admissionTtlMs long: at T0 + 450 the batch of T0 + 100 has left it.
    expect(await room.linePace(SHOW, T0 + 450)).toEqual({ admissions: 1, spanMs: 100 });
    expect(await room.linePace(SHOW, T0 + 550)).toEqual(none);
    expect(await room.linePace(SHOW, T0 + 600)).toEqual(none);
  });

  test("status of a stranger is open and does not join the line", async () => {
    const room = create();
    expect(await room.status(SHOW, 99, T0)).toEqual(OPEN);
    await fill(room);
    await room.enter(SHOW, 4, T0 + 1);

    expect(await room.status(SHOW, 99, T0 + 2)).toEqual(OPEN);
    expect(await room.status(SHOW, 99, T0 + 3)).toEqual(OPEN);
    expect(await room.queueLength(SHOW)).toBe(1);
    // Had status queued the stranger, this arrival would be third.
    expect(await room.enter(SHOW, 5, T0 + 4)).toEqual(queued(2));
    expect(await room.status(SHOW, 99, T0 + 5)).toEqual(OPEN);
    expect(await room.queueLength(SHOW)).toBe(2);
  });

  test("leave + admitNext admits the head of the line in FIFO order and answers exactly those", async () => {
    const room = create();
    await fill(room);
    for (const user of [7, 4, 9, 5]) await room.enter(SHOW, user, T0 + 1);

    await room.leave(SHOW, 2);
    await room.leave(SHOW, 3);
    expect(await room.admitNext(SHOW, T0 + 10)).toEqual([7, 4]);
    expect(await room.queueLength(SHOW)).toBe(2);
    expect(await room.status(SHOW, 7, T0 + 11)).toEqual(admitted(T0 + 310));
    expect(await room.status(SHOW, 4, T0 + 11)).toEqual(admitted(T0 + 310));
    expect(await room.status(SHOW, 9, T0 + 11)).toEqual(queued(1));
    expect(await room.status(SHOW, 5, T0 + 11)).toEqual(queued(2));
    expect(await room.status(SHOW, 2, T0 + 11)).toEqual(OPEN);

    // Full again: nobody to admit.
    expect(await room.admitNext(SHOW, T0 + 12)).toEqual([]);

    await room.leave(SHOW, 7);
    expect(await room.admitNext(SHOW, T0 + 20)).toEqual([9]);
    expect(await room.status(SHOW, 5, T0 + 21)).toEqual(queued(1));
    expect(await room.queueLength(SHOW)).toBe(1);

    // Leaving a room one is not admitted to changes nothing.
    await room.leave(SHOW, 42);
    expect(await room.admitNext(SHOW, T0 + 22)).toEqual([]);
    expect(await room.queueLength(SHOW)).toBe(1);
  });

  test("with an empty line admitNext answers [] and a freed place goes to the next arrival", async () => {
    const room = create();
    expect(await room.admitNext(SHOW, T0)).toEqual([]);
    await fill(room);
    await room.leave(SHOW, 1);
    expect(await room.admitNext(SHOW, T0 + 1)).toEqual([]);
    expect(await room.enter(SHOW, 4, T0 + 2)).toEqual(admitted(T0 + 302));
    expect(await room.enter(SHOW, 5, T0 + 3)).toEqual(queued(1));
  });

  test("admissions lapse after admissionTtlMs and the head is admitted on the next call", async () => {
    const room = create();
    await fill(room);
    await room.enter(SHOW, 4, T0 + 1);
    await room.enter(SHOW, 5, T0 + 2);

    // One millisecond before the admissions lapse nothing moves.
    expect(await room.status(SHOW, 1, T0 + 299)).toEqual(admitted(T0 + 300));
    expect(await room.status(SHOW, 4, T0 + 299)).toEqual(queued(1));

    // At T0 + 300 they have lapsed: the queued users' next poll admits them, in order.
    expect(await room.status(SHOW, 5, T0 + 300)).toEqual(admitted(T0 + 600));
    expect(await room.status(SHOW, 4, T0 + 300)).toEqual(admitted(T0 + 600));
    expect(await room.status(SHOW, 1, T0 + 300)).toEqual(OPEN);
    expect(await room.queueLength(SHOW)).toBe(0);
    // One place left: a lapsed user coming back is admitted again, the next one queued.
    expect(await room.enter(SHOW, 1, T0 + 301)).toEqual(admitted(T0 + 601));
    expect(await room.enter(SHOW, 2, T0 + 302)).toEqual(queued(1));
  });

  test("admitNext also frees lapsed admissions before admitting from the head", async () => {
    const room = create();
    await fill(room);
    await room.enter(SHOW, 4, T0 + 1);
    await room.enter(SHOW, 5, T0 + 2);

    expect(await room.admitNext(SHOW, T0 + 299)).toEqual([]);
    expect(await room.admitNext(SHOW, T0 + 300)).toEqual([4, 5]);
    expect(await room.queueLength(SHOW)).toBe(0);
    expect(await room.status(SHOW, 4, T0 + 301)).toEqual(admitted(T0 + 600));
  });

  test("a queued user who stops polling for abandonMs loses the place; one who polls keeps it", async () => {
    const room = create();
    await fill(room);
    for (const user of [4, 5, 6]) expect((await room.enter(SHOW, user, T0)).status).toBe("queued");
    // The admitted users make progress so nobody is admitted during the test.
    for (const user of [1, 2, 3]) await room.renew(SHOW, user, T0 + 250);

    // Only 5 polls.
    expect(await room.status(SHOW, 5, T0 + 400)).toEqual(queued(2));
    expect(await room.status(SHOW, 5, T0 + 499)).toEqual(queued(2));
    expect(await room.queueLength(SHOW)).toBe(3);

    // At T0 + 500, 4 and 6 have not polled for abandonMs: they are gone, 5 moves up.
    expect(await room.status(SHOW, 5, T0 + 500)).toEqual(queued(1));
    expect(await room.queueLength(SHOW)).toBe(1);
    expect(await room.status(SHOW, 4, T0 + 501)).toEqual(OPEN);
    expect(await room.status(SHOW, 6, T0 + 501)).toEqual(OPEN);

    // Came back: the back of the line.
    expect(await room.enter(SHOW, 4, T0 + 501)).toEqual(queued(2));
    expect(await room.queueLength(SHOW)).toBe(2);

    // Polling keeps the place for as long as it goes on (well past abandonMs since joining).
    for (const user of [1, 2, 3]) await room.renew(SHOW, user, T0 + 520);
    expect(await room.status(SHOW, 5, T0 + 800)).toEqual(queued(1));
    expect(await room.status(SHOW, 4, T0 + 800)).toEqual(queued(2));
  });

  // Same cause as above: MemoryWaitingRoomStore.admitNext does not drop abandoned places.
  test("sales opening: the pre-queue joins the line once, in the seeded draw's order, ahead of later arrivals", async () => {
    const room = create();
    for (const user of [11, 12, 13, 14, 15, 16])
      expect(await room.preEnter(SHOW, user)).toBeGreaterThan(0);
    expect(await room.preEnter(SHOW, 11)).toBe(6);

    const seed = 123_456_789;
    expect(await room.openLine(SHOW, seed, T0)).toBe(6);
    expect(await room.openLine(SHOW, seed + 1, T0)).toBeUndefined();

    // Threshold 3: the first three of the draw are admitted, the others wait in draw order.
    const drawn = seededShuffle([11, 12, 13, 14, 15, 16], seed);
    expect(drawn).not.toEqual([11, 12, 13, 14, 15, 16]);
    for (const [index, user] of drawn.entries()) {
      const state = await room.status(SHOW, user, T0 + 1);
      if (index < 3) expect(state.status).toBe("admitted");
      else expect(state).toEqual(queued(index - 2));
    }
    expect(await room.enter(SHOW, 99, T0 + 2)).toEqual(queued(4));
  });

  test("admitNext skips users who abandoned the line", async () => {
    const room = create();
    await fill(room);
    await room.enter(SHOW, 4, T0);
    await room.enter(SHOW, 5, T0);
    for (const user of [1, 2, 3]) await room.renew(SHOW, user, T0 + 250);
    expect(await room.status(SHOW, 5, T0 + 400)).toEqual(queued(2));

    await room.leave(SHOW, 1);
    expect(await room.admitNext(SHOW, T0 + 500)).toEqual([5]);
    expect(await room.queueLength(SHOW)).toBe(0);
    expect(await room.status(SHOW, 4, T0 + 501)).toEqual(OPEN);
  });

  test("rooms of different shows are independent", async () => {
    const room = create();
    await fill(room, T0, 1);
    expect(await room.enter(1, 4, T0 + 1)).toEqual(queued(1));

    // The same users, in show 2: an empty room.
    expect(await room.status(2, 4, T0 + 2)).toEqual(OPEN);
    expect(await room.status(2, 1, T0 + 2)).toEqual(OPEN);
    expect(await room.queueLength(2)).toBe(0);
    expect(await room.enter(2, 4, T0 + 3)).toEqual(admitted(T0 + 303));
    expect(await room.enter(2, 5, T0 + 3)).toEqual(admitted(T0 + 303));

    // Leaving show 2 does not free a place in show 1.
    await room.leave(2, 1);
    await room.leave(2, 4);
    expect(await room.admitNext(1, T0 + 4)).toEqual([]);
    expect(await room.admitNext(2, T0 + 4)).toEqual([]);
    expect(await room.status(1, 4, T0 + 5)).toEqual(queued(1));
    expect(await room.queueLength(1)).toBe(1);
    expect(await room.status(2, 5, T0 + 5)).toEqual(admitted(T0 + 303));

    // And leaving show 1 does not touch show 2.
    await room.leave(1, 1);
    expect(await room.admitNext(1, T0 + 6)).toEqual([4]);
    expect(await room.status(2, 4, T0 + 7)).toEqual(OPEN);
  });

  test("20 concurrent arrivals: exactly threshold admitted, the rest queued 1..17 without gaps", async () => {
    const room = create();
    const users = Array.from({ length: 20 }, (_, i) => 100 + i);
    const states = await Promise.all(users.map((user) => room.enter(SHOW, user, T0)));

    const admittedUsers = users.filter((_, i) => states[i]?.status === "admitted");
    expect(admittedUsers.length).toBe(3);
    for (const state of states) {
      if (state.status === "admitted") expect(state.admittedUntil).toBe(T0 + 300);
    }
    const positions = states.flatMap((state) =>
      state.status === "queued" ? [state.position] : [],
    );
    expect(sorted(positions)).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
    expect(await room.queueLength(SHOW)).toBe(17);

    // Each user's later status agrees with what enter told them.
    for (const [i, user] of users.entries()) {
      expect(await room.status(SHOW, user, T0 + 1)).toEqual(states[i] as RoomState);
    }
  });
});

/** A store that reports its line admissions, as the metrics counter hears them. */
const reporting = (build: (settings: RoomSettings) => WaitingRoomStore) => () => {
  const heard: number[] = [];
  const room = build({ ...SETTINGS, onLineAdmissions: (count) => heard.push(count) });
  return { room, heard };
};

const reportingRoomImplementations = implementations(
  reporting((settings) => new MemoryWaitingRoomStore(settings)),
  reporting((settings) => new RedisWaitingRoomStore(connection(), settings, nextPrefix())),
);

describeEach(reportingRoomImplementations)("WaitingRoomStore line admissions: %s", ({ create }) => {
  test("every admission from the line is reported, whichever call made it; direct ones are not", async () => {
    const { room, heard } = create();
    for (const user of [1, 2, 3]) await room.enter(1, user, T0);
    for (const user of [4, 5, 6, 7, 8]) await room.enter(1, user, T0);
    expect(heard).toEqual([]);

    await room.leave(1, 1);
    expect(await room.status(1, 4, T0 + 1)).toEqual(admitted(T0 + 301));
    await room.leave(1, 2);
    expect(await room.enter(1, 5, T0 + 2)).toEqual(admitted(T0 + 302));
    await room.leave(1, 3);
    expect((await room.renew(1, 4, T0 + 3)).status).toBe("admitted");
    await room.leave(1, 4);
    await room.leave(1, 5);
    expect(await room.admitNext(1, T0 + 4)).toEqual([7, 8]);
    expect(heard).toEqual([1, 1, 1, 2]);
  });
});

// ---------------------------------------------------------------------------------------------
// Rate-limit store (hono-rate-limiter's Store)
// ---------------------------------------------------------------------------------------------

type RateStore = Store;
type StoreOptions = Parameters<NonNullable<RateStore["init"]>>[0];
const WINDOW_MS = 200;

const rateStoreImplementations = implementations<RateStore>(
  () => new MemoryStore(),
  (redis) => new RedisRateLimitStore(redis, nextPrefix()),
);

describeEach(rateStoreImplementations)("rate-limit Store contract: %s", ({ create }) => {
  const opened: RateStore[] = [];
  const open = () => {
    const store = create();
    store.init?.({ windowMs: WINDOW_MS } as StoreOptions);
    opened.push(store);
    return store;
  };
  afterEach(() => {
    // MemoryStore runs a cleanup interval until shut down.
    for (const store of opened.splice(0)) (store as { shutdown?: () => void }).shutdown?.();
  });

  /** totalHits and resetTime as numbers, read at once (MemoryStore answers a live object). */
  const hit = async (store: RateStore, key: string) => {
    const info = await store.increment(key);
    return { totalHits: info.totalHits, resetTime: info.resetTime?.getTime() };
  };

  test("increment counts up per key, with a resetTime inside the current window", async () => {
    const store = open();
    const before = Date.now();
    const first = await hit(store, "user:1");
    const after = Date.now();
    expect(first.totalHits).toBe(1);
    expect(first.resetTime).toBeGreaterThan(after);
    expect(first.resetTime).toBeLessThanOrEqual(after + WINDOW_MS);
    expect(first.resetTime).toBeGreaterThanOrEqual(before + WINDOW_MS - 20);

    const second = await hit(store, "user:1");
    const third = await hit(store, "user:1");
    expect(second.totalHits).toBe(2);
    expect(third.totalHits).toBe(3);
    // A fixed window: later hits do not push the reset out.
    expect(Math.abs((third.resetTime as number) - (first.resetTime as number))).toBeLessThan(20);
  });

  test("keys are counted independently", async () => {
    const store = open();
    expect((await hit(store, "a")).totalHits).toBe(1);
    expect((await hit(store, "a")).totalHits).toBe(2);
    expect((await hit(store, "b")).totalHits).toBe(1);
    expect((await hit(store, "a")).totalHits).toBe(3);
    expect((await hit(store, "b")).totalHits).toBe(2);
  });

  test("decrement takes one hit back", async () => {
    const store = open();
    for (let i = 0; i < 3; i++) await hit(store, "k");
    await store.decrement("k");
    expect((await hit(store, "k")).totalHits).toBe(3);
    await store.decrement("k");
    await store.decrement("k");
    expect((await hit(store, "k")).totalHits).toBe(2);
  });

  test("decrement of a key without hits does not go below zero", async () => {
    const store = open();
    await store.decrement("never-hit");
    expect((await hit(store, "never-hit")).totalHits).toBe(1);

    await hit(store, "expired");
    await Bun.sleep(WINDOW_MS + 80);
    await store.decrement("expired");
    expect((await hit(store, "expired")).totalHits).toBe(1);
  });

  test("resetKey starts the key over and leaves other keys alone", async () => {
    const store = open();
    for (let i = 0; i < 3; i++) await hit(store, "k");
    await hit(store, "other");
    await store.resetKey("k");
    const fresh = await hit(store, "k");
    expect(fresh.totalHits).toBe(1);
    expect(fresh.resetTime).toBeGreaterThan(Date.now());
    expect((await hit(store, "other")).totalHits).toBe(2);
    // Resetting an unknown key is harmless.
    await store.resetKey("unknown");
    expect((await hit(store, "unknown")).totalHits).toBe(1);
  });

  test("the count starts over once windowMs has passed", async () => {
    const store = open();
    expect((await hit(store, "k")).totalHits).toBe(1);
    expect((await hit(store, "k")).totalHits).toBe(2);
    await Bun.sleep(WINDOW_MS + 80);
    const next = await hit(store, "k");
    expect(next.totalHits).toBe(1);
    expect(next.resetTime).toBeGreaterThan(Date.now());
    expect((await hit(store, "k")).totalHits).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------
// SeatEvents on a Redis Cluster: sharded pub/sub between two instances
// ---------------------------------------------------------------------------------------------

describe.skipIf(!clusterSuitesRun)("SeatEvents on a Redis Cluster", () => {
  test("a change published by one instance reaches the other's listener over a shard channel", async () => {
    const prefix = nextPrefix();
    const logger = createLogger("silent");
    const publisher = new RedisSeatEvents(clusterConnection(), { prefix, logger });
    const subscriber = new RedisSeatEvents(clusterConnection(), { prefix, logger });
    try {
      const received: SeatChange[] = [];
      const unsubscribe = subscriber.subscribe(42, (change) => received.push(change));
      await unsubscribe.ready;
      // SSUBSCRIBE, not SUBSCRIBE: the channel is a shard channel of the show's slot.
      const shardChannels = await Promise.all(
        keyspaces(clusterConnection()).map((node) => node.pubsub("SHARDCHANNELS")),
      );
      expect(shardChannels.flat()).toContain(subscriber.channel(42));

      await publisher.publish({ showId: 42, seatIds: [1, 2], status: "LOCKED" });
      await waitUntil(
        async () => received.length > 0,
        () => "the change never arrived",
      );
      expect(received).toEqual([{ showId: 42, seatIds: [1, 2], status: "LOCKED" }]);
      unsubscribe();
    } finally {
      await Promise.all([publisher.close(), subscriber.close()]);
    }
  });
});

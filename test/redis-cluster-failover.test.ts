/**
 * A Redis Cluster primary dies in the middle of a sale. The test starts a private cluster
 * (3 primaries, 3 replicas, a one-second node timeout) so the run's shared cluster stays
 * healthy, kills the primary that owns the show's slot, and lets its replica be promoted.
 * Holds go on throughout (PostgreSQL decides while Redis cannot), the sale goes on on the
 * promoted replica, nothing is oversold or lost, and the worker's lock repair makes the
 * cluster's seat locks agree with PostgreSQL again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { BOOKED_MARKER, seatLockKey } from "../src/infra/seat-locks";
import { runCleanup } from "../src/jobs/cleanup";
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
import { createTestApp, query, sql, type TestApp, type TestResponse } from "./support/harness";
import { bookingInvariantViolations } from "./support/invariants";
import { waitUntil } from "./support/processes";
import { clusterSuitesRun, databaseUrl } from "./support/services";

/** Six ports of its own (and their bus ports, +10000), apart from CI's cluster on 7001-7006. */
const FIRST_PORT = 17_100 + (process.pid % 150) * 6;
const PORTS = Array.from({ length: 6 }, (_, index) => FIRST_PORT + index);

interface PrivateCluster {
  nodes: string;
  dir: string;
  pid(port: number): number;
}

async function startPrivateCluster(): Promise<PrivateCluster> {
  const dir = mkdtempSync(join(tmpdir(), "evently-cluster-"));
  const started = Bun.spawn([".ci/start-redis-cluster", String(FIRST_PORT), dir, "1000"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([
    started.exited,
    new Response(started.stdout).text(),
    new Response(started.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`could not start a Redis Cluster: ${err}`);
  return {
    nodes: out.trim(),
    dir,
    pid: (port) => Number(readFileSync(join(dir, `redis-${port}.pid`), "utf8")),
  };
}

/**
 * The ports of the primary serving `key`'s slot and of its replica, read from CLUSTER NODES
 * (CLUSTER SLOTS leaves out a replica until it reports a replication offset).
 */
async function ownersOf(anyNode: Redis, key: string) {
  const slot = (await anyNode.cluster("KEYSLOT", key)) as number;
  const nodes = ((await anyNode.cluster("NODES")) as string)
    .trim()
    .split("\n")
    .map((line) => {
      const [id, address, flags, primaryId, , , , , ...slots] = line.split(" ");
      const port = Number(address?.split("@")[0]?.split(":")[1]);
      return { id, port, flags: flags?.split(",") ?? [], primaryId, slots };
    });
  const primary = nodes.find(
    (node) =>
      node.flags.includes("master") &&
      node.slots.some((range) => {
        const [from, to = from] = range.split("-").map(Number);
        return (from as number) <= slot && slot <= (to as number);
      }),
  );
  if (!primary) throw new Error(`no node serves slot ${slot}`);
  const replica = nodes.find((node) => node.primaryId === primary.id);
  return { primary: primary.port, replica: replica?.port };
}

const statusCounts = (responses: TestResponse[]) =>
  responses.reduce<Record<number, number>>((counts, response) => {
    counts[response.status] = (counts[response.status] ?? 0) + 1;
    return counts;
  }, {});

describe.skipIf(!clusterSuitesRun || !databaseUrl)("Redis Cluster failover mid-sale", () => {
  let cluster: PrivateCluster;
  let app: TestApp;
  let adminToken: string;
  let observer: Redis;
  let killedPort: number | undefined;

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    app = await createTestApp("postgres-cluster", { REDIS_CLUSTER_NODES: cluster.nodes });
    adminToken = (await createAdmin(app)).token;
  });
  afterAll(async () => {
    observer?.disconnect();
    await app?.close();
    for (const port of PORTS.filter((port) => port !== killedPort)) {
      process.kill(cluster.pid(port), "SIGKILL");
    }
    rmSync(cluster.dir, { recursive: true, force: true });
  });

  /** Each user holds one seat of its own; answers the responses. */
  const holdEach = (show: ShowFixture, users: TestUser[], seats: number[]) =>
    Promise.all(
      users.map((user, index) => holdSeats(app, user, show.show_id, [seats[index] as number])),
    );

  /** The seat locks PostgreSQL says the show should have: seat → hold token or BOOKED. */
  const owedLocks = async (showId: number) => {
    const rows = await query<{ seat_id: number; booked: boolean; lock_token: string }>(
      app,
      sql`select ss.seat_id, ss.status = 'BOOKED' as booked, b.lock_token::text as lock_token
          from show_seats ss join bookings b on b.booking_id = ss.booking_id
          where ss.show_id = ${showId} and ss.status <> 'AVAILABLE'
            and b.status in ('PENDING', 'CONFIRMED')`,
    );
    return new Map(rows.map((row) => [row.seat_id, row.booked ? BOOKED_MARKER : row.lock_token]));
  };

  test("a primary killed mid-sale: holds go on, nothing oversold or lost, the repair realigns Redis", async () => {
    const show = await createShowFixture(app, adminToken, {
      rows: ["A", "B", "C", "D"],
      perRow: 15,
    });
    const seats = show.seat_ids;
    const users = await createUsersDirect(app, seats.length + 40);
    const prefix = app.config.REDIS_KEY_PREFIX;
    const [firstNode] = cluster.nodes.split(",");
    observer = new Redis(`redis://${firstNode}`);
    const { primary, replica } = await ownersOf(observer, seatLockKey(show.show_id, 1, prefix));
    expect(replica).toBeDefined();

    // Before: a third of the seats held, some of them bought; every lock is in the cluster.
    const before = await holdEach(show, users.slice(0, 20), seats.slice(0, 20));
    expect(statusCounts(before)).toEqual({ 200: 20 });
    for (const [index, response] of before.slice(0, 10).entries()) {
      await payAndConfirm(app, users[index] as TestUser, response.body);
    }
    expect(await app.runtime.shared.locks.snapshot(show.show_id)).toEqual(
      await owedLocks(show.show_id),
    );

    // Mid-sale: the show's primary is killed while holds of the next seats are in flight;
    // 40 more users race for 10 seats already held, to prove PostgreSQL still refuses them.
    const during = holdEach(show, users.slice(20, 40), seats.slice(20, 40));
    const contested = Promise.all(
      users
        .slice(seats.length, seats.length + 40)
        .map((user, index) => holdSeats(app, user, show.show_id, [seats[index % 10] as number])),
    );
    killedPort = primary;
    process.kill(cluster.pid(primary), "SIGKILL");
    const duringResponses = await during;
    const contestedResponses = await contested;
    expect(statusCounts(duringResponses)).toEqual({ 200: 20 });
    expect(statusCounts(contestedResponses)).toEqual({ 409: 40 });

    // The replica takes over (node timeout one second, then the election).
    const promoted = new Redis({ port: replica as number, host: "127.0.0.1" });
    try {
      await waitUntil(
        async () =>
          (await promoted.info("replication")).includes("role:master") &&
          (await promoted.cluster("INFO")).includes("cluster_state:ok"),
        () => `the replica on ${replica} was not promoted`,
      );
    } finally {
      promoted.disconnect();
    }

    // Redis lost what the dead primary had not passed on, and missed what was held while it
    // was away; a stale marker on a free seat stands for a lock the app could not drop.
    const freeSeat = seats[seats.length - 1] as number;
    const staleKey = seatLockKey(show.show_id, freeSeat, prefix);
    const app0 = app.runtime.shared.redis;
    if (!app0) throw new Error("the app has no Redis");
    await waitUntil(
      async () => (await app0.set(staleKey, BOOKED_MARKER, "PX", 3_600_000)) === "OK",
      () => "the cluster did not take writes after the failover",
    );

    // The worker's cleanup repairs the locks (retried while the client learns the new
    // topology: a SCAN sent to the dead node fails).
    const cleanup = () => runCleanup({ ...app.runtime.cleanup, logger: createLogger("silent") });
    await waitUntil(
      async () => {
        await cleanup();
        const snapshot = await app.runtime.shared.locks.snapshot(show.show_id);
        const owed = await owedLocks(show.show_id);
        return JSON.stringify([...snapshot].sort()) === JSON.stringify([...owed].sort());
      },
      () => "the lock repair did not bring the cluster's seat locks in line with PostgreSQL",
    );
    expect(await app0.get(staleKey)).toBeNull();

    // After the failover window the sale goes on, through Redis again: the new holds' locks
    // land on the promoted replica.
    const after = await holdEach(show, users.slice(40, 55), seats.slice(40, 55));
    expect(statusCounts(after)).toEqual({ 200: 15 });
    const afterRetry = await holdSeats(app, users[55] as TestUser, show.show_id, [
      seats[40] as number,
    ]);
    expect(afterRetry.status).toBe(409);
    expect(await app.runtime.shared.locks.snapshot(show.show_id)).toEqual(
      await owedLocks(show.show_id),
    );

    // Nothing oversold, nothing lost: every hold answered 200 is a live booking of its seat.
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    const granted = [...before, ...duringResponses, ...after].map(
      (response) => response.body.booking_id as number,
    );
    const live = await query<{ booking_id: number }>(
      app,
      sql`select booking_id from bookings
          where show_id = ${show.show_id} and status in ('PENDING', 'CONFIRMED')`,
    );
    expect(live.map((row) => row.booking_id).sort((a, b) => a - b)).toEqual(
      granted.sort((a, b) => a - b),
    );
  });
});

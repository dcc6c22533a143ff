import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { openDatabase } from "../src/db/client";
import { ReplicaReads } from "../src/db/read-replica";
import type { Logger } from "../src/lib/logger";
import { ok } from "./support/answers";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdSeats,
  type ShowFixture,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, query, sql, type TestApp } from "./support/harness";
import { waitUntil } from "./support/processes";
import { databaseUrl, replicaUrl, requireUrl, serviceAbsent } from "./support/services";

/** A logger that keeps the read replica's lines (not the request log), for the assertions. */
function recordingLogger() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const keep = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    if (msg.startsWith("read replica")) lines.push({ level, msg, fields });
  };
  const logger: Logger = {
    debug: () => {},
    info: keep("info"),
    warn: keep("warn"),
    error: keep("error"),
  };
  return { logger, lines };
}

const server = (url: string) => postgres(url, { max: 1, onnotice: () => {} });

/** A new show, then each kind of read that may go to the replica, at once: all answered. */
async function expectEveryReadServed(app: TestApp) {
  const admin = await createAdmin(app);
  const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 1 });
  const answers = await Promise.all([
    app.request("GET", `/api/v1/shows/${show.show_id}`),
    app.request("GET", "/api/v1/shows"),
    app.request("GET", "/api/v1/events"),
    app.request("GET", "/api/v1/admin/venues", { token: admin.token }),
    app.request("GET", "/api/v1/admin/analytics", { token: admin.token }),
  ]);
  expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
  expect(answers[0]?.body.show.show_id).toBe(show.show_id);
}

describe.skipIf(serviceAbsent(replicaUrl))(
  "reads on a streaming replica (DATABASE_READ_URL)",
  () => {
    let replica: postgres.Sql;
    let primary: postgres.Sql;

    /** Waits until the replica has replayed everything the primary has written so far. */
    async function replicaCaughtUp() {
      const [{ lsn }] = (await primary`select pg_current_wal_lsn()::text as lsn`) as [
        { lsn: string },
      ];
      await waitUntil(
        async () => {
          const [row] = await replica`select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as done`;
          return row?.done === true;
        },
        () => "the replica to replay the primary's latest writes",
      );
    }

    /** Runs `work` while the replica replays nothing: what it serves is frozen meanwhile. */
    async function withReplayPaused<T>(work: () => Promise<T>): Promise<T> {
      await replica`select pg_wal_replay_pause()`;
      try {
        return await work();
      } finally {
        await replica`select pg_wal_replay_resume()`;
      }
    }

    const renameEvent = (app: TestApp, show: ShowFixture, title: string) =>
      query(app, sql`update events set title = ${title} where event_id = ${show.event_id}`);

    beforeAll(() => {
      replica = server(requireUrl(replicaUrl, "DATABASE_REPLICA_URL"));
      primary = server(databaseUrl as string);
    });
    afterAll(async () => {
      await replica?.end();
      await primary?.end();
    });

    describe("a replica that keeps up", () => {
      let app: TestApp;
      let admin: TestUser;
      const recorded = recordingLogger();

      beforeAll(async () => {
        // Probed every 5 minutes: while replay is paused below, the probe does not step in.
        app = await createTestApp(
          "postgres",
          { DATABASE_READ_MAX_LAG_SECONDS: "600" },
          { readReplica: true, logger: recorded.logger },
        );
        admin = await createAdmin(app);
      });
      afterAll(() => app?.close());

      test("serves browsing, admin lists and analytics; holds, bookings and the seat map stay on the primary", async () => {
        const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 3 });
        const [buyer] = (await createUsersDirect(app, 1)) as [TestUser];
        await replicaCaughtUp();
        const title = (await app.request("GET", `/api/v1/shows/${show.show_id}`)).body.show.event
          .title;

        await withReplayPaused(async () => {
          await renameEvent(app, show, "Renamed on the primary");
          const hold = ok(await holdSeats(app, buyer, show.show_id, [show.seat_ids[0] as number]));

          // Reads that may lag: the replica's frozen copy answers (the old title, no hold yet).
          const browsing = await Promise.all(
            [
              `/api/v1/shows/${show.show_id}`,
              "/api/v1/shows?limit=100",
              `/api/v1/shows/search?event=${encodeURIComponent(title)}`,
              `/api/v1/events/${show.event_id}`,
            ].map((path) => app.request("GET", path)),
          );
          for (const response of browsing) {
            expect(response.status).toBe(200);
            expect(response.text).toContain(title);
            expect(response.text).not.toContain("Renamed on the primary");
          }
          const adminBookings = ok(
            await app.request("GET", `/api/v1/admin/bookings?show_id=${show.show_id}`, {
              token: admin.token,
            }),
          );
          expect(adminBookings.total).toBe(0);
          const analytics = ok(
            await app.request("GET", "/api/v1/admin/analytics", { token: admin.token }),
          );
          expect(analytics.totals.bookings_by_status.PENDING).toBe(0);

          // Reads of one's own writes: the primary answers.
          const seatMap = ok(await app.request("GET", `/api/v1/shows/${show.show_id}/seats`));
          const heldSeat = seatMap.seats.find(
            (seat: { seat_id: number }) => seat.seat_id === show.seat_ids[0],
          );
          expect(heldSeat.status).toBe("LOCKED");
          const mine = ok(
            await app.request("GET", "/api/v1/user/bookings", { token: buyer.token }),
          );
          expect(
            mine.bookings.map((booking: { booking_id: number }) => booking.booking_id),
          ).toEqual([hold.booking_id]);
          const booking = ok(
            await app.request("GET", `/api/v1/bookings/${hold.booking_id}`, { token: buyer.token }),
          );
          expect(booking.booking.status).toBe("PENDING");
        });

        await replicaCaughtUp();
        const fresh = ok(await app.request("GET", `/api/v1/shows/${show.show_id}`));
        expect(fresh.show.event.title).toBe("Renamed on the primary");
        expect(recorded.lines.filter((line) => line.level === "warn")).toEqual([]);
      });

      test("the replica's connections ran nothing but reads", async () => {
        const name = new URL(app.config.DATABASE_READ_URL as string).pathname.slice(1);
        const statements = await replica<{ query: string }[]>`
        select query from pg_stat_activity
        where datname = ${name} and backend_type = 'client backend'`;
        expect(statements.length).toBeGreaterThan(0);
        for (const { query } of statements) {
          expect(query).toMatch(/^\s*(select|with)\b/i);
          expect(query).not.toMatch(/\b(insert\s+into|update\s+\S+\s+set|delete\s+from)\b/i);
        }
      });
    });

    test("a lagging replica is taken out of use (one log line) and back when it catches up", async () => {
      const recorded = recordingLogger();
      const app = await createTestApp(
        "postgres",
        { DATABASE_READ_MAX_LAG_SECONDS: "1" },
        { readReplica: true, logger: recorded.logger },
      );
      try {
        const admin = await createAdmin(app);
        const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 1 });
        await replicaCaughtUp();
        ok(await app.request("GET", `/api/v1/shows/${show.show_id}`));

        await withReplayPaused(async () => {
          await renameEvent(app, show, "Written while the replica lags");
          // Once the probe sees the lag, browsing reads the primary: the new title appears.
          await waitUntil(
            async () => {
              const response = await app.request("GET", `/api/v1/shows/${show.show_id}`);
              return response.body.show?.event.title === "Written while the replica lags";
            },
            () => "browsing to read the primary while the replica lags",
          );
        });
        await waitUntil(
          async () => recorded.lines.length === 2,
          () => "the probe to put the replica back in use",
        );

        expect(
          recorded.lines.map(({ level, msg, fields }) => ({ level, msg, reason: fields?.reason })),
        ).toEqual([
          {
            level: "warn",
            msg: "read replica out of use, reads go to the primary",
            reason: "it lags behind the primary",
          },
          { level: "info", msg: "read replica back in use", reason: undefined },
        ]);
      } finally {
        await app.close();
      }
    });

    test("a replica that does not answer: every read is served by the primary, with one log line", async () => {
      const recorded = recordingLogger();
      const app = await createTestApp(
        "postgres",
        // Nothing listens on port 1: each connection attempt is refused at once.
        {
          DATABASE_READ_URL: "postgres://postgres@127.0.0.1:1/evently",
          DATABASE_READ_MAX_LAG_SECONDS: "600",
        },
        { logger: recorded.logger },
      );
      try {
        await expectEveryReadServed(app);
        const warnings = recorded.lines.filter((line) => line.level === "warn");
        expect(warnings.map((line) => [line.msg, line.fields?.reason])).toEqual([
          ["read replica out of use, reads go to the primary", "a read failed on it"],
        ]);
        expect(String(warnings[0]?.fields?.error)).toMatch(/ECONNREFUSED|CONNECTION/);
      } finally {
        await app.close();
      }
    });
  },
);

// Any PostgreSQL will do: the "replica" is an empty database, as a mistyped DATABASE_READ_URL
// or a replica of another database would be.
describe.skipIf(serviceAbsent(databaseUrl))("a read replica without this schema", () => {
  const name = `evently_wrong_replica_${process.pid}_${Date.now()}`;
  let admin: postgres.Sql;
  beforeAll(async () => {
    admin = server(databaseUrl as string);
    await admin.unsafe(`create database ${name}`);
  });
  afterAll(async () => {
    await admin?.unsafe(`drop database if exists ${name} with (force)`);
    await admin?.end();
  });

  test("is taken out of use: every read is served by the primary, with one log line", async () => {
    const recorded = recordingLogger();
    const replicaAt = new URL(databaseUrl as string);
    replicaAt.pathname = `/${name}`;
    const app = await createTestApp(
      "postgres",
      { DATABASE_READ_URL: replicaAt.toString(), DATABASE_READ_MAX_LAG_SECONDS: "600" },
      { logger: recorded.logger },
    );
    try {
      await expectEveryReadServed(app);
      const warnings = recorded.lines.filter((line) => line.level === "warn");
      expect(warnings.map((line) => line.msg)).toEqual([
        "read replica out of use, reads go to the primary",
      ]);
    } finally {
      await app.close();
    }
  });

  test("and a probe does not put it back in use", async () => {
    const recorded = recordingLogger();
    const replicaAt = new URL(databaseUrl as string);
    replicaAt.pathname = `/${name}`;
    const primary = await openDatabase({ url: databaseUrl as string, poolMax: 1 });
    const reads = new ReplicaReads({
      primary: primary.db,
      replica: await openDatabase({ url: replicaAt.toString(), poolMax: 1 }),
      maxLagMs: 600_000,
      logger: recorded.logger,
    });
    try {
      expect(await reads.probe()).toBe(false);
      expect(recorded.lines.map((line) => line.fields?.reason)).toEqual([
        "its schema is not the one this release reads",
      ]);
    } finally {
      await reads.close();
      await primary.close();
    }
  });
});

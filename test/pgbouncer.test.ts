import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { composeApi } from "../src/compose/api";
import { loadConfig } from "../src/config";
import { openDatabase } from "../src/db/client";
import { expireLapsedHolds } from "../src/jobs/cleanup";
import { createLogger } from "../src/lib/logger";
import { expectError } from "./support/answers";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdSeats,
  lapseHolds,
  payAndConfirm,
  type TestUser,
} from "./support/fixtures";
import {
  createScratchDatabase,
  createTestApp,
  onDatabase,
  query,
  sql,
  TEST_JWT_SECRET,
  type TestApp,
  type TestResponse,
} from "./support/harness";
import { bookingInvariantViolations } from "./support/invariants";
import { databaseUrl, pgbouncerUrl, requireUrl, serviceAbsent } from "./support/services";

const statuses = (responses: TestResponse[]) =>
  responses.reduce<Record<number, number>>((counts, response) => {
    counts[response.status] = (counts[response.status] ?? 0) + 1;
    return counts;
  }, {});

/** PostgreSQL directly, on the app's database: a session the test drives by hand. */
const directSession = (app: TestApp) => {
  const name = new URL(app.config.DATABASE_URL as string).pathname.slice(1);
  return postgres(onDatabase(databaseUrl as string, name), { max: 1, onnotice: () => {} });
};

describe.skipIf(serviceAbsent(pgbouncerUrl))("PgBouncer in transaction pooling", () => {
  test("the pool's session settings as startup parameters are refused (why DB_PGBOUNCER exists)", async () => {
    const database = await openDatabase({
      url: requireUrl(pgbouncerUrl, "PGBOUNCER_URL"),
      poolMax: 1,
      statementTimeoutMs: 1000,
    });
    try {
      const refusal = await database.db.execute(sql`select 1`).then(
        () => "answered",
        (error: Error) => String(error.cause),
      );
      expect(refusal).toMatch(
        /unsupported startup parameter: (statement_timeout|lock_timeout|plan_cache_mode)/,
      );
    } finally {
      await database.close();
    }
  });

  test("a start whose role does not carry the timeouts is refused, naming the fix", async () => {
    const scratch = await createScratchDatabase();
    const url = onDatabase(requireUrl(pgbouncerUrl, "PGBOUNCER_URL"), scratch.name);
    const database = await openDatabase({ url, poolMax: 2, behindPgBouncer: true });
    try {
      const config = loadConfig({
        NODE_ENV: "test",
        LOG_LEVEL: "silent",
        DATABASE_URL: url,
        JWT_SECRET: TEST_JWT_SECRET,
        DB_PGBOUNCER: "1",
        DB_STATEMENT_TIMEOUT_MS: "7000",
      });
      const start = composeApi(config, { database, keepDatabaseOpen: true });
      await expect(start).rejects.toThrow(/ALTER ROLE \S+ SET statement_timeout = 7000;/);
      await expect(composeApi(config, { database, keepDatabaseOpen: true })).rejects.toThrow(
        /ALTER ROLE \S+ SET lock_timeout = 5000;/,
      );
    } finally {
      await database.close();
      await scratch.drop();
    }
  });

  describe("an API whose pool goes through it (DB_PGBOUNCER=1)", () => {
    let app: TestApp;
    let admin: TestUser;
    const lockTimeoutMs = 1000;

    beforeAll(async () => {
      app = await createTestApp(
        "postgres",
        { DB_LOCK_TIMEOUT_MS: String(lockTimeoutMs), DB_STATEMENT_TIMEOUT_MS: "20000" },
        { throughPgBouncer: true },
      );
      admin = await createAdmin(app);
    });
    afterAll(() => app?.close());

    test("its queries run with the configured timeouts", async () => {
      expect(new URL(app.config.DATABASE_URL as string).port).toBe(
        new URL(pgbouncerUrl as string).port,
      );
      const [settings] = await query<{ statement_timeout: string; lock_timeout: string }>(
        app,
        sql`select current_setting('statement_timeout') as statement_timeout,
                   current_setting('lock_timeout') as lock_timeout`,
      );
      expect(settings).toEqual({ statement_timeout: "20s", lock_timeout: "1s" });
    });

    test("300 simultaneous holds of the same 2 seats: exactly one wins", async () => {
      const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 4 });
      const users = await createUsersDirect(app, 300);
      const seats = show.seat_ids.slice(0, 2);

      const responses = await Promise.all(
        users.map((user) => holdSeats(app, user, show.show_id, seats)),
      );

      expect(statuses(responses)).toEqual({ 200: 1, 409: 299 });
      const [held] = await query<{ count: number }>(
        app,
        sql`select count(*)::int as count from bookings
            where show_id = ${show.show_id} and status = 'PENDING'`,
      );
      expect(held?.count).toBe(1);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    });

    test("60 overlapping multi-seat holds, then payments and cancels at once: no seat sold twice", async () => {
      const show = await createShowFixture(app, admin.token, { rows: ["A", "B"], perRow: 10 });
      const users = await createUsersDirect(app, 60);
      const holds = await Promise.all(
        users.map((user, index) => {
          const first = index % 19;
          return holdSeats(app, user, show.show_id, show.seat_ids.slice(first, first + 2));
        }),
      );
      const won = holds.flatMap((response, index) =>
        response.status === 200 ? [{ user: users[index] as TestUser, booking: response.body }] : [],
      );
      expect(won.length).toBeGreaterThan(0);
      expect(won.length + (statuses(holds)[409] ?? 0)).toBe(60);

      // Each winner pays twice at once and cancels meanwhile: one charge or a refund, never both.
      await Promise.all(
        won.flatMap(({ user, booking }) => [
          app.request("POST", "/api/v1/bookings/payments/simulate", {
            token: user.token,
            body: { booking_id: booking.booking_id, amount: booking.amount },
          }),
          app.request("POST", "/api/v1/bookings/payments/simulate", {
            token: user.token,
            body: { booking_id: booking.booking_id, amount: booking.amount },
          }),
          app.request("POST", `/api/v1/bookings/${booking.booking_id}/cancel`, {
            token: user.token,
            body: {},
          }),
        ]),
      );
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    });

    test("two cleanup runs at once (SKIP LOCKED) expire each lapsed hold exactly once", async () => {
      const show = await createShowFixture(app, admin.token, { rows: ["A", "B"], perRow: 15 });
      const users = await createUsersDirect(app, 30);
      const holds = await Promise.all(
        users.map((user, index) =>
          holdSeats(app, user, show.show_id, [show.seat_ids[index] as number]),
        ),
      );
      expect(statuses(holds)).toEqual({ 200: 30 });
      await lapseHolds(
        app,
        holds.map((hold) => hold.body.booking_id as number),
      );
      const deps = { ...app.runtime.cleanup, logger: createLogger("silent") };

      const runs = await Promise.all([expireLapsedHolds(deps, 4), expireLapsedHolds(deps, 4)]);

      expect(runs.reduce((sum, run) => sum + run.expired, 0)).toBe(30);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    });

    test("waitlist joins and cancels at once (advisory transaction locks): freed seats go to the line in order", async () => {
      const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 2 });
      const [first, second, ...waiting] = await createUsersDirect(app, 12);
      const bought = [];
      for (const [index, buyer] of [first, second].entries()) {
        const hold = await holdSeats(app, buyer as TestUser, show.show_id, [
          show.seat_ids[index] as number,
        ]);
        expect(hold.status).toBe(200);
        await payAndConfirm(app, buyer as TestUser, hold.body);
        bought.push({ buyer: buyer as TestUser, booking: hold.body });
      }
      const joins = await Promise.all(
        waiting.map((user) =>
          app.request("POST", `/api/v1/shows/${show.show_id}/waitlist`, {
            token: user.token,
            body: { seats_wanted: 1 },
          }),
        ),
      );
      expect(statuses(joins)).toEqual({ 201: 10 });

      const cancels = await Promise.all(
        bought.map(({ buyer, booking }) =>
          app.request("POST", `/api/v1/bookings/${booking.booking_id}/cancel`, {
            token: buyer.token,
            body: {},
          }),
        ),
      );
      expect(statuses(cancels)).toEqual({ 200: 2 });
      const offered = await query<{ user_id: number }>(
        app,
        sql`select user_id from waitlist_entries
            where show_id = ${show.show_id} and status = 'OFFERED' order by user_id`,
      );
      const firstInLine = await query<{ user_id: number }>(
        app,
        sql`select user_id from waitlist_entries where show_id = ${show.show_id}
            order by created_at, waitlist_entry_id limit 2`,
      );
      expect(offered).toEqual(firstInLine.sort((a, b) => a.user_id - b.user_id));
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    });

    test("a hold waiting on a row lock longer than DB_LOCK_TIMEOUT_MS answers 503", async () => {
      const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 2 });
      const [buyer] = (await createUsersDirect(app, 1)) as [TestUser];
      const session = directSession(app);
      try {
        await session`begin`;
        await session`select 1 from show_seats
                      where show_id = ${show.show_id} and seat_id = ${show.seat_ids[0] as number}
                      for update`;

        const hold = await holdSeats(app, buyer, show.show_id, [show.seat_ids[0] as number]);

        expectError(hold, 503, "UNAVAILABLE");
        await session`rollback`;
      } finally {
        await session.end();
      }
      const retry = await holdSeats(app, buyer, show.show_id, [show.seat_ids[0] as number]);
      expect(retry.status).toBe(200);
    });
  });
});

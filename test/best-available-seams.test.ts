import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { runCleanup } from "../src/jobs/cleanup";
import { createLogger } from "../src/lib/logger";
import { ok } from "./support/answers";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdBest,
  holdSeats,
  lapseHolds,
  registerUser,
  seatNames,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, query, SETUP_TIMEOUT_MS, sql, type TestApp } from "./support/harness";
import { bookingInvariantViolations } from "./support/invariants";
import { backendsWaiting } from "./support/lock-waits";
import { pairsUntilRefused } from "./support/pairs";
import { describeEachBackend, hasPostgresAndRedis } from "./support/services";

/** Generous for every statement of these tests, as long as none of them is quadratic. */
const STATEMENT_TIMEOUT_MS = 5_000;

/**
 * Seams of the row-wise pick with what else changes a show's seats: layout changes, releases,
 * the cleanup. Each race is made to happen, not hoped for: a pick's statement is slowed down
 * between its snapshot and its row lock by many release notes it has to read first.
 */
describe.skipIf(!hasPostgresAndRedis)("best-available seams on real PostgreSQL and Redis", () => {
  let app: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    app = await createTestApp("postgres", {
      MAX_SEATS_PER_USER_PER_SHOW: "100",
      DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    });
    adminToken = (await createAdmin(app)).token;
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app?.close());

  /** `count` release notes of one seat, as that many releases no pick has read leave. */
  const noteReleases = (showId: number, seatId: number | undefined, count: number) =>
    query(
      app,
      sql`insert into show_row_releases (show_id, seat_id)
          select ${showId}, ${seatId} from generate_series(1, ${count})`,
    );

  /**
   * Slows down the show's next picks between their snapshot and their first row lock: they
   * read every release note of the show first (once some row's hint is below the request).
   * The notes name a seat of another venue's row, which no pick of this show locks or clears.
   */
  async function slowPicksDown(showId: number) {
    const elsewhere = await createShowFixture(app, adminToken, { rows: ["Z"], perRow: 1 });
    await noteReleases(showId, elsewhere.seat_ids[0], 600_000);
  }

  test("seats added to a row while a pick reads it stay visible to the next picks", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A", "B", "C"], perRow: 4 });
    const holder = await registerUser(app);
    const picker = await registerUser(app);
    const next = await registerUser(app);
    const seat = (name: string) =>
      show.seat_ids[(name.charCodeAt(0) - 65) * 4 + Number(name.slice(1)) - 1] as number;
    // Row A: A1-A2 free. Row B: all held, its hint read (0). Row C: free.
    ok(await holdSeats(app, holder, show.show_id, ["A3", "A4"].map(seat)), 200);
    ok(await holdSeats(app, holder, show.show_id, ["B1", "B2", "B3", "B4"].map(seat)), 200);
    await query(
      app,
      sql`update show_rows set largest_free_hint = 0
          where show_id = ${show.show_id} and seat_row = 'B'`,
    );
    await slowPicksDown(show.show_id);

    let pickDone = false;
    const picking = holdBest(app, picker, show.show_id, 2).finally(() => {
      pickDone = true;
    });
    await Bun.sleep(60);
    const added = await app.request("POST", `/api/v1/admin/venues/${show.venue_id}/seats`, {
      token: adminToken,
      body: { rows: [{ seat_row: "A", count: 8, start_number: 5 }] },
    });
    ok(added, 201);
    // The race this test is about: the seats were added while the pick was still reading.
    expect(pickDone).toBe(false);
    const picked = ok(await picking, 200);
    expect(seatNames(picked)[0]?.startsWith("A")).toBe(true);
    await query(app, sql`delete from show_row_releases where show_id = ${show.show_id}`);

    // Row A now has A5-A12 (and what the first pick left): a block of 4 beats any of row C.
    const four = ok(await holdBest(app, next, show.show_id, 4), 200);
    expect(seatNames(four).every((name) => name.startsWith("A"))).toBe(true);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  }, 60_000);

  test("seats removed while a pick holds them: the removal waits and is refused, no deadlock", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 2 });
    const buyer = await registerUser(app);
    // The pick stops after locking its seats and before its booking's seats are checked
    // against `seats` (foreign keys are checked last): at the buyer's per-show lock, held here.
    const session = postgres(app.config.DATABASE_URL as string, { max: 1, onnotice: () => {} });
    try {
      const buyerLock = (BigInt(buyer.user_id) << 32n) | BigInt(show.show_id);
      await session`select pg_advisory_lock(${buyerLock.toString()}::bigint)`;
      const picking = holdBest(app, buyer, show.show_id, 2);
      await backendsWaiting(session, 1, "the pick");
      const removing = app.request("DELETE", `/api/v1/admin/venues/${show.venue_id}/seats`, {
        token: adminToken,
        body: { seat_ids: [show.seat_ids[0]] },
      });
      await backendsWaiting(session, 2, "the removal");
      await session`select pg_advisory_unlock(${buyerLock.toString()}::bigint)`;
      const [picked, removed] = await Promise.all([picking, removing]);
      expect(seatNames(ok(picked, 200))).toEqual(["A1", "A2"]);
      expect({ status: removed.status, code: removed.body?.code }).toEqual({
        status: 409,
        code: "CONFLICT",
      });
    } finally {
      await session.end();
    }
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  }, 60_000);

  test("picks, exact holds, cancels, expiries, folds and layout changes at once", async () => {
    const rows = ["A", "B", "C", "D", "E", "F", "G", "H"];
    const show = await createShowFixture(app, adminToken, { rows, perRow: 20 });
    const users = await createUsersDirect(app, 120);
    const greedy = users[0] as TestUser;
    const cleanup = () => runCleanup({ ...app.runtime.cleanup, logger: createLogger("silent") });
    const served: { user: TestUser; booking_id: number }[] = [];
    const pick = async (user: TestUser, quantity: number) => {
      const answer = await holdBest(app, user, show.show_id, quantity);
      if (answer.status === 200) served.push({ user, booking_id: answer.body.booking_id });
      return answer;
    };
    const churn = async () => {
      for (let round = 0; round < 6; round++) {
        await Bun.sleep(15);
        const some = served.splice(0, 4);
        await Promise.all(
          some
            .slice(0, 2)
            .map(({ user, booking_id }) =>
              app.request("POST", `/api/v1/bookings/${booking_id}/cancel`, user),
            ),
        );
        await lapseHolds(
          app,
          some.slice(2).map((hold) => hold.booking_id),
        );
        await cleanup();
      }
    };
    const answers = await Promise.all([
      ...users.slice(1, 100).map((user, index) => pick(user, 1 + (index % 4))),
      ...users.slice(100).map((user) => pick(user, 10)),
      ...Array.from({ length: 12 }, () => pick(greedy, 2)),
      ...users
        .slice(100, 110)
        .map((user, index) =>
          holdSeats(app, user, show.show_id, [show.seat_ids[index * 13] as number]),
        ),
      app.request("POST", `/api/v1/admin/venues/${show.venue_id}/seats`, {
        token: adminToken,
        body: {
          rows: [
            { seat_row: "A", count: 6, start_number: 21 },
            { seat_row: "I", count: 20 },
          ],
        },
      }),
      churn(),
    ]);
    const statuses = new Set(
      answers
        .filter((answer) => answer !== undefined)
        .map((answer) => `${answer.status} ${answer.body?.code ?? ""}`),
    );
    const expected = /^(200|201|409 NOT_ENOUGH_SEATS|409 SEAT_UNAVAILABLE) ?$/;
    expect([...statuses].filter((status) => !expected.test(status))).toEqual([]);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);

    // Then pairs until refused: the refusal must mean no two adjacent free seats remain.
    expect(await pairsUntilRefused(app, show.show_id, users.slice(0, 100))).toEqual({
      refusal: "NOT_ENOUGH_SEATS",
      pairsLeft: 0,
    });
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  }, 60_000);

  test("seats freed while people wait go to the line, never to the pickers racing them", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A", "B"], perRow: 4 });
    const users = await createUsersDirect(app, 30);
    const holders = users.slice(0, 4);
    const waiters = users.slice(4, 7);
    const pickers = users.slice(7);
    const holds = await Promise.all(
      holders.map((user, index) =>
        holdSeats(app, user, show.show_id, show.seat_ids.slice(index * 2, index * 2 + 2)),
      ),
    );
    for (const user of waiters) {
      const joined = await app.request("POST", `/api/v1/shows/${show.show_id}/waitlist`, {
        token: user.token,
        body: { seats_wanted: 2 },
      });
      expect(joined.status).toBe(201);
    }
    // Eight seats freed at once while 23 pickers ask for pairs: the line is owed six of them.
    const answers = await Promise.all([
      ...holds.map((held, index) =>
        app.request("POST", `/api/v1/bookings/${ok(held, 200).booking_id}/cancel`, holders[index]),
      ),
      ...pickers.map((user) => holdBest(app, user, show.show_id, 2)),
    ]);
    const picked = answers.slice(holds.length).filter((answer) => answer.status === 200);
    const [offers] = await query<{ offered: number; seats: number }>(
      app,
      sql`select count(distinct b.booking_id)::int as offered, count(*)::int as seats
          from bookings b join booking_seats bs on bs.booking_id = b.booking_id
          where b.show_id = ${show.show_id} and b.status = 'PENDING'
            and b.user_id = any(${sql.param(waiters.map((user) => user.user_id))}::int[])`,
    );
    expect(offers).toEqual({ offered: 3, seats: 6 });
    expect(picked.length).toBeLessThanOrEqual(1);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  }, 60_000);

  test("a show moved to another venue while pickers race: every hold is of the venue it ends at", async () => {
    for (let round = 0; round < 5; round++) {
      // Room for the ten pairs at either venue.
      const show = await createShowFixture(app, adminToken, { rows: ["A", "B"], perRow: 10 });
      const target = await createShowFixture(app, adminToken, {
        rows: ["A", "B", "C"],
        perRow: 10,
      });
      const users = await createUsersDirect(app, 10);
      const answers = await Promise.all([
        app.request("PUT", `/api/v1/admin/shows/${show.show_id}`, {
          token: adminToken,
          body: { venue_id: target.venue_id },
        }),
        ...users.map((user) => holdBest(app, user, show.show_id, 2)),
      ]);
      const [moved, ...picks] = answers;
      expect([200, 409]).toContain(moved?.status as number);
      const [venue] = await query<{ venue_id: number }>(
        app,
        sql`select venue_id from shows where show_id = ${show.show_id}`,
      );
      const [foreign] = await query<{ seats: number }>(
        app,
        sql`select count(*)::int as seats from bookings b
            join booking_seats bs on bs.booking_id = b.booking_id
            join seats s on s.seat_id = bs.seat_id
            where b.show_id = ${show.show_id} and s.venue_id <> ${venue?.venue_id}`,
      );
      expect(foreign?.seats).toBe(0);
      expect(picks.filter((pick) => pick.status !== 200)).toEqual([]);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    }
  }, 60_000);

  test("a show moved to another venue keeps no row of the venue it left", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["P", "Q"], perRow: 4 });
    const target = await createShowFixture(app, adminToken, { rows: ["X", "Y", "Z"], perRow: 4 });
    const rowsOf = async (showId: number) =>
      (
        await query<{ seat_row: string }>(
          app,
          sql`select seat_row from show_rows where show_id = ${showId} order by seat_row`,
        )
      ).map((row) => row.seat_row);
    expect(await rowsOf(show.show_id)).toEqual(["P", "Q"]);
    const moved = await app.request("PUT", `/api/v1/admin/shows/${show.show_id}`, {
      token: adminToken,
      body: { venue_id: target.venue_id },
    });
    expect(moved.status).toBe(200);
    expect(await rowsOf(show.show_id)).toEqual(["X", "Y", "Z"]);
    const [buyer] = await createUsersDirect(app, 1);
    expect(
      ok(await holdBest(app, buyer as TestUser, show.show_id, 4), 200).locked_seats,
    ).toHaveLength(4);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("100 rows whose hints all say 'any block', 95 of them full: 20 parallel tens", async () => {
    const rows = Array.from({ length: 100 }, (_, index) => `R${index + 100}`);
    const show = await createShowFixture(app, adminToken, { rows, perRow: 10 });
    const users = await createUsersDirect(app, 115);
    const fillers = users.slice(0, 95);
    await Promise.all(
      fillers.map((user, index) =>
        holdSeats(app, user, show.show_id, show.seat_ids.slice(index * 10, index * 10 + 10)),
      ),
    );
    const answers = await Promise.all(
      users.slice(95).map((user) => holdBest(app, user, show.show_id, 10)),
    );
    const codes = answers.map((answer) => `${answer.status} ${answer.body?.code ?? ""}`).sort();
    expect(codes).toEqual([...Array(5).fill("200 "), ...Array(15).fill("409 NOT_ENOUGH_SEATS")]);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  }, 60_000);

  test("a row whose seats were released many times is read in time", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 2 });
    const buyer = await registerUser(app);
    // What 20,000 holds of seat A1 that ran out or were cancelled leave, while no pick read row A.
    await noteReleases(show.show_id, show.seat_ids[0], 20_000);
    const started = performance.now();
    const held = ok(await holdBest(app, buyer, show.show_id, 2), 200);
    expect(seatNames(held)).toEqual(["A1", "A2"]);
    expect(performance.now() - started).toBeLessThan(STATEMENT_TIMEOUT_MS);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  }, 60_000);
});

describeEachBackend("picks: stale hints, odd layouts, releases, lapsed holds (%s)", (backend) => {
  let app: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    app = await createTestApp(backend, { MAX_SEATS_PER_USER_PER_SHOW: "100" });
    adminToken = (await createAdmin(app)).token;
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app?.close());

  const notes = async (showId: number) => {
    const [row] = await query<{ notes: number }>(
      app,
      sql`select count(*)::int as notes from show_row_releases where show_id = ${showId}`,
    );
    return row?.notes;
  };

  /**
   * A show of a venue laid out as `rows` (row name to its seat numbers), and a row Z whose
   * only seat was removed: its show_rows row stays, with a hint, and no seats.
   */
  async function showOf(rows: Record<string, number[]>) {
    const show = await createShowFixture(app, adminToken, { rows: ["Z"], perRow: 1 });
    ok(
      await app.request("POST", `/api/v1/admin/venues/${show.venue_id}/seats`, {
        token: adminToken,
        body: {
          seats: Object.entries(rows).flatMap(([seat_row, numbers]) =>
            numbers.map((seat_number) => ({ seat_row, seat_number })),
          ),
        },
      }),
      201,
    );
    const removed = await app.request("DELETE", `/api/v1/admin/venues/${show.venue_id}/seats`, {
      token: adminToken,
      body: { seat_ids: show.seat_ids },
    });
    expect(removed.status).toBe(204);
    return show.show_id;
  }
  const range = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, index) => from + index);

  test("gaps in a row's numbers break its blocks; one wide row; every hint stale", async () => {
    const buyer = await registerUser(app);
    const gapped = await showOf({ A: [...range(1, 5), ...range(7, 12)] });
    expect(seatNames(ok(await holdBest(app, buyer, gapped, 6), 200))).toEqual(
      range(7, 12)
        .map((n) => `A${n}`)
        .sort(),
    );
    const refused = await holdBest(app, buyer, gapped, 6);
    expect({ status: refused.status, details: refused.body?.details }).toEqual({
      status: 409,
      details: { available_seats: 5, largest_block: 5 },
    });

    const wide = await showOf({ A: range(1, 1000) });
    expect(seatNames(ok(await holdBest(app, buyer, wide, 10), 200))).toEqual(
      range(496, 505)
        .map((n) => `A${n}`)
        .sort(),
    );

    // Twelve rows, each hint saying "any block" while only the last row has 10 free seats.
    const rows = Object.fromEntries("ABCDEFGHIJKL".split("").map((row) => [row, range(1, 10)]));
    const stale = await showOf(rows);
    const taker = await registerUser(app);
    const [seatIds] = await query<{ ids: number[] }>(
      app,
      sql`select array_agg(ss.seat_id order by ss.seat_id) as ids
          from show_seats ss join seats s on s.seat_id = ss.seat_id
          where ss.show_id = ${stale} and s.seat_row <> 'L' and s.seat_number in (5, 6)`,
    );
    const ids = seatIds?.ids ?? [];
    for (let from = 0; from < ids.length; from += 10) {
      ok(await holdSeats(app, taker, stale, ids.slice(from, from + 10)), 200);
    }
    expect(seatNames(ok(await holdBest(app, buyer, stale, 10), 200))).toEqual(
      range(1, 10)
        .map((n) => `L${n}`)
        .sort(),
    );
    expect(await bookingInvariantViolations(app, stale)).toEqual([]);
  }, 60_000);

  test("a show deleted a moment ago: 404, as for an exact hold, not NOT_ENOUGH_SEATS", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 6 });
    const buyer = await registerUser(app);
    ok(await holdBest(app, buyer, show.show_id, 2), 200);
    const deleted = await app.request("DELETE", `/api/v1/admin/shows/${show.show_id}?force=true`, {
      token: adminToken,
    });
    expect(deleted.status).toBe(204);
    const best = await holdBest(app, buyer, show.show_id, 2);
    const exact = await holdSeats(app, buyer, show.show_id, [show.seat_ids[0] as number]);
    expect([best.status, best.body?.code]).toEqual([exact.status, exact.body?.code]);
    expect([best.status, best.body?.code]).toEqual([404, "NOT_FOUND"]);
  }, 60_000);

  test("the cleanup folds them into their rows' hints: bounded, and the rows still picked", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A", "B"], perRow: 4 });
    const rowA = show.seat_ids.slice(0, 4);
    const buyer = await registerUser(app);
    // Row A held, then read by a pick (its hint: 0); the pick takes row B's best pair.
    const blocking = ok(await holdSeats(app, buyer, show.show_id, rowA), 200);
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 2), 200))).toEqual(["B2", "B3"]);
    // Exact holds of row A, cancelled over and over: a note per seat and release.
    const cycles = 10;
    ok(await app.request("POST", `/api/v1/bookings/${blocking.booking_id}/cancel`, buyer), 200);
    for (let cycle = 1; cycle < cycles; cycle++) {
      const held = ok(await holdSeats(app, buyer, show.show_id, rowA), 200);
      ok(await app.request("POST", `/api/v1/bookings/${held.booking_id}/cancel`, buyer), 200);
    }
    expect(await notes(show.show_id)).toBe(cycles * rowA.length);

    await runCleanup({ ...app.runtime.cleanup, logger: createLogger("silent") });
    expect(await notes(show.show_id)).toBe(0);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 4), 200))).toEqual([
      "A1",
      "A2",
      "A3",
      "A4",
    ]);
  }, 60_000);

  /**
   * Rows A and B of four; A2-A3 held by a hold that ran out before the cleanup job came by:
   * the seat map shows them free, an exact hold takes them, so "the best free seats" are they.
   */
  async function frontPairLapsed() {
    const show = await createShowFixture(app, adminToken, { rows: ["A", "B"], perRow: 4 });
    const holder = await registerUser(app);
    const held = ok(await holdSeats(app, holder, show.show_id, show.seat_ids.slice(1, 3)), 200);
    await lapseHolds(app, [held.booking_id]);
    const map = ok(await app.request("GET", `/api/v1/shows/${show.show_id}/seats`), 200);
    expect(map.seats.filter((seat: { status: string }) => seat.status !== "AVAILABLE")).toEqual([]);
    return { show, lapsed: held.booking_id as number };
  }

  async function statusOf(bookingId: number) {
    const [row] = await query<{ status: string }>(
      app,
      sql`select status::text as status from bookings where booking_id = ${bookingId}`,
    );
    return row?.status;
  }

  test("the best pair is the one whose hold ran out, not the row behind it", async () => {
    const { show, lapsed } = await frontPairLapsed();
    const buyer = await registerUser(app);
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 2), 200))).toEqual(["A2", "A3"]);
    expect(await statusOf(lapsed)).toBe("EXPIRED");
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("the best scattered seats include those whose hold ran out", async () => {
    const { show, lapsed } = await frontPairLapsed();
    const buyer = await registerUser(app);
    const held = ok(await holdBest(app, buyer, show.show_id, 2, false), 200);
    expect(seatNames(held)).toEqual(["A2", "A3"]);
    expect(await statusOf(lapsed)).toBe("EXPIRED");
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });
});

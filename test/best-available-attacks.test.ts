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
import { hasPostgresAndRedis } from "./support/services";

/**
 * Interleavings of pick_adjacent_seats (migration 0016) that its snapshots make possible: the
 * function takes a fresh snapshot per command, so what it read at its start may be older than
 * the rows it locks later in the same call. Each race is forced from a separate session.
 */
describe.skipIf(!hasPostgresAndRedis)("best-available attacks on real PostgreSQL and Redis", () => {
  let app: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    app = await createTestApp("postgres", { MAX_SEATS_PER_USER_PER_SHOW: "4" });
    adminToken = (await createAdmin(app)).token;
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app?.close());

  /**
   * Moves the show to the target's venue while four pickers ask for pairs: the move is
   * stopped after it has cleared the show's rows and before it commits (its new row X waits
   * for an uncommitted row X of the same show, inserted from another session), and picks
   * started then find every row locked by the move, so they look again and again until it
   * commits. The picks' answers.
   */
  async function moveWhilePicksSpin(showId: number, venueId: number) {
    const pickers = await createUsersDirect(app, 4);
    const session = postgres(app.config.DATABASE_URL as string, { max: 1, onnotice: () => {} });
    try {
      await session`begin`;
      await session`insert into show_rows (show_id, seat_row, largest_free_hint)
        values (${showId}, 'X', 0)`;
      const moving = app.request("PUT", `/api/v1/admin/shows/${showId}`, {
        token: adminToken,
        body: { venue_id: venueId },
      });
      await backendsWaiting(session, 1, "the move");
      const picks = pickers.map((user: TestUser) => holdBest(app, user, showId, 2));
      await Bun.sleep(150);
      await session`rollback`;
      expect((await moving).status).toBe(200);
      return await Promise.all(picks);
    } finally {
      await session.end();
    }
  }

  test("a show that moves to another venue while picks spin: the new rows' hints stay true", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["P", "Q"], perRow: 10 });
    const target = await createShowFixture(app, adminToken, { rows: ["X", "Y"], perRow: 10 });
    const answers = await moveWhilePicksSpin(show.show_id, target.venue_id);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    const [hints] = await query<{ hints: string }>(
      app,
      sql`select string_agg(seat_row || '=' || largest_free_hint, ' ' order by seat_row) as hints
          from show_rows where show_id = ${show.show_id}`,
    );
    expect(await bookingInvariantViolations(app, show.show_id), hints?.hints).toEqual([]);
    // And the next pick finds a row by its hint, not through the statement that ranks every
    // seat: a hint of 0 on a row with free seats would send every pick there.
    const [next] = await createUsersDirect(app, 1);
    ok(await holdBest(app, next as TestUser, show.show_id, 2), 200);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  }, 60_000);

  test("a show that moves to a ranked venue while picks spin: the picks follow the ranks", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["P", "Q"], perRow: 10 });
    const target = await createShowFixture(app, adminToken, { rows: ["X"], perRow: 10 });
    // Row Y is ranked, from its centre out: its pairs come before any of unranked row X.
    ok(
      await app.request("POST", `/api/v1/admin/venues/${target.venue_id}/seats`, {
        token: adminToken,
        body: {
          seats: [5, 6, 4, 7, 3, 8, 2, 9, 1, 10].map((seat_number, rank) => ({
            seat_row: "Y",
            seat_number,
            rank: rank + 1,
          })),
        },
      }),
      201,
    );
    // A pick that spun through the move still takes the layout for unranked, and may lock a
    // block of row X: the hold's guard (its statement's snapshot predates the new seat rows)
    // must send it back.
    const answers = await moveWhilePicksSpin(show.show_id, target.venue_id);
    const rows = answers.flatMap((answer) => seatNames(ok(answer, 200)).map((name) => name[0]));
    expect(rows.join("")).toBe("YYYYYYYY");
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  }, 60_000);

  test("seats freed after a pick's statement began, then picked by it: retried, held once", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 2 });
    const [holder, picker] = (await createUsersDirect(app, 2)) as [TestUser, TestUser];
    const held = ok(await holdSeats(app, holder, show.show_id, show.seat_ids), 200);
    // The pick's statement reads every release note of the show before it locks a row: notes
    // of a seat of another venue, which no pick of this show clears, make that slow.
    const elsewhere = await createShowFixture(app, adminToken, { rows: ["Z"], perRow: 1 });
    await query(
      app,
      sql`insert into show_row_releases (show_id, seat_id)
          select ${show.show_id}, ${elsewhere.seat_ids[0]} from generate_series(1, 600000)`,
    );
    try {
      let pickDone = false;
      const picking = holdBest(app, picker, show.show_id, 2).finally(() => {
        pickDone = true;
      });
      await Bun.sleep(60);
      // Freed after the statement's snapshot, before the function reads row A: the function
      // locks A1-A2 as AVAILABLE, which the statement's own snapshot still sees LOCKED.
      ok(await app.request("POST", `/api/v1/bookings/${held.booking_id}/cancel`, holder), 200);
      expect(pickDone).toBe(false);
      const picked = ok(await picking, 200);
      expect(seatNames(picked)).toEqual(["A1", "A2"]);
      // The race happened: a first attempt inserted a booking and rolled back (the guard).
      expect(picked.booking_id).toBeGreaterThan(held.booking_id + 1);
    } finally {
      await query(app, sql`delete from show_row_releases where show_id = ${show.show_id}`);
    }
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  }, 60_000);

  test("a pick stopped at its user's seat limit: the rows and seats it locked stay right", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A", "B", "C"], perRow: 4 });
    const [buyer, other, exact, next, last] = (await createUsersDirect(app, 5)) as TestUser[];
    const seat = (name: string) =>
      show.seat_ids[(name.charCodeAt(0) - 65) * 4 + Number(name.slice(1)) - 1] as number;
    ok(await holdSeats(app, buyer as TestUser, show.show_id, [seat("C1"), seat("C2")]), 200);
    const blocking = ok(await holdSeats(app, other as TestUser, show.show_id, [seat("A1")]), 200);
    const session = postgres(app.config.DATABASE_URL as string, { max: 1, onnotice: () => {} });
    try {
      // The buyer's pick of four reads row A (no block: its hint becomes 3), locks B1-B4, and
      // stops at the buyer's per-show lock, held here, still holding rows A and B.
      const buyerLock = (BigInt((buyer as TestUser).user_id) << 32n) | BigInt(show.show_id);
      await session`select pg_advisory_lock(${buyerLock.toString()}::bigint)`;
      const picking = holdBest(app, buyer as TestUser, show.show_id, 4);
      await backendsWaiting(session, 1, "the pick");
      // A1 freed after the pick read row A: its note must survive the pick's commit.
      ok(await app.request("POST", `/api/v1/bookings/${blocking.booking_id}/cancel`, other), 200);
      // An exact hold of B2 waits for the pick's seat lock; another pick passes rows A and B.
      const holding = holdSeats(app, exact as TestUser, show.show_id, [seat("B2")]);
      await backendsWaiting(session, 2, "the exact hold");
      const passing = ok(await holdBest(app, next as TestUser, show.show_id, 2), 200);
      expect(seatNames(passing)).toEqual(["C3", "C4"]);
      await session`select pg_advisory_unlock(${buyerLock.toString()}::bigint)`;
      const refused = await picking;
      expect({ status: refused.status, code: refused.body?.code }).toEqual({
        status: 409,
        code: "SEAT_LIMIT",
      });
      expect(seatNames(ok(await holding, 200))).toEqual(["B2"]);
    } finally {
      await session.end();
    }
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    // Row A is whole again, and found: its note outlived the hint the pick wrote.
    const whole = ok(await holdBest(app, last as TestUser, show.show_id, 4), 200);
    expect(seatNames(whole).join(" ")).toBe("A1 A2 A3 A4");
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  }, 60_000);

  test("every row locked while releases, an expiry, a hold and new seats commit: pickers spin, then all served", async () => {
    const show = await createShowFixture(app, adminToken, {
      rows: ["A", "B", "C", "D"],
      perRow: 6,
    });
    const users = await createUsersDirect(app, 17);
    const [reader, exact, ...rest] = users as TestUser[];
    const holders = rest.slice(0, 6);
    const pickers = rest.slice(6, 14);
    const last = rest[14] as TestUser;
    const seat = (name: string) =>
      show.seat_ids[(name.charCodeAt(0) - 65) * 6 + Number(name.slice(1)) - 1] as number;
    const holds = await Promise.all(
      ["A3 A4", "B3 B4", "C1 C2", "C5 C6", "D2 D3", "D4 D5"].map(async (names, index) =>
        ok(
          await holdSeats(
            app,
            holders[index] as TestUser,
            show.show_id,
            names.split(" ").map(seat),
          ),
          200,
        ),
      ),
    );
    // A pick of six reads every row and writes its true hint (A, B, C: 2; D: 1).
    const six = await holdBest(app, reader as TestUser, show.show_id, 6);
    expect({ status: six.status, details: six.body?.details }).toEqual({
      status: 409,
      details: { available_seats: 12, largest_block: 2 },
    });
    const session = postgres(app.config.DATABASE_URL as string, { max: 1, onnotice: () => {} });
    let adding: ReturnType<typeof app.request> | undefined;
    let picks: ReturnType<typeof holdBest>[] = [];
    let answered = 0;
    try {
      await session`begin`;
      await session`select 1 from show_rows where show_id = ${show.show_id} for update`;
      picks = pickers.map((user) =>
        holdBest(app, user, show.show_id, 2).finally(() => {
          answered++;
        }),
      );
      // While every row is locked the pickers spin; meanwhile rows A and B are freed whole, a
      // lapsed hold of C1-C2 expires (the cleanup's fold skips the locked rows), D1 is held.
      const [first, second, third] = holds as [
        (typeof holds)[0],
        (typeof holds)[0],
        (typeof holds)[0],
      ];
      await Promise.all([
        app.request("POST", `/api/v1/bookings/${first.booking_id}/cancel`, holders[0]),
        app.request("POST", `/api/v1/bookings/${second.booking_id}/cancel`, holders[1]),
        lapseHolds(app, [third.booking_id]),
      ]);
      await runCleanup({ ...app.runtime.cleanup, logger: createLogger("silent") });
      ok(await holdSeats(app, exact as TestUser, show.show_id, [seat("D1")]), 200);
      // New seats in row D and a new row E wait for row D's lock.
      adding = app.request("POST", `/api/v1/admin/venues/${show.venue_id}/seats`, {
        token: adminToken,
        body: {
          rows: [
            { seat_row: "D", count: 2, start_number: 7 },
            { seat_row: "E", count: 4 },
          ],
        },
      });
      await backendsWaiting(session, 1, "the seat addition");
      // The race this test is about: no pick could finish while every row was locked.
      expect(answered).toBe(0);
      await session`commit`;
    } finally {
      await session.end();
    }
    ok(await (adding as ReturnType<typeof app.request>), 201);
    // Eight pairs were free once the rows unlocked (A: 3, B: 3, C: 2), before any new seat.
    const answers = await Promise.all(picks);
    expect(answers.map((answer) => `${answer.status} ${answer.body?.code ?? ""}`)).toEqual(
      Array(8).fill("200 "),
    );
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);

    // Then pairs until refused: the refusal must mean no two adjacent free seats remain.
    expect(await pairsUntilRefused(app, show.show_id, [reader as TestUser, last])).toEqual({
      refusal: "NOT_ENOUGH_SEATS",
      pairsLeft: 0,
    });
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  }, 60_000);

  test("ten parallel pairs under a limit of four: two served, eight refused SEAT_LIMIT", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A", "B", "C"], perRow: 6 });
    const buyer = await registerUser(app);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, index) => holdBest(app, buyer, show.show_id, 2, index < 5)),
    );
    const codes = answers.map((answer) => `${answer.status} ${answer.body?.code ?? ""}`).sort();
    expect(codes).toEqual([...Array(2).fill("200 "), ...Array(8).fill("409 SEAT_LIMIT")]);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  }, 60_000);
});

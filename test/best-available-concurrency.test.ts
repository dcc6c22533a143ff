import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdBest,
  holdSeats,
  lapseHolds,
  type TestUser,
} from "./support/fixtures";
import type { ToldHold } from "./support/flash-sale-load";
import {
  createTestApp,
  query,
  SETUP_TIMEOUT_MS,
  sql,
  type TestApp,
  type TestResponse,
} from "./support/harness";
import { bookingInvariantViolations, toldHoldViolations } from "./support/invariants";
import { hasPostgresAndRedis } from "./support/services";

const answersOf = (responses: TestResponse[]) =>
  responses.reduce<Record<string, number>>((counts, response) => {
    const answer = `${response.status}${response.body?.code ? ` ${response.body.code}` : ""}`;
    counts[answer] = (counts[answer] ?? 0) + 1;
    return counts;
  }, {});

/** The holds the 200 answers told of. */
const toldOf = (responses: TestResponse[]): ToldHold[] =>
  responses
    .filter((response) => response.status === 200)
    .map((response) => ({
      bookingId: response.body.booking_id,
      seatIds: response.body.locked_seats.map((seat: { seat_id: number }) => seat.seat_id),
      confirmed: false,
    }));

const freeSeats = async (app: TestApp, showId: number) => {
  const [row] = await query<{ seats: number }>(
    app,
    sql`select count(*)::int as seats from show_seats
        where show_id = ${showId} and status = 'AVAILABLE'`,
  );
  return row?.seats;
};

/** Each user holds the next two seats of the show, all at once: the first user seats 1-2. */
const holdPairsInOrder = (
  app: TestApp,
  users: TestUser[],
  show: { show_id: number; seat_ids: number[] },
) =>
  Promise.all(
    users.map((user, index) =>
      holdSeats(app, user, show.show_id, show.seat_ids.slice(index * 2, index * 2 + 2)),
    ),
  );

/** How many of these bookings are EXPIRED. */
const expiredAmong = async (app: TestApp, bookingIds: number[]) => {
  const [row] = await query<{ expired: number }>(
    app,
    sql`select count(*)::int as expired from bookings
          where booking_id = any(${sql.param(bookingIds)}::int[]) and status = 'EXPIRED'`,
  );
  return row?.expired;
};

describe.skipIf(!hasPostgresAndRedis)("best-available races on real PostgreSQL and Redis", () => {
  let app: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    app = await createTestApp("postgres");
    adminToken = (await createAdmin(app)).token;
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app?.close());

  test("200 parallel requests for 2 on 300 seats: 150 served, refusals only once sold out", async () => {
    const show = await createShowFixture(app, adminToken, {
      rows: ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"],
      perRow: 30,
    });
    const users = await createUsersDirect(app, 200);

    const responses = await Promise.all(users.map((user) => holdBest(app, user, show.show_id, 2)));

    // Rows of 30 pair up exactly: every seat sells, and only the requests past the last pair
    // are refused.
    expect(answersOf(responses)).toEqual({ 200: 150, "409 NOT_ENOUGH_SEATS": 50 });
    expect(await freeSeats(app, show.show_id)).toBe(0);
    for (const refused of responses.filter((response) => response.status === 409)) {
      expect(refused.body.details).toEqual({ available_seats: 0, largest_block: 0 });
    }
    for (const held of responses.filter((response) => response.status === 200)) {
      const [first, second] = held.body.locked_seats;
      expect(first.seat_row).toBe(second.seat_row);
      expect(Math.abs(first.seat_number - second.seat_number)).toBe(1);
    }
    expect(await toldHoldViolations(app, show.show_id, toldOf(responses), 0)).toEqual([]);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("mixed traffic: exact and best-available holds, cancels and lapsed holds at once stay clean", async () => {
    const show = await createShowFixture(app, adminToken, {
      rows: ["A", "B", "C", "D", "E", "F"],
      perRow: 50,
    });
    const users = await createUsersDirect(app, 400);
    // 60 earlier holds: 30 will be cancelled during the race, 30 ran out and are reclaimed.
    const earlier = await holdPairsInOrder(app, users.slice(0, 60), show);
    expect(answersOf(earlier)).toEqual({ 200: 60 });
    const lapsed = earlier.slice(30).map((response) => response.body.booking_id as number);
    await lapseHolds(app, lapsed);

    const cancels = earlier.slice(0, 30).map((response, index) =>
      app.request("POST", `/api/v1/bookings/${response.body.booking_id}/cancel`, {
        token: (users[index] as { token: string }).token,
        body: {},
      }),
    );
    const exact = users.slice(60, 200).map((user, index) => {
      const first = (index * 7) % (show.seat_ids.length - 1);
      return holdSeats(app, user, show.show_id, show.seat_ids.slice(first, first + 2));
    });
    const best = users
      .slice(200)
      .map((user, index) => holdBest(app, user, show.show_id, 1 + (index % 3), index % 4 !== 0));
    const [cancelled, exactAnswers, bestAnswers] = await Promise.all([
      Promise.all(cancels),
      Promise.all(exact),
      Promise.all(best),
    ]);

    expect(answersOf(cancelled)).toEqual({ 200: 30 });
    for (const answer of Object.keys(answersOf(exactAnswers))) {
      expect(["200", "409 SEAT_UNAVAILABLE"]).toContain(answer);
    }
    // 300 seats, at most 280 asked for by exact holds and 400 by best available: some sell
    // out. A best-available refusal comes only when nothing that size is free any more.
    for (const answer of Object.keys(answersOf(bestAnswers))) {
      expect(["200", "409 NOT_ENOUGH_SEATS"]).toContain(answer);
    }
    const told = [...toldOf(exactAnswers), ...toldOf(bestAnswers)];
    const stillHeld = await query<{ booking_id: number }>(
      app,
      sql`select booking_id from bookings
            where show_id = ${show.show_id} and status = 'PENDING'`,
    );
    expect(stillHeld.length).toBe(told.length);
    expect(
      await toldHoldViolations(
        app,
        show.show_id,
        told,
        // The earlier holds: cancelled or expired, never told of here.
        60,
      ),
    ).toEqual([]);
    expect(await expiredAmong(app, lapsed)).toBe(30);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("every hold of a sold-out show ran out: 150 parallel pickers expire them and are all served", async () => {
    const show = await createShowFixture(app, adminToken, {
      rows: ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"],
      perRow: 30,
    });
    const users = await createUsersDirect(app, 300);
    const first = await holdPairsInOrder(app, users.slice(0, 150), show);
    expect(answersOf(first)).toEqual({ 200: 150 });
    const lapsed = first.map((response) => response.body.booking_id as number);
    await lapseHolds(app, lapsed);

    // Before the cleanup job: the pickers find every seat LOCKED by a hold that ran out.
    const responses = await Promise.all(
      users.slice(150).map((user) => holdBest(app, user, show.show_id, 2)),
    );

    expect(answersOf(responses)).toEqual({ 200: 150 });
    expect(await freeSeats(app, show.show_id)).toBe(0);
    expect(await expiredAmong(app, lapsed)).toBe(150);
    expect(await toldHoldViolations(app, show.show_id, toldOf(responses), 150)).toEqual([]);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("releases racing picks row by row: every freed block is found again, no row is hidden", async () => {
    // 10 rows of 30 (which pair up exactly): 150 pairs, all held first.
    const show = await createShowFixture(app, adminToken, {
      rows: ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"],
      perRow: 30,
    });
    const users = await createUsersDirect(app, 250);
    const first = await Promise.all(
      users.slice(0, 150).map((user) => holdBest(app, user, show.show_id, 2)),
    );
    expect(answersOf(first)).toEqual({ 200: 150 });
    expect(await freeSeats(app, show.show_id)).toBe(0);
    // 50 are cancelled and 30 run out while 60 other users pick pairs.
    const lapsed = first.slice(50, 80).map((response) => response.body.booking_id as number);
    await lapseHolds(app, lapsed);
    const cancels = first.slice(0, 50).map((response, index) =>
      app.request("POST", `/api/v1/bookings/${response.body.booking_id}/cancel`, {
        token: (users[index] as { token: string }).token,
        body: {},
      }),
    );
    const picks = users.slice(150, 210).map((user) => holdBest(app, user, show.show_id, 2));
    const [cancelled, picked] = await Promise.all([Promise.all(cancels), Promise.all(picks)]);

    expect(answersOf(cancelled)).toEqual({ 200: 50 });
    for (const answer of Object.keys(answersOf(picked))) {
      expect(["200", "409 NOT_ENOUGH_SEATS"]).toContain(answer);
    }
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);

    // Then one at a time until refused: the refusal comes only once no pair is left.
    const after: TestResponse[] = [];
    for (const user of users.slice(210)) {
      const response = await holdBest(app, user, show.show_id, 2);
      after.push(response);
      if (response.status !== 200) break;
    }
    const refusal = after.at(-1) as TestResponse;
    expect(refusal.status).toBe(409);
    expect(refusal.body.details.largest_block).toBeLessThanOrEqual(1);
    const told = [...toldOf(first.slice(80)), ...toldOf(picked), ...toldOf(after)];
    expect(await toldHoldViolations(app, show.show_id, told, 80)).toEqual([]);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });
});

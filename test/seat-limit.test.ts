import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectError, ok } from "./support/answers";
import {
  createAdmin,
  createShowFixture,
  holdSeats,
  lapseHolds,
  payAndConfirm,
  registerUser,
  type ShowFixture,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, query, sql, type TestApp } from "./support/harness";
import { bookingInvariantViolations } from "./support/invariants";
import { databaseUrl, describeEachBackend, redisUrl } from "./support/services";

const SETUP_TIMEOUT_MS = 60_000;
const LIMIT = 4;

/** Seats of the user's PENDING and CONFIRMED bookings of the show. */
const activeSeats = async (app: TestApp, user: TestUser, showId: number) => {
  const [row] = await query<{ seats: number }>(
    app,
    sql`select count(*)::int as seats from bookings b
        join booking_seats bs on bs.booking_id = b.booking_id
        where b.user_id = ${user.user_id} and b.show_id = ${showId}
          and b.status in ('PENDING', 'CONFIRMED')`,
  );
  return row?.seats ?? 0;
};

describeEachBackend("seats per user per show (%s)", (backend) => {
  let app: TestApp;
  let adminToken: string;
  let show: ShowFixture;

  beforeAll(async () => {
    app = await createTestApp(backend, { MAX_SEATS_PER_USER_PER_SHOW: String(LIMIT) });
    adminToken = (await createAdmin(app)).token;
    show = await createShowFixture(app, adminToken, { rows: ["A", "B"], perRow: 10 });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app.close());

  const seats = (from: number, count: number) => show.seat_ids.slice(from, from + count);

  test("a hold past the limit is refused with what remains, and holds nothing", async () => {
    const buyer = await registerUser(app);
    ok(await holdSeats(app, buyer, show.show_id, seats(0, 3)));
    const refused = await holdSeats(app, buyer, show.show_id, seats(3, 2));
    expectError(refused, 409, "SEAT_LIMIT");
    expect(refused.body.details).toEqual({ remaining: 1, limit: LIMIT });
    expect(await activeSeats(app, buyer, show.show_id)).toBe(3);
    // The refused seats are free for anyone, in PostgreSQL and in the seat locks.
    ok(await holdSeats(app, await registerUser(app), show.show_id, seats(3, 2)));
    ok(await holdSeats(app, buyer, show.show_id, seats(5, 1)));
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("a request for more seats than the limit answers SEAT_LIMIT, not an unavailable seat", async () => {
    const buyer = await registerUser(app);
    const refused = await holdSeats(app, buyer, show.show_id, seats(6, LIMIT + 1));
    expectError(refused, 409, "SEAT_LIMIT");
    expect(refused.body.details).toEqual({ remaining: LIMIT, limit: LIMIT });
  });

  test("confirmed seats count; cancelled and lapsed holds give the allowance back; shows are separate", async () => {
    const buyer = await registerUser(app);
    const other = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 6 });
    const confirmed = ok(await holdSeats(app, buyer, other.show_id, other.seat_ids.slice(0, 2)));
    await payAndConfirm(app, buyer, confirmed);
    const pending = ok(await holdSeats(app, buyer, other.show_id, other.seat_ids.slice(2, 4)));
    // Another show's allowance is untouched.
    ok(await holdSeats(app, buyer, show.show_id, seats(11, LIMIT)));
    const full = await holdSeats(app, buyer, other.show_id, other.seat_ids.slice(4, 5));
    expectError(full, 409, "SEAT_LIMIT");
    expect(full.body.details.remaining).toBe(0);

    ok(
      await app.request("POST", `/api/v1/bookings/${pending.booking_id}/cancel`, {
        token: buyer.token,
        body: {},
      }),
    );
    const again = ok(await holdSeats(app, buyer, other.show_id, other.seat_ids.slice(2, 4)));
    // A hold whose time ran out counts for nothing, even before the cleanup job expired it.
    await lapseHolds(app, [again.booking_id]);
    ok(await holdSeats(app, buyer, other.show_id, other.seat_ids.slice(4, 6)));
  });

  test("a replayed hold is the first answer, not a second hold counted against the limit", async () => {
    const buyer = await registerUser(app);
    const other = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 4 });
    const hold = () =>
      app.request("POST", "/api/v1/bookings/lock", {
        token: buyer.token,
        headers: { "Idempotency-Key": "seat-limit-replay" },
        body: { show_id: other.show_id, seat_ids: other.seat_ids.slice(0, 3) },
      });
    const first = ok(await hold());
    const replayed = ok(await hold());
    expect(replayed).toEqual(first);
    expect(await activeSeats(app, buyer, other.show_id)).toBe(3);
  });
});

describe.skipIf(!databaseUrl || !redisUrl)("seats per user per show under a race", () => {
  let app: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    // Default limit (10); the booking rate limit stays off so that all 50 reach the hold.
    app = await createTestApp("postgres");
    adminToken = (await createAdmin(app)).token;
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app.close());

  test("50 parallel holds by one user never take more than the limit", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A", "B", "C"], perRow: 40 });
    const buyer = await registerUser(app);
    // 50 holds of 2 distinct seats each: only 5 of them fit in 10 seats.
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        holdSeats(app, buyer, show.show_id, show.seat_ids.slice(index * 2, index * 2 + 2)),
      ),
    );
    const won = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status !== 200);
    for (const answer of refused) expectError(answer, 409, "SEAT_LIMIT");
    expect(won.length).toBe(5);
    expect(await activeSeats(app, buyer, show.show_id)).toBe(10);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });
});

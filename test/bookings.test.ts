import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { expectError, ok } from "./support/answers";
import {
  createAdmin,
  createShowFixture,
  registerUser,
  type ShowFixture,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, query, sql, type TestApp } from "./support/harness";
import { bookingInvariantViolations } from "./support/invariants";
import { describeEachBackend } from "./support/services";

const MAX_ID = 2_147_483_647;
/** Starting PGlite or a scratch database can take seconds on a loaded machine. */
const SETUP_TIMEOUT_MS = 60_000;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface SeatRef {
  seat_id: number;
  seat_row: string;
  seat_number: number;
}

const bySeatId = <T extends { seat_id: number }>(seats: T[]) =>
  [...seats].sort((a, b) => a.seat_id - b.seat_id);

const keyHeader = (key: string) => ({ "Idempotency-Key": key });

function api(app: TestApp) {
  return {
    lock: (user: TestUser, body: unknown, headers?: Record<string, string>) =>
      app.request("POST", "/api/v1/bookings/lock", { token: user.token, body, headers }),
    hold: (user: TestUser, showId: number, seatIds: number[], headers?: Record<string, string>) =>
      app.request("POST", "/api/v1/bookings/lock", {
        token: user.token,
        body: { show_id: showId, seat_ids: seatIds },
        headers,
      }),
    pay: (
      user: TestUser,
      bookingId: number,
      amount: unknown,
      outcome?: string,
      headers?: Record<string, string>,
    ) =>
      app.request("POST", "/api/v1/bookings/payments/simulate", {
        token: user.token,
        body: { booking_id: bookingId, amount, ...(outcome ? { outcome } : {}) },
        headers,
      }),
    confirm: (
      user: TestUser,
      bookingId: number | string,
      body?: unknown,
      headers?: Record<string, string>,
    ) =>
      app.request("POST", `/api/v1/bookings/${bookingId}/confirm`, {
        token: user.token,
        body,
        headers,
      }),
    cancel: (user: TestUser, bookingId: number | string, headers?: Record<string, string>) =>
      app.request("POST", `/api/v1/bookings/${bookingId}/cancel`, {
        token: user.token,
        body: {},
        headers,
      }),
    get: (user: TestUser, bookingId: number | string, headers?: Record<string, string>) =>
      app.request("GET", `/api/v1/bookings/${bookingId}`, { token: user.token, headers }),
    history: (user: TestUser, search = "", headers?: Record<string, string>) =>
      app.request("GET", `/api/v1/user/bookings${search}`, { token: user.token, headers }),
    /** The public seat map, by seat id. */
    async seatMap(showId: number) {
      const body = ok(await app.request("GET", `/api/v1/shows/${showId}/seats`));
      return new Map<number, SeatRef & { status: string }>(
        body.seats.map((seat: SeatRef & { status: string }) => [seat.seat_id, seat]),
      );
    },
    /** Holds, pays and confirms; answers the booking id. */
    async book(user: TestUser, showId: number, seatIds: number[]) {
      const held = ok(await this.hold(user, showId, seatIds));
      ok(await this.pay(user, held.booking_id, held.amount));
      ok(await this.confirm(user, held.booking_id));
      return held.booking_id as number;
    },
  };
}

const seatRefs = (map: Map<number, SeatRef>, seatIds: number[]) =>
  bySeatId(
    seatIds.map((id) => {
      const seat = map.get(id);
      if (!seat) throw new Error(`seat ${id} is not on the map`);
      return { seat_id: seat.seat_id, seat_row: seat.seat_row, seat_number: seat.seat_number };
    }),
  );

const statusesOf = (map: Map<number, { status: string }>, seatIds: number[]) =>
  seatIds.map((id) => map.get(id)?.status);

async function bookingRow(app: TestApp, bookingId: number) {
  const [row] = await query<{ status: string; user_id: number }>(
    app,
    sql`select status::text as status, user_id from bookings where booking_id = ${bookingId}`,
  );
  return row;
}

const showSeatRows = (app: TestApp, showId: number, seatIds: number[]) =>
  query<{ seat_id: number; status: string; booking_id: number | null }>(
    app,
    sql`select seat_id, status::text as status, booking_id from show_seats
        where show_id = ${showId} and seat_id in ${seatIds} order by seat_id`,
  );

const paymentRows = (app: TestApp, bookingId: number) =>
  query<{
    status: string;
    amount_cents: number;
    transaction_id: string;
    refund_transaction_id: string | null;
  }>(
    app,
    sql`select status::text as status, amount_cents, transaction_id, refund_transaction_id
        from payments where booking_id = ${bookingId} order by payment_id`,
  );

async function bookingCount(app: TestApp, userId: number) {
  const [row] = await query<{ count: number }>(
    app,
    sql`select count(*)::int as count from bookings where user_id = ${userId}`,
  );
  return row?.count;
}

async function heldSeatCount(app: TestApp, showIds: number[]) {
  const [row] = await query<{ count: number }>(
    app,
    sql`select count(*)::int as count from show_seats
        where show_id in ${showIds} and status <> 'AVAILABLE'`,
  );
  return row?.count;
}

const startShowNow = (app: TestApp, showId: number) =>
  query(
    app,
    sql`update shows set start_time = now() - interval '1 hour', end_time = now() + interval '1 hour'
        where show_id = ${showId}`,
  );

describeEachBackend("bookings on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let client: ReturnType<typeof api>;
  const fixture = (options?: Parameters<typeof createShowFixture>[2]) =>
    createShowFixture(app, admin.token, options);

  beforeAll(async () => {
    app = await createTestApp(backend);
    admin = await createAdmin(app);
    client = api(app);
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app.close(), SETUP_TIMEOUT_MS);

  describe("happy flow", () => {
    test("hold → pay → confirm answers the contract's shapes and the seat map follows", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const map = await client.seatMap(show.show_id);
      const [s1, s2, s3] = show.seat_ids as [number, number, number];

      const requestedAt = Date.now();
      // Requested out of order: the answer lists the same seats.
      const held = ok(await client.hold(user, show.show_id, [s2, s1]));
      expect({ ...held, locked_seats: bySeatId(held.locked_seats) }).toEqual({
        booking_id: expect.any(Number),
        status: "PENDING",
        show_id: show.show_id,
        locked_seats: seatRefs(map, [s1, s2]),
        amount: 51,
        expires_at: expect.stringMatching(ISO_UTC),
        expires_in: 600,
      });
      const expiresIn = Date.parse(held.expires_at) - requestedAt;
      expect(expiresIn).toBeGreaterThan(590_000);
      expect(expiresIn).toBeLessThan(610_000);
      const bookingId: number = held.booking_id;

      const lockedMap = await client.seatMap(show.show_id);
      expect(statusesOf(lockedMap, [s1, s2, s3])).toEqual(["LOCKED", "LOCKED", "AVAILABLE"]);
      expect([...lockedMap.values()].filter((seat) => seat.status !== "AVAILABLE")).toHaveLength(2);

      const paid = ok(await client.pay(user, bookingId, 51));
      expect(paid).toEqual({
        transaction_id: expect.any(String),
        status: "SUCCEEDED",
        booking_id: bookingId,
        amount: 51,
      });
      expect(paid.transaction_id.length).toBeGreaterThan(0);

      // A booking_id in the body is accepted when it matches the path.
      const confirmed = ok(await client.confirm(user, bookingId, { booking_id: bookingId }));
      expect({ ...confirmed, confirmed_seats: bySeatId(confirmed.confirmed_seats) }).toEqual({
        message: "Booking confirmed successfully",
        booking_id: bookingId,
        status: "CONFIRMED",
        confirmed_seats: seatRefs(map, [s1, s2]),
      });
      expect(statusesOf(await client.seatMap(show.show_id), [s1, s2, s3])).toEqual([
        "BOOKED",
        "BOOKED",
        "AVAILABLE",
      ]);

      expectError(await client.confirm(user, bookingId), 409, "INVALID_STATE");
      expect((await bookingRow(app, bookingId))?.status).toBe("CONFIRMED");
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    });

    test("GET /bookings/:id and the user's history agree, with show and seats", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const map = await client.seatMap(show.show_id);
      const seatIds = show.seat_ids.slice(0, 2);
      const held = ok(await client.hold(user, show.show_id, seatIds));
      const paid = ok(await client.pay(user, held.booking_id, held.amount));
      ok(await client.confirm(user, held.booking_id));

      const publicShow = ok(await app.request("GET", `/api/v1/shows/${show.show_id}`)).show;
      const { booking } = ok(await client.get(user, held.booking_id));
      expect({ ...booking, seats: bySeatId(booking.seats) }).toEqual({
        booking_id: held.booking_id,
        user_id: user.user_id,
        status: "CONFIRMED",
        show_id: show.show_id,
        amount: 51,
        created_at: expect.stringMatching(ISO_UTC),
        expires_at: held.expires_at,
        seats: seatRefs(map, seatIds),
        show: publicShow,
        payment: { transaction_id: paid.transaction_id, amount: 51 },
        refund: null,
        log: ["HELD", "PAID", "CONFIRMED"].map((event) => ({
          event,
          at: expect.stringMatching(ISO_UTC),
        })),
      });
      expect(booking.show.available_seats).toBe(8);
      expect(booking.show.total_seats).toBe(10);

      // The history lists the same booking; its log is read with the booking on its own.
      const { log: _log, ...listed } = booking;
      expect(ok(await client.history(user))).toEqual({
        bookings: [listed],
        page: 1,
        limit: 20,
        total: 1,
      });
      expect(ok(await client.history(user, "?status=CONFIRMED"))).toEqual({
        bookings: [listed],
        page: 1,
        limit: 20,
        total: 1,
      });
      expect(ok(await client.history(user, "?status=PENDING"))).toEqual({
        bookings: [],
        page: 1,
        limit: 20,
        total: 0,
      });
      expectError(await client.history(user, "?status=BOGUS"), 400, "VALIDATION_ERROR");
      expectError(await client.history(user, "?limit=0"), 400, "VALIDATION_ERROR");
      expectError(await client.history(user, "?page=abc"), 400, "VALIDATION_ERROR");
    });

    test("history: newest first, paginated, filtered by status, only the caller's", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const other = await registerUser(app);
      const [s1, s2, s3, s4] = show.seat_ids as [number, number, number, number];

      const cancelled = ok(await client.hold(user, show.show_id, [s1])).booking_id;
      ok(await client.cancel(user, cancelled));
      const confirmed = await client.book(user, show.show_id, [s2, s3]);
      const pending = ok(await client.hold(user, show.show_id, [s4])).booking_id;
      const othersBooking = ok(
        await client.hold(other, show.show_id, [show.seat_ids[5] as number]),
      );

      const ids = (body: { bookings: { booking_id: number }[] }) =>
        body.bookings.map((booking) => booking.booking_id);

      const first = ok(await client.history(user, "?limit=2&page=1"));
      expect({ ...first, bookings: ids(first) }).toEqual({
        bookings: [pending, confirmed],
        page: 1,
        limit: 2,
        total: 3,
      });
      const second = ok(await client.history(user, "?limit=2&page=2"));
      expect({ ...second, bookings: ids(second) }).toEqual({
        bookings: [cancelled],
        page: 2,
        limit: 2,
        total: 3,
      });
      const beyond = ok(await client.history(user, "?limit=2&page=3"));
      // Past the last page the envelope still tells the total.
      expect(beyond).toEqual({ bookings: [], page: 3, limit: 2, total: 3 });

      const all = ok(await client.history(user));
      expect(ids(all)).toEqual([pending, confirmed, cancelled]);
      expect(all.bookings.map((booking: { status: string }) => booking.status)).toEqual([
        "PENDING",
        "CONFIRMED",
        "CANCELLED",
      ]);
      for (const booking of all.bookings) {
        expect(booking.show.show_id).toBe(show.show_id);
        expect(booking.show.event.event_id).toBe(show.event_id);
        expect(booking.show.venue.venue_id).toBe(show.venue_id);
        expect(booking.seats.length).toBeGreaterThan(0);
      }
      expect(ids(all)).not.toContain(othersBooking.booking_id);

      const onlyCancelled = ok(await client.history(user, "?status=CANCELLED"));
      expect(onlyCancelled.total).toBe(1);
      expect(onlyCancelled.bookings[0].booking_id).toBe(cancelled);
      expect(onlyCancelled.bookings[0].seats.map((seat: SeatRef) => seat.seat_id)).toEqual([s1]);

      const othersHistory = ok(await client.history(other));
      expect(ids(othersHistory)).toEqual([othersBooking.booking_id]);
      expectError(await client.history(user, "?limit=101"), 400, "VALIDATION_ERROR");
    });

    test("a taken seat answers 409 SEAT_UNAVAILABLE listing exactly the taken requested seats", async () => {
      const show = await fixture();
      const owner = await registerUser(app);
      const rival = await registerUser(app);
      const [s1, s2, s3, s4, s5] = show.seat_ids as [number, number, number, number, number];
      await client.book(owner, show.show_id, [s1, s2]);
      const pending = ok(await client.hold(owner, show.show_id, [s3])).booking_id;

      const partly = await client.hold(rival, show.show_id, [s2, s4]);
      expectError(partly, 409, "SEAT_UNAVAILABLE");
      expect(partly.body.details.failed_seats).toEqual([s2]);

      const mixed = await client.hold(rival, show.show_id, [s4, s1, s3, s2, s5]);
      expectError(mixed, 409, "SEAT_UNAVAILABLE");
      expect([...mixed.body.details.failed_seats].sort((a, b) => a - b)).toEqual([s1, s2, s3]);

      // The owner cannot hold their own booked seat a second time either.
      expectError(await client.hold(owner, show.show_id, [s1]), 409, "SEAT_UNAVAILABLE");

      // Nothing of the refused requests is held.
      expect(await bookingCount(app, rival.user_id)).toBe(0);
      expect((await showSeatRows(app, show.show_id, [s4, s5])).map((row) => row.status)).toEqual([
        "AVAILABLE",
        "AVAILABLE",
      ]);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
      ok(await client.hold(rival, show.show_id, [s4, s5]));
      expect((await bookingRow(app, pending))?.status).toBe("PENDING");
    });

    test("without the fast filter's keys, PostgreSQL alone refuses exactly the taken seats", async () => {
      const show = await fixture();
      const owner = await registerUser(app);
      const rival = await registerUser(app);
      const [s1, s2, s3, s4] = show.seat_ids as [number, number, number, number];
      await client.book(owner, show.show_id, [s1]);
      const pending = ok(await client.hold(owner, show.show_id, [s2])).booking_id;

      // Forget the seat locks as a restarted Redis would.
      const [row] = await query<{ lock_token: string }>(
        app,
        sql`select lock_token::text as lock_token from bookings where booking_id = ${pending}`,
      );
      await app.runtime.shared.locks.clearBooked(show.show_id, [s1], "no-hold-token");
      await app.runtime.shared.locks.release(show.show_id, [s2], row?.lock_token as string);
      expect((await app.runtime.shared.locks.snapshot(show.show_id)).size).toBe(0);

      const refused = await client.hold(rival, show.show_id, [s3, s2, s1]);
      expectError(refused, 409, "SEAT_UNAVAILABLE");
      expect([...refused.body.details.failed_seats].sort((a, b) => a - b)).toEqual([s1, s2]);
      expect(await bookingCount(app, rival.user_id)).toBe(0);
      // The free seat of the refused request was not left locked anywhere.
      expect((await app.runtime.shared.locks.snapshot(show.show_id)).size).toBe(0);
      ok(await client.hold(rival, show.show_id, [s3, s4]));
    });
  });

  describe("payment", () => {
    test("amount must match, declines are recorded, confirm needs a succeeded payment, pay once", async () => {
      // 19.99 × 3 = 59.97 exactly, whatever floating point does with it.
      const show = await fixture({ price: 19.99 });
      const user = await registerUser(app);
      const held = ok(await client.hold(user, show.show_id, show.seat_ids.slice(0, 3)));
      expect(held.amount).toBe(59.97);
      const bookingId: number = held.booking_id;

      // Amounts past any booking's once overflowed cents in SQL (500); they are a 400 too.
      const wrongAmounts = [59.96, 59.98, 0, 5997, 59.971, -59.97, "59.97", null];
      for (const amount of [...wrongAmounts, 10_000_000.01, 21_474_837, 1e20]) {
        expectError(await client.pay(user, bookingId, amount), 400, "VALIDATION_ERROR");
      }
      // A booking that does not exist: the same 400 (the amount is checked first), no crash.
      expectError(await client.pay(user, 2_147_483_647, 1e20), 400, "VALIDATION_ERROR");
      expectError(await client.pay(user, bookingId, 59.97, "maybe"), 400, "VALIDATION_ERROR");
      expect(await paymentRows(app, bookingId)).toEqual([]);

      expectError(await client.confirm(user, bookingId), 402, "PAYMENT_REQUIRED");

      const declined = await client.pay(user, bookingId, 59.97, "decline");
      expectError(declined, 402, "PAYMENT_FAILED");
      const afterDecline = await paymentRows(app, bookingId);
      expect(afterDecline).toEqual([
        {
          status: "DECLINED",
          amount_cents: 5997,
          transaction_id: expect.any(String),
          refund_transaction_id: null,
        },
      ]);
      // A declined payment does not pay for anything.
      expectError(await client.confirm(user, bookingId), 402, "PAYMENT_REQUIRED");
      expect((await bookingRow(app, bookingId))?.status).toBe("PENDING");

      const paid = ok(await client.pay(user, bookingId, 59.97, "success"));
      expect(paid).toEqual({
        transaction_id: expect.any(String),
        status: "SUCCEEDED",
        booking_id: bookingId,
        amount: 59.97,
      });
      expectError(await client.pay(user, bookingId, 59.97), 409, "INVALID_STATE");
      const rows = await paymentRows(app, bookingId);
      expect(rows.map((payment) => payment.status)).toEqual(["DECLINED", "SUCCEEDED"]);
      expect(rows[1]?.transaction_id).toBe(paid.transaction_id);
      expect(rows[1]?.amount_cents).toBe(5997);

      ok(await client.confirm(user, bookingId));
      expectError(await client.pay(user, bookingId, 59.97), 409, "INVALID_STATE");
      expect((await paymentRows(app, bookingId)).map((payment) => payment.status)).toEqual([
        "DECLINED",
        "SUCCEEDED",
      ]);
      expectError(await client.pay(user, MAX_ID, 59.97), 404, "NOT_FOUND");
    });
  });

  describe("cancel", () => {
    test("cancelling a PENDING hold frees its seats for anyone; twice is 409", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const other = await registerUser(app);
      const map = await client.seatMap(show.show_id);
      const seatIds = show.seat_ids.slice(0, 2);
      const bookingId = ok(await client.hold(user, show.show_id, seatIds)).booking_id;

      const cancelled = ok(await client.cancel(user, bookingId));
      expect({ ...cancelled, cancelled_seats: bySeatId(cancelled.cancelled_seats) }).toEqual({
        booking_id: bookingId,
        status: "CANCELLED",
        cancelled_seats: seatRefs(map, seatIds),
      });
      expect(statusesOf(await client.seatMap(show.show_id), seatIds)).toEqual([
        "AVAILABLE",
        "AVAILABLE",
      ]);
      expect(await showSeatRows(app, show.show_id, seatIds)).toEqual(
        seatIds.map((seat_id) => ({ seat_id, status: "AVAILABLE", booking_id: null })),
      );
      expect((await bookingRow(app, bookingId))?.status).toBe("CANCELLED");

      expectError(await client.cancel(user, bookingId), 409, "INVALID_STATE");
      expectError(await client.confirm(user, bookingId), 409, "INVALID_STATE");
      expectError(await client.pay(user, bookingId, 51), 409, "INVALID_STATE");
      expect(await paymentRows(app, bookingId)).toEqual([]);

      ok(await client.hold(other, show.show_id, seatIds));

      // The cancelled booking keeps its seats in the history.
      const { booking } = ok(await client.get(user, bookingId));
      expect(booking.status).toBe("CANCELLED");
      expect(bySeatId(booking.seats)).toEqual(seatRefs(map, seatIds));
      const { log, ...listed } = booking;
      expect(log.map((entry: { event: string }) => entry.event)).toEqual(["HELD", "CANCELLED"]);
      const history = ok(await client.history(user, "?status=CANCELLED"));
      expect(history.bookings).toEqual([listed]);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    });

    test("cancelling a paid, CONFIRMED booking refunds the payment and frees the seats", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const other = await registerUser(app);
      const map = await client.seatMap(show.show_id);
      const seatIds = show.seat_ids.slice(2, 4);
      const held = ok(await client.hold(user, show.show_id, seatIds));
      const paid = ok(await client.pay(user, held.booking_id, held.amount));
      ok(await client.confirm(user, held.booking_id));

      const cancelled = ok(await client.cancel(user, held.booking_id));
      expect({ ...cancelled, cancelled_seats: bySeatId(cancelled.cancelled_seats) }).toEqual({
        booking_id: held.booking_id,
        status: "CANCELLED",
        cancelled_seats: seatRefs(map, seatIds),
        refund: { amount: 51, transaction_id: expect.any(String) },
      });
      expect(await paymentRows(app, held.booking_id)).toEqual([
        {
          status: "REFUNDED",
          amount_cents: 5100,
          transaction_id: paid.transaction_id,
          refund_transaction_id: cancelled.refund.transaction_id,
        },
      ]);
      expect(statusesOf(await client.seatMap(show.show_id), seatIds)).toEqual([
        "AVAILABLE",
        "AVAILABLE",
      ]);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);

      expectError(await client.cancel(user, held.booking_id), 409, "INVALID_STATE");
      expect((await paymentRows(app, held.booking_id)).map((row) => row.status)).toEqual([
        "REFUNDED",
      ]);
      // The sold seats are for sale again.
      ok(await client.hold(other, show.show_id, seatIds));
      const { booking } = ok(await client.get(user, held.booking_id));
      expect(booking.seats).toHaveLength(2);
      // Its history shows the charge and its refund.
      expect({ payment: booking.payment, refund: booking.refund }).toEqual({
        payment: { transaction_id: paid.transaction_id, amount: 51 },
        refund: cancelled.refund,
      });
    });

    test("cancelling a paid but unconfirmed hold refunds it too", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const held = ok(await client.hold(user, show.show_id, [show.seat_ids[0] as number]));
      const paid = ok(await client.pay(user, held.booking_id, 25.5));
      const cancelled = ok(await client.cancel(user, held.booking_id));
      expect(cancelled.refund).toEqual({ amount: 25.5, transaction_id: expect.any(String) });
      const [payment] = await paymentRows(app, held.booking_id);
      expect(payment?.status).toBe("REFUNDED");
      expect(payment?.transaction_id).toBe(paid.transaction_id);
      expectError(await client.confirm(user, held.booking_id), 409, "INVALID_STATE");
    });

    test("after the show started, nothing can be cancelled (400) and nothing changes", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const [s1, s2, s3] = show.seat_ids as [number, number, number];
      const confirmed = await client.book(user, show.show_id, [s1, s2]);
      const pending = ok(await client.hold(user, show.show_id, [s3])).booking_id;
      await startShowNow(app, show.show_id);

      expectError(await client.cancel(user, confirmed), 400, "SHOW_STARTED");
      expectError(await client.cancel(user, pending), 400, "SHOW_STARTED");
      expect((await bookingRow(app, confirmed))?.status).toBe("CONFIRMED");
      expect((await bookingRow(app, pending))?.status).toBe("PENDING");
      expect((await paymentRows(app, confirmed)).map((row) => row.status)).toEqual(["SUCCEEDED"]);
      expect(
        (await showSeatRows(app, show.show_id, [s1, s2, s3])).map((row) => row.status),
      ).toEqual(["BOOKED", "BOOKED", "LOCKED"]);
      // Nor can new seats be held.
      expectError(
        await client.hold(user, show.show_id, [show.seat_ids[4] as number]),
        400,
        "SHOW_STARTED",
      );
    });
  });

  describe("authorization", () => {
    test("another user gets 404 on every route of someone's booking, which stays unchanged", async () => {
      const show = await fixture();
      const owner = await registerUser(app);
      const stranger = await registerUser(app);
      const seatIds = show.seat_ids.slice(0, 2);
      const held = ok(await client.hold(owner, show.show_id, seatIds));
      const bookingId: number = held.booking_id;

      expectError(await client.get(stranger, bookingId), 404, "NOT_FOUND");
      expectError(await client.pay(stranger, bookingId, held.amount), 404, "NOT_FOUND");
      expectError(await client.confirm(stranger, bookingId), 404, "NOT_FOUND");
      expectError(await client.cancel(stranger, bookingId), 404, "NOT_FOUND");
      // Same answer as for a booking that does not exist at all.
      expectError(await client.get(stranger, MAX_ID), 404, "NOT_FOUND");
      expect(ok(await client.history(stranger)).total).toBe(0);

      expect(await bookingRow(app, bookingId)).toEqual({
        status: "PENDING",
        user_id: owner.user_id,
      });
      expect(await showSeatRows(app, show.show_id, seatIds)).toEqual(
        seatIds.map((seat_id) => ({ seat_id, status: "LOCKED", booking_id: bookingId })),
      );
      expect(await paymentRows(app, bookingId)).toEqual([]);

      ok(await client.pay(owner, bookingId, held.amount));
      expectError(await client.confirm(stranger, bookingId), 404, "NOT_FOUND");
      ok(await client.confirm(owner, bookingId));
      expectError(await client.cancel(stranger, bookingId), 404, "NOT_FOUND");
      expect((await bookingRow(app, bookingId))?.status).toBe("CONFIRMED");
      expect((await paymentRows(app, bookingId)).map((row) => row.status)).toEqual(["SUCCEEDED"]);
      expect((await showSeatRows(app, show.show_id, seatIds)).map((row) => row.status)).toEqual([
        "BOOKED",
        "BOOKED",
      ]);
    });

    test("an admin can read any booking; only its owner pays for it", async () => {
      const show = await fixture();
      const owner = await registerUser(app);
      const held = ok(await client.hold(owner, show.show_id, [show.seat_ids[0] as number]));

      const asAdmin = ok(await client.get(admin, held.booking_id));
      const asOwner = ok(await client.get(owner, held.booking_id));
      expect(asAdmin).toEqual(asOwner);
      expect(asAdmin.booking.user_id).toBe(owner.user_id);
      // The admin's own history stays the admin's.
      expect(ok(await client.history(admin)).bookings).toEqual([]);

      expectError(await client.pay(admin, held.booking_id, held.amount), 404, "NOT_FOUND");
      expectError(await client.confirm(admin, held.booking_id), 404, "NOT_FOUND");
      expect(await paymentRows(app, held.booking_id)).toEqual([]);
      expect((await bookingRow(app, held.booking_id))?.status).toBe("PENDING");

      // An admin may cancel it, though (documented in the OpenAPI description).
      expect(ok(await client.cancel(admin, held.booking_id)).status).toBe("CANCELLED");
      expect((await bookingRow(app, held.booking_id))?.status).toBe("CANCELLED");
      expectError(await client.cancel(owner, held.booking_id), 409, "INVALID_STATE");
    });

    test("anonymous callers and bad tokens get 401 on every booking route", async () => {
      const show = await fixture();
      const owner = await registerUser(app);
      const held = ok(await client.hold(owner, show.show_id, [show.seat_ids[0] as number]));
      const id = held.booking_id;
      const routes: [string, string, unknown][] = [
        ["POST", "/api/v1/bookings/lock", { show_id: show.show_id, seat_ids: [show.seat_ids[1]] }],
        ["POST", "/api/v1/bookings/payments/simulate", { booking_id: id, amount: held.amount }],
        ["POST", `/api/v1/bookings/${id}/confirm`, {}],
        ["POST", `/api/v1/bookings/${id}/cancel`, {}],
        ["GET", `/api/v1/bookings/${id}`, undefined],
        ["GET", "/api/v1/user/bookings", undefined],
      ];
      for (const [method, path, body] of routes) {
        expectError(await app.request(method, path, { body }), 401, "UNAUTHENTICATED");
        expectError(
          await app.request(method, path, { body, token: "not-a-jwt" }),
          401,
          "UNAUTHENTICATED",
        );
        expectError(
          await app.request(method, path, { body, headers: { Authorization: owner.token } }),
          401,
          "UNAUTHENTICATED",
        );
      }
      expect(await bookingRow(app, id)).toEqual({ status: "PENDING", user_id: owner.user_id });
      expect(await paymentRows(app, id)).toEqual([]);
      expect(await heldSeatCount(app, [show.show_id])).toBe(1);
    });
  });

  describe("idempotency", () => {
    const newKey = () => `key-${crypto.randomUUID()}`;

    test("same key and body replays the first answer byte for byte; another body is 409", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const [s1, s2] = show.seat_ids as [number, number];
      const key = newKey();

      const first = await client.hold(user, show.show_id, [s1], keyHeader(key));
      const bookingId = ok(first).booking_id;
      const again = await client.hold(user, show.show_id, [s1], {
        ...keyHeader(key),
        "X-Request-Id": "retry-1",
      });
      expect(again.status).toBe(200);
      expect(again.text).toBe(first.text);
      expect(again.body.booking_id).toBe(bookingId);
      // A replay is still an ordinary answer of this request.
      expect(again.headers.get("Content-Type")).toContain("application/json");
      expect(again.headers.get("X-Request-Id")).toBe("retry-1");
      expect(await bookingCount(app, user.user_id)).toBe(1);

      expectError(
        await client.hold(user, show.show_id, [s2], keyHeader(key)),
        409,
        "IDEMPOTENCY_KEY_IN_USE",
      );
      // The key belongs to the lock request: paying with it is another request.
      expectError(
        await client.pay(user, bookingId, first.body.amount, undefined, keyHeader(key)),
        409,
        "IDEMPOTENCY_KEY_IN_USE",
      );
      expect(await bookingCount(app, user.user_id)).toBe(1);
      expect(await paymentRows(app, bookingId)).toEqual([]);
      expect((await showSeatRows(app, show.show_id, [s2]))[0]?.status).toBe("AVAILABLE");

      // Retried payments and confirms replay too, and charge once.
      const payKey = newKey();
      const paid = await client.pay(
        user,
        bookingId,
        first.body.amount,
        undefined,
        keyHeader(payKey),
      );
      ok(paid);
      const paidAgain = await client.pay(
        user,
        bookingId,
        first.body.amount,
        undefined,
        keyHeader(payKey),
      );
      expect({ status: paidAgain.status, text: paidAgain.text }).toEqual({
        status: 200,
        text: paid.text,
      });
      expect((await paymentRows(app, bookingId)).map((row) => row.status)).toEqual(["SUCCEEDED"]);

      const confirmKey = newKey();
      const confirmed = await client.confirm(user, bookingId, {}, keyHeader(confirmKey));
      ok(confirmed);
      const confirmedAgain = await client.confirm(user, bookingId, {}, keyHeader(confirmKey));
      expect({ status: confirmedAgain.status, text: confirmedAgain.text }).toEqual({
        status: 200,
        text: confirmed.text,
      });
      // Without the key, a second confirm is a conflict.
      expectError(await client.confirm(user, bookingId, {}), 409, "INVALID_STATE");
    });

    test("an answer that cannot be stored is still given; a retry meanwhile is refused, not run", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const key = newKey();
      const complete = spyOn(app.runtime.services.idempotency, "complete").mockRejectedValueOnce(
        new Error("the database went away"),
      );
      try {
        const first = await client.hold(
          user,
          show.show_id,
          [show.seat_ids[0] as number],
          keyHeader(key),
        );
        expect(ok(first).status).toBe("PENDING");
        expect(complete).toHaveBeenCalledTimes(1);
      } finally {
        complete.mockRestore();
      }
      expectError(
        await client.hold(user, show.show_id, [show.seat_ids[0] as number], keyHeader(key)),
        409,
        "IDEMPOTENCY_KEY_IN_USE",
      );
      expect(await bookingCount(app, user.user_id)).toBe(1);
    });

    test("a declined payment's 402 is stored: the retry replays it and charges nothing more", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const held = ok(await client.hold(user, show.show_id, [show.seat_ids[0] as number]));
      const key = newKey();
      const declined = await client.pay(
        user,
        held.booking_id,
        held.amount,
        "decline",
        keyHeader(key),
      );
      expectError(declined, 402, "PAYMENT_FAILED");
      const retried = await client.pay(
        user,
        held.booking_id,
        held.amount,
        "decline",
        keyHeader(key),
      );
      expectError(retried, 402, "PAYMENT_FAILED");
      expect(retried.text).toBe(declined.text);
      expect((await paymentRows(app, held.booking_id)).map((row) => row.status)).toEqual([
        "DECLINED",
      ]);
    });

    test("a 409 SEAT_UNAVAILABLE is not stored: once the seat frees, the same key succeeds", async () => {
      const show = await fixture();
      const owner = await registerUser(app);
      const waiting = await registerUser(app);
      const seat = show.seat_ids[0] as number;
      const ownerBooking = ok(await client.hold(owner, show.show_id, [seat])).booking_id;
      const key = newKey();

      expectError(
        await client.hold(waiting, show.show_id, [seat], keyHeader(key)),
        409,
        "SEAT_UNAVAILABLE",
      );
      ok(await client.cancel(owner, ownerBooking));
      const later = await client.hold(waiting, show.show_id, [seat], keyHeader(key));
      const bookingId = ok(later).booking_id;
      const replay = await client.hold(waiting, show.show_id, [seat], keyHeader(key));
      expect(replay.text).toBe(later.text);
      expect(await bookingCount(app, waiting.user_id)).toBe(1);
      expect((await bookingRow(app, bookingId))?.status).toBe("PENDING");
      expectError(
        await client.hold(owner, show.show_id, [seat], keyHeader(key)),
        409,
        "SEAT_UNAVAILABLE",
      );
    });

    test("keys are per user: another user's identical key and body is not a replay", async () => {
      const show = await fixture();
      const alice = await registerUser(app);
      const bob = await registerUser(app);
      const [s1, s2] = show.seat_ids as [number, number];
      const key = newKey();

      const alices = ok(await client.hold(alice, show.show_id, [s1], keyHeader(key)));
      // Bob sends Alice's exact request: he must not receive her booking.
      const copied = await client.hold(bob, show.show_id, [s1], keyHeader(key));
      expectError(copied, 409, "SEAT_UNAVAILABLE");
      expect(copied.body.details.failed_seats).toEqual([s1]);
      const bobs = ok(await client.hold(bob, show.show_id, [s2], keyHeader(key)));
      expect(bobs.booking_id).not.toBe(alices.booking_id);
      expect((await bookingRow(app, bobs.booking_id))?.user_id).toBe(bob.user_id);
      expect(await bookingCount(app, alice.user_id)).toBe(1);
      expect(await bookingCount(app, bob.user_id)).toBe(1);
    });

    test("two simultaneous requests with one key make one booking", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const key = newKey();
      const seats = show.seat_ids.slice(0, 2);
      const responses = await Promise.all([
        client.hold(user, show.show_id, seats, keyHeader(key)),
        client.hold(user, show.show_id, seats, keyHeader(key)),
      ]);
      const succeeded = responses.filter((response) => response.status === 200);
      expect(succeeded.length).toBeGreaterThanOrEqual(1);
      for (const response of responses) {
        if (response.status === 200) expect(response.text).toBe(succeeded[0]?.text as string);
        else expectError(response, 409, "IDEMPOTENCY_KEY_IN_USE");
      }
      expect(await bookingCount(app, user.user_id)).toBe(1);
      expectError(
        await client.hold(user, show.show_id, show.seat_ids.slice(2, 3), keyHeader(key)),
        409,
        "IDEMPOTENCY_KEY_IN_USE",
      );
      // Once the first has finished, a retry is a replay.
      const retry = await client.hold(user, show.show_id, seats, keyHeader(key));
      expect({ status: retry.status, text: retry.text }).toEqual({
        status: 200,
        text: succeeded[0]?.text as string,
      });
    });

    test("malformed keys are refused with 400 before anything is held; GETs ignore the header", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const seat = show.seat_ids[0] as number;
      // A newline cannot travel in an HTTP header at all (fetch refuses to send it).
      expect(() => new Headers(keyHeader("line\nbreak"))).toThrow();
      for (const bad of ["x".repeat(256), "", "bell\x07key", "tab\tkey", "del\x7fkey", "nul\x01"]) {
        const refused = await client.hold(user, show.show_id, [seat], keyHeader(bad));
        expectError(refused, 400, "VALIDATION_ERROR");
        expect(refused.body.details).toHaveProperty("Idempotency-Key");
      }
      expect(await bookingCount(app, user.user_id)).toBe(0);
      expect(await heldSeatCount(app, [show.show_id])).toBe(0);

      const longest = "k".repeat(255);
      const held = ok(await client.hold(user, show.show_id, [seat], keyHeader(longest)));
      expect(
        (await client.hold(user, show.show_id, [seat], keyHeader(longest))).body.booking_id,
      ).toBe(held.booking_id);

      for (const bad of ["x".repeat(256), "bell\x07key"]) {
        expect(ok(await client.get(user, held.booking_id, keyHeader(bad))).booking.booking_id).toBe(
          held.booking_id,
        );
        expect(ok(await client.history(user, "", keyHeader(bad))).total).toBe(1);
      }
      // A GET with a key used by a POST is not a replay of it either.
      expect(ok(await client.get(user, held.booking_id, keyHeader(longest))).booking.status).toBe(
        "PENDING",
      );
      expectError(await client.get(user, "abc", keyHeader(longest)), 400, "VALIDATION_ERROR");
    });
  });

  describe("bad input", () => {
    let show: ShowFixture;
    let otherShow: ShowFixture;
    let startedShow: ShowFixture;
    let user: TestUser;

    beforeAll(async () => {
      show = await fixture({ rows: ["A", "B", "C"], perRow: 5 });
      otherShow = await fixture();
      startedShow = await fixture();
      await startShowNow(app, startedShow.show_id);
      user = await registerUser(app);
    }, SETUP_TIMEOUT_MS);

    test("invalid lock bodies are refused with 400 VALIDATION_ERROR naming the field", async () => {
      const [s1, s2] = show.seat_ids as [number, number];
      const cases: [unknown, string][] = [
        [{ show_id: show.show_id, seat_ids: [] }, "seat_ids"],
        [{ show_id: show.show_id, seat_ids: show.seat_ids.slice(0, 11) }, "seat_ids"],
        [{ show_id: show.show_id, seat_ids: [s1, s2, s1] }, "seat_ids"],
        [{ show_id: show.show_id, seat_ids: [s1, -s2] }, "seat_ids.1"],
        [{ show_id: show.show_id, seat_ids: [0] }, "seat_ids.0"],
        [{ show_id: show.show_id, seat_ids: [String(s1)] }, "seat_ids.0"],
        [{ show_id: show.show_id, seat_ids: [s1, 1.5] }, "seat_ids.1"],
        [{ show_id: show.show_id, seat_ids: [2 ** 31] }, "seat_ids.0"],
        [{ show_id: show.show_id, seat_ids: [s1, null] }, "seat_ids.1"],
        [{ show_id: show.show_id, seat_ids: s1 }, "seat_ids"],
        [{ show_id: show.show_id }, "seat_ids"],
        [{ seat_ids: [s1] }, "show_id"],
        [{ show_id: String(show.show_id), seat_ids: [s1] }, "show_id"],
        [{ show_id: -1, seat_ids: [s1] }, "show_id"],
        [{ show_id: 1.5, seat_ids: [s1] }, "show_id"],
        [{ show_id: 2 ** 31, seat_ids: [s1] }, "show_id"],
        [[show.show_id, s1], "(root)"],
      ];
      expect(show.seat_ids.length).toBeGreaterThanOrEqual(11);
      for (const [body, field] of cases) {
        const refused = await client.lock(user, body);
        expectError(refused, 400, "VALIDATION_ERROR");
        expect({ body, details: Object.keys(refused.body.details ?? {}) }).toEqual({
          body,
          details: expect.arrayContaining([field]),
        });
      }
      for (const raw of ['{"show_id": 1, "seat_ids": [1', "", "not json", "{"]) {
        const malformed = await app.request("POST", "/api/v1/bookings/lock", {
          token: user.token,
          rawBody: raw,
          headers: { "Content-Type": "application/json" },
        });
        expectError(malformed, 400, "VALIDATION_ERROR");
      }
      expect(await bookingCount(app, user.user_id)).toBe(0);
      expect(await heldSeatCount(app, [show.show_id])).toBe(0);
    });

    test("seats outside the show's venue are 400 with exactly those ids in invalid_seats", async () => {
      const [s1, s2] = show.seat_ids as [number, number];
      const [o1, o2] = otherShow.seat_ids as [number, number];
      const missing = MAX_ID - 7;

      const foreign = await client.hold(user, show.show_id, [s1, o1, s2, o2]);
      expectError(foreign, 400, "VALIDATION_ERROR");
      expect([...foreign.body.details.invalid_seats].sort((a, b) => a - b)).toEqual([o1, o2]);

      const unknown = await client.hold(user, show.show_id, [missing, s1]);
      expectError(unknown, 400, "VALIDATION_ERROR");
      expect(unknown.body.details.invalid_seats).toEqual([missing]);

      const both = await client.hold(user, show.show_id, [missing, o2]);
      expectError(both, 400, "VALIDATION_ERROR");
      expect([...both.body.details.invalid_seats].sort((a, b) => a - b)).toEqual([o2, missing]);

      expect(await bookingCount(app, user.user_id)).toBe(0);
      expect(await heldSeatCount(app, [show.show_id, otherShow.show_id])).toBe(0);
      // No lock of the refused requests was left behind.
      expect((await app.runtime.shared.locks.snapshot(show.show_id)).size).toBe(0);
    });

    test("a taken seat beside an id that is no seat is 409 for the taken seat, from either layer", async () => {
      // A show of its own: the tests after this one expect the shared shows unheld.
      const own = await fixture();
      const taken = own.seat_ids[0] as number;
      const missing = MAX_ID - 9;
      const holder = await registerUser(app);
      const held = ok(await client.hold(holder, own.show_id, [taken]));
      const expectTakenRefused = async () => {
        const mixed = await client.hold(user, own.show_id, [taken, missing]);
        expectError(mixed, 409, "SEAT_UNAVAILABLE");
        expect(mixed.body.details).toEqual({ failed_seats: [taken] });
      };
      // Refused by the seat's Redis lock...
      await expectTakenRefused();
      // ...and, with that lock gone (as after a Redis restart), by PostgreSQL the same way.
      const [booking] = await query<{ lock_token: string }>(
        app,
        sql`select lock_token from bookings where booking_id = ${held.booking_id}`,
      );
      await app.runtime.shared.locks.release(own.show_id, [taken], booking?.lock_token ?? "");
      expect((await app.runtime.shared.locks.snapshot(own.show_id)).has(taken)).toBe(false);
      await expectTakenRefused();
      expect(await bookingCount(app, user.user_id)).toBe(0);
    });

    test("unknown show → 404, started show → 400, nothing held", async () => {
      const unknown = await client.hold(user, MAX_ID, [show.seat_ids[0] as number]);
      expectError(unknown, 404, "NOT_FOUND");
      expect(unknown.body.message).toBe("Show not found");
      expectError(
        await client.hold(user, startedShow.show_id, startedShow.seat_ids.slice(0, 2)),
        400,
        "SHOW_STARTED",
      );
      expect(await bookingCount(app, user.user_id)).toBe(0);
      expect(await heldSeatCount(app, [show.show_id, otherShow.show_id, startedShow.show_id])).toBe(
        0,
      );
    });

    test("after all the refusals, the same seats can be held", async () => {
      const seats = show.seat_ids.slice(0, 10);
      const held = ok(await client.hold(user, show.show_id, seats));
      expect(held.locked_seats).toHaveLength(10);
      expect(held.amount).toBe(255);
      expect(await bookingCount(app, user.user_id)).toBe(1);
      const twice = await client.hold(user, show.show_id, [...seats].reverse());
      expectError(twice, 409, "SEAT_UNAVAILABLE");
      expect([...twice.body.details.failed_seats].sort((a, b) => a - b)).toEqual(
        [...seats].sort((a, b) => a - b),
      );
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    });

    test("booking ids in paths that are not positive 31-bit integers are 400", async () => {
      for (const id of ["abc", "-1", "1.5", "99999999999", "0", String(2 ** 31)]) {
        for (const response of [
          await client.get(user, id),
          await client.confirm(user, id),
          await client.cancel(user, id),
        ]) {
          expectError(response, 400, "VALIDATION_ERROR");
          expect(response.body.details).toHaveProperty("booking_id");
        }
      }
    });

    test("confirm with a body booking_id that differs from the path is 400 and confirms nothing", async () => {
      const buyer = await registerUser(app);
      const held = ok(
        await client.hold(buyer, otherShow.show_id, [otherShow.seat_ids[0] as number]),
      );
      ok(await client.pay(buyer, held.booking_id, held.amount));
      for (const body of [{ booking_id: held.booking_id + 1 }, { booking_id: "x" }]) {
        const refused = await client.confirm(buyer, held.booking_id, body);
        expectError(refused, 400, "VALIDATION_ERROR");
        expect(refused.body.details).toHaveProperty("booking_id");
      }
      expect((await bookingRow(app, held.booking_id))?.status).toBe("PENDING");
      // No body at all is fine.
      expect(ok(await client.confirm(buyer, held.booking_id)).status).toBe("CONFIRMED");
    });
  });

  describe("holds that run out (HOLD_TTL_SECONDS=1)", () => {
    let shortApp: TestApp;
    let shortAdmin: TestUser;
    let short: ReturnType<typeof api>;

    beforeAll(async () => {
      shortApp = await createTestApp(backend, { HOLD_TTL_SECONDS: "1" });
      shortAdmin = await createAdmin(shortApp);
      short = api(shortApp);
    }, SETUP_TIMEOUT_MS);
    afterAll(() => shortApp.close(), SETUP_TIMEOUT_MS);

    test("an expired paid hold: AVAILABLE at once, EXPIRED on read, 410 on confirm with a refund", async () => {
      const show = await createShowFixture(shortApp, shortAdmin.token);
      const user = await registerUser(shortApp);
      const other = await registerUser(shortApp);
      const seatIds = show.seat_ids.slice(0, 2);
      const held = ok(await short.hold(user, show.show_id, seatIds));
      expect(held.expires_in).toBe(1);
      const paid = ok(await short.pay(user, held.booking_id, held.amount));

      await Bun.sleep(1500);

      // No cleanup has run: the rows still say LOCKED/PENDING, every read says otherwise.
      expect(
        (await showSeatRows(shortApp, show.show_id, seatIds)).map((row) => row.status),
      ).toEqual(["LOCKED", "LOCKED"]);
      expect((await bookingRow(shortApp, held.booking_id))?.status).toBe("PENDING");
      expect(statusesOf(await short.seatMap(show.show_id), seatIds)).toEqual([
        "AVAILABLE",
        "AVAILABLE",
      ]);
      const lapsed = ok(await short.get(user, held.booking_id)).booking;
      expect(lapsed.status).toBe("EXPIRED");
      // Paid, and not refunded yet: the refund comes when the booking is really ended.
      expect({ payment: lapsed.payment, refund: lapsed.refund }).toEqual({
        payment: { transaction_id: paid.transaction_id, amount: 51 },
        refund: null,
      });
      expect(ok(await short.history(user, "?status=EXPIRED")).total).toBe(1);
      expect(ok(await short.history(user, "?status=PENDING")).total).toBe(0);

      expectError(await short.confirm(user, held.booking_id), 410, "HOLD_EXPIRED");
      expect((await bookingRow(shortApp, held.booking_id))?.status).toBe("EXPIRED");
      expect(await showSeatRows(shortApp, show.show_id, seatIds)).toEqual(
        seatIds.map((seat_id) => ({ seat_id, status: "AVAILABLE", booking_id: null })),
      );
      expect(await paymentRows(shortApp, held.booking_id)).toEqual([
        {
          status: "REFUNDED",
          amount_cents: 5100,
          transaction_id: paid.transaction_id,
          refund_transaction_id: expect.any(String),
        },
      ]);

      expectError(await short.pay(user, held.booking_id, held.amount), 410, "HOLD_EXPIRED");
      expectError(await short.confirm(user, held.booking_id), 410, "HOLD_EXPIRED");
      expectError(await short.cancel(user, held.booking_id), 409, "INVALID_STATE");
      expect((await paymentRows(shortApp, held.booking_id)).map((row) => row.status)).toEqual([
        "REFUNDED",
      ]);

      const again = ok(await short.hold(other, show.show_id, seatIds));
      expect((await bookingRow(shortApp, again.booking_id))?.status).toBe("PENDING");
      // The history keeps the expired booking with its seats.
      const { booking } = ok(await short.get(user, held.booking_id));
      expect(booking.status).toBe("EXPIRED");
      expect(booking.seats.map((seat: SeatRef) => seat.seat_id).sort()).toEqual(
        [...seatIds].sort(),
      );
      const [refunded] = await paymentRows(shortApp, held.booking_id);
      expect(booking.refund).toEqual({
        transaction_id: refunded?.refund_transaction_id,
        amount: 51,
      });
    });

    test("lapsed holds expire on pay, cancel and when another hold reclaims one of their seats", async () => {
      const show = await createShowFixture(shortApp, shortAdmin.token);
      const user = await registerUser(shortApp);
      const other = await registerUser(shortApp);
      const [s1, s2, s3, s4, s5, s6] = show.seat_ids as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      await short.book(user, show.show_id, [s6]);
      const pair = ok(await short.hold(user, show.show_id, [s1, s2])).booking_id;
      const toPay = ok(await short.hold(user, show.show_id, [s3]));
      const toCancel = ok(await short.hold(user, show.show_id, [s4])).booking_id;

      await Bun.sleep(1500);

      // A lapsed hold's seat is not "taken"; a sold one still is.
      const refused = await short.hold(other, show.show_id, [s1, s6]);
      expectError(refused, 409, "SEAT_UNAVAILABLE");
      expect(refused.body.details.failed_seats).toEqual([s6]);
      expect(statusesOf(await short.seatMap(show.show_id), [s1, s6])).toEqual([
        "AVAILABLE",
        "BOOKED",
      ]);

      expectError(await short.pay(user, toPay.booking_id, toPay.amount), 410, "HOLD_EXPIRED");
      expect((await bookingRow(shortApp, toPay.booking_id))?.status).toBe("EXPIRED");
      expect(await paymentRows(shortApp, toPay.booking_id)).toEqual([]);
      expect((await showSeatRows(shortApp, show.show_id, [s3]))[0]?.status).toBe("AVAILABLE");

      expectError(await short.cancel(user, toCancel), 409, "INVALID_STATE");
      expect((await bookingRow(shortApp, toCancel))?.status).toBe("EXPIRED");

      // Taking one seat of a lapsed hold expires the whole hold.
      const reclaim = ok(await short.hold(other, show.show_id, [s2, s5]));
      expect((await bookingRow(shortApp, pair))?.status).toBe("EXPIRED");
      expect(await showSeatRows(shortApp, show.show_id, [s1, s2, s5])).toEqual([
        { seat_id: s1, status: "AVAILABLE", booking_id: null },
        { seat_id: s2, status: "LOCKED", booking_id: reclaim.booking_id },
        { seat_id: s5, status: "LOCKED", booking_id: reclaim.booking_id },
      ]);
      ok(await short.hold(other, show.show_id, [s1, s3, s4]));
      const expired = ok(await short.history(user, "?status=EXPIRED"));
      expect(expired.total).toBe(3);
    });
  });
});

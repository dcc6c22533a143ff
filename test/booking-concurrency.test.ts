import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import postgres from "postgres";
import { RedisSeatLocks } from "../src/infra/seat-locks";
import { OFFER_LOCK_SPACE, WAITLIST_LOCK_SPACE } from "../src/modules/booking/waitlist-offers";
import { expectError } from "./support/answers";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdSeats,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, query, sql, type TestApp, type TestResponse } from "./support/harness";
import { bookingInvariantViolations } from "./support/invariants";
import { waitUntil } from "./support/processes";
import { describeEachBackendAndCluster, hasPostgres } from "./support/services";

/** Joins the show's waitlist for one seat. */
const joinWaitlist = (app: TestApp, user: TestUser, showId: number) =>
  app.request("POST", `/api/v1/shows/${showId}/waitlist`, {
    token: user.token,
    body: { seats_wanted: 1 },
  });

type HeldBooking = { booking_id: number; amount: number };

const pay = (app: TestApp, user: TestUser, booking: HeldBooking) =>
  app.request("POST", "/api/v1/bookings/payments/simulate", {
    token: user.token,
    body: { booking_id: booking.booking_id, amount: booking.amount },
  });

const act = (app: TestApp, user: TestUser, bookingId: number, action: "confirm" | "cancel") =>
  app.request("POST", `/api/v1/bookings/${bookingId}/${action}`, { token: user.token, body: {} });

const statusCounts = (responses: TestResponse[]) =>
  responses.reduce<Record<number, number>>((counts, response) => {
    counts[response.status] = (counts[response.status] ?? 0) + 1;
    return counts;
  }, {});

const activeBookings = async (app: TestApp, showId: number) =>
  query<{ booking_id: number; user_id: number }>(
    app,
    sql`select booking_id, user_id from bookings
        where show_id = ${showId} and status in ('PENDING', 'CONFIRMED')`,
  );

/** Seats a random user would pick: `size` distinct seats out of `seatIds`. */
function pickSeats(seatIds: number[], size: number): number[] {
  const pool = [...seatIds];
  const picked: number[] = [];
  while (picked.length < size) {
    const [seat] = pool.splice(Math.floor(Math.random() * pool.length), 1);
    picked.push(seat as number);
  }
  return picked;
}

describeEachBackendAndCluster("concurrent holds on %s", (backend) => {
  let app: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    app = await createTestApp(backend);
    adminToken = (await createAdmin(app)).token;
  });
  afterAll(() => app.close());

  test("300 simultaneous holds of the same 2 seats: exactly one wins", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 4 });
    const users = await createUsersDirect(app, 300);
    const seats = show.seat_ids.slice(0, 2);

    const responses = await Promise.all(
      users.map((user) => holdSeats(app, user, show.show_id, seats)),
    );

    expect(statusCounts(responses)).toEqual({ 200: 1, 409: 299 });
    for (const response of responses.filter((r) => r.status === 409)) {
      expect(response.body.code).toBe("SEAT_UNAVAILABLE");
    }
    const winner = responses.find((r) => r.status === 200);
    const bookings = await activeBookings(app, show.show_id);
    expect(bookings).toHaveLength(1);
    expect(bookings[0]?.booking_id).toBe(winner?.body.booking_id);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    // The seat locks (Redis, a Redis Cluster or memory) took part: they hold the winner's seats.
    const [token] = await query<{ lock_token: string }>(
      app,
      sql`select lock_token::text as lock_token from bookings
          where booking_id = ${winner?.body.booking_id}`,
    );
    expect(await app.runtime.shared.locks.snapshot(show.show_id)).toEqual(
      new Map(seats.map((seat) => [seat, token?.lock_token as string])),
    );
  });

  test("50 users with overlapping multi-seat holds on a 40-seat show never share a seat", async () => {
    const show = await createShowFixture(app, adminToken, {
      rows: ["A", "B", "C", "D"],
      perRow: 10,
    });
    const users = await createUsersDirect(app, 50);

    const attempts = users.flatMap((user) =>
      [1, 2, 3, 4].map(() => {
        const seatIds = pickSeats(show.seat_ids, 1 + Math.floor(Math.random() * 4));
        return holdSeats(app, user, show.show_id, seatIds).then((response) => ({
          seatIds,
          response,
        }));
      }),
    );
    const results = await Promise.all(attempts);

    const counts = statusCounts(results.map((result) => result.response));
    expect(Object.keys(counts).sort()).toEqual(
      Object.keys(counts).filter((status) => status === "200" || status === "409"),
    );
    expect(counts[200]).toBeGreaterThan(0);

    const won = results.filter((result) => result.response.status === 200);
    const granted = won.flatMap((result) =>
      result.response.body.locked_seats.map((s: { seat_id: number }) => s.seat_id),
    );
    expect(new Set(granted).size).toBe(granted.length);
    for (const result of won) {
      const lockedIds = result.response.body.locked_seats.map(
        (s: { seat_id: number }) => s.seat_id,
      );
      expect(lockedIds.sort()).toEqual([...result.seatIds].sort());
    }
    // A refusal names only requested seats, and only ones somebody else now holds; or, for a
    // user whose earlier wins would pass MAX_SEATS_PER_USER_PER_SHOW (4 holds of up to 4
    // seats), it says how many seats remain, fewer than asked.
    for (const result of results.filter((r) => r.response.status === 409)) {
      const { code, details } = result.response.body;
      expect(["SEAT_UNAVAILABLE", "SEAT_LIMIT"]).toContain(code);
      if (code === "SEAT_LIMIT") {
        expect(details.remaining).toBeLessThan(result.seatIds.length);
        continue;
      }
      const failed: number[] = details.failed_seats;
      expect(failed.length).toBeGreaterThan(0);
      for (const seatId of failed) expect(result.seatIds).toContain(seatId);
    }

    const held = await query<{ seat_id: number }>(
      app,
      sql`select seat_id from show_seats where show_id = ${show.show_id} and status = 'LOCKED'`,
    );
    expect(held.map((row) => row.seat_id).sort()).toEqual([...granted].sort());
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("two API instances on one database and Redis: still exactly one winner", async () => {
    const second = await createTestApp(backend, {}, { sameDataAs: app });
    try {
      const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 3 });
      const users = await createUsersDirect(app, 120);
      const seats = show.seat_ids.slice(0, 2);

      const responses = await Promise.all(
        users.map((user, index) =>
          holdSeats(index % 2 === 0 ? app : second, user, show.show_id, seats),
        ),
      );

      expect(statusCounts(responses)).toEqual({ 200: 1, 409: 119 });
      expect(await activeBookings(app, show.show_id)).toHaveLength(1);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    } finally {
      await second.close();
    }
  });

  test("with Redis unreachable, PostgreSQL's row locks alone still allow one winner, without hanging", async () => {
    // A port nothing listens on: every lock call fails at once, as when Redis is down.
    const deadRedis = new Redis("redis://127.0.0.1:1", {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const redisErrors: Error[] = [];
    deadRedis.on("error", (error) => redisErrors.push(error));
    const degraded = await createTestApp(
      backend,
      {},
      {
        sameDataAs: app,
        locks: new RedisSeatLocks(deadRedis),
      },
    );
    try {
      const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 3 });
      const users = await createUsersDirect(app, 100);
      const seats = show.seat_ids.slice(0, 2);

      const started = performance.now();
      const responses = await Promise.all(
        users.map((user) => holdSeats(degraded, user, show.show_id, seats)),
      );
      const elapsedMs = performance.now() - started;

      expect(statusCounts(responses)).toEqual({ 200: 1, 409: 99 });
      expect(await activeBookings(app, show.show_id)).toHaveLength(1);
      // Not a performance threshold: a hang (waiting on a dead Redis) would take minutes.
      expect(elapsedMs).toBeLessThan(30_000);
    } finally {
      await degraded.close();
      deadRedis.disconnect();
    }
  });

  describe("one booking paid, confirmed and cancelled at once", () => {
    /** One hold of one seat per user on a fresh show. */
    async function holds(count: number) {
      const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: count });
      const users = await createUsersDirect(app, count);
      const bookings = await Promise.all(
        users.map(async (user, index) => {
          const held = await holdSeats(app, user, show.show_id, [show.seat_ids[index] as number]);
          expect(held.status).toBe(200);
          return { user, booking: held.body as HeldBooking };
        }),
      );
      return { show, bookings };
    }

    test("20 simultaneous payments of one hold: one charge, the rest 409", async () => {
      const { show, bookings } = await holds(1);
      const [{ user, booking }] = bookings as [(typeof bookings)[number]];

      const answers = await Promise.all(Array.from({ length: 20 }, () => pay(app, user, booking)));

      expect(statusCounts(answers)).toEqual({ 200: 1, 409: 19 });
      for (const answer of answers.filter((a) => a.status === 409)) {
        expect(answer.body.code).toBe("INVALID_STATE");
      }
      const charges = await query<{ count: number }>(
        app,
        sql`select count(*)::int as count from payments
            where booking_id = ${booking.booking_id} and status = 'SUCCEEDED'`,
      );
      expect(charges[0]?.count).toBe(1);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    });

    test("confirm and cancel of the same paid holds at once: one order or the other, never both halves", async () => {
      const { show, bookings } = await holds(20);
      for (const { user, booking } of bookings)
        expect((await pay(app, user, booking)).status).toBe(200);

      const outcomes = await Promise.all(
        bookings.map(async ({ user, booking }) => {
          const [confirm, cancel] = await Promise.all([
            act(app, user, booking.booking_id, "confirm"),
            act(app, user, booking.booking_id, "cancel"),
          ]);
          return `confirm ${confirm.status}, cancel ${cancel.status}`;
        }),
      );

      // Confirm first: the confirmed booking is then cancelled with a refund. Cancel first: the
      // confirm finds a CANCELLED booking.
      for (const outcome of outcomes) {
        expect(["confirm 200, cancel 200", "confirm 409, cancel 200"]).toContain(outcome);
      }
      const active = await activeBookings(app, show.show_id);
      expect(active).toEqual([]);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    });

    test("pay and cancel of the same holds at once: a payment is refunded or never taken", async () => {
      const { show, bookings } = await holds(20);

      const outcomes = await Promise.all(
        bookings.map(async ({ user, booking }) => {
          const [paid, cancel] = await Promise.all([
            pay(app, user, booking),
            act(app, user, booking.booking_id, "cancel"),
          ]);
          const refunded = cancel.body.refund !== undefined;
          return `pay ${paid.status}, cancel ${cancel.status}, refund ${refunded}`;
        }),
      );

      for (const outcome of outcomes) {
        expect(["pay 200, cancel 200, refund true", "pay 409, cancel 200, refund false"]).toContain(
          outcome,
        );
      }
      expect(await activeBookings(app, show.show_id)).toEqual([]);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    });
  });
});

// Row-lock waits need a second session: real PostgreSQL only.
describe.skipIf(!hasPostgres)("row-lock races on real PostgreSQL", () => {
  /**
   * A connection the test drives statement by statement (`conn`), in a session whose other
   * connection can watch for lock waits; end() closes both.
   */
  const handDriven = async (app: TestApp) => {
    const session = postgres(app.config.DATABASE_URL as string, { max: 2, onnotice: () => {} });
    const conn = await session.reserve();
    const end = async () => {
      conn.release();
      await session.end();
    };
    return { session, conn, end };
  };

  /**
   * A cancel of the booking `held` answered that has freed `seat` and not committed yet, on a
   * session of its own; the caller commits it (`cancel\`commit\``) and then calls end().
   */
  const uncommittedCancel = async (
    app: TestApp,
    held: TestResponse,
    showId: number,
    seat: number,
  ) => {
    const { session, conn: cancel, end } = await handDriven(app);
    await cancel`begin`;
    await cancel`update bookings set status = 'CANCELLED' where booking_id = ${held.body.booking_id}`;
    await cancel`insert into booking_log (booking_id, event) values (${held.body.booking_id}, 'CANCELLED')`;
    await cancel`update show_seats set status = 'AVAILABLE', booking_id = null, locked_until = null
                 where show_id = ${showId} and seat_id = ${seat}`;
    return { session, cancel, end };
  };

  /**
   * An admin, a show of `seats` seats in row A, `users` fresh users, and the first user's
   * hold of the show's first seat.
   */
  const firstSeatHeld = async (app: TestApp, seats: number, users: number) => {
    const admin = await createAdmin(app);
    const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: seats });
    const people = (await createUsersDirect(app, users)) as TestUser[];
    const seat = show.seat_ids[0] as number;
    const held = await holdSeats(app, people[0] as TestUser, show.show_id, [seat]);
    expect(held.status).toBe(200);
    return { admin, show, people, seat, held };
  };

  /**
   * Cancels through the API, which must finish without anything in the test's database waiting
   * for an advisory lock meanwhile. (A cancel that waited for the waitlist's locks would still
   * succeed, after the lock timeout, its offers given up: only the wait tells.)
   */
  const cancelsWithoutWaiting = async (
    app: TestApp,
    session: postgres.Sql,
    user: TestUser,
    bookingId: number,
  ) => {
    const cancelling = act(app, user, bookingId, "cancel");
    let settled = false;
    void cancelling.finally(() => {
      settled = true;
    });
    let waited = false;
    while (!settled && !waited) {
      const [advisory] = await session`select count(*)::int as count from pg_stat_activity
        where datname = current_database() and wait_event = 'advisory'`;
      waited = advisory?.count !== 0;
    }
    expect(waited).toBe(false);
    expect((await cancelling).status).toBe(200);
  };

  /** Until one backend of the test's database waits for a lock. */
  const untilOneWaitsForALock = (session: postgres.Sql, who: string) =>
    waitUntil(
      async () => {
        const [blocked] = await session`select count(*)::int as count from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`;
        return blocked?.count === 1;
      },
      () => `${who} never waited for a lock`,
    );

  describe("a hold that waited on a seat freed meanwhile", () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp("postgres");
    });
    afterAll(() => app.close());

    test("gets the seat (the statement runs again) instead of a 500", async () => {
      const admin = await createAdmin(app);
      const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 2 });
      const [first, second] = await createUsersDirect(app, 2);
      const seat = show.seat_ids[0] as number;
      const held = await holdSeats(app, first as TestUser, show.show_id, [seat]);
      expect(held.status).toBe(200);
      const [{ lock_token } = { lock_token: "" }] = await query<{ lock_token: string }>(
        app,
        sql`select lock_token::text as lock_token from bookings where booking_id = ${held.body.booking_id}`,
      );
      // A cancel that has freed the seat but not committed yet: its Redis lock is already gone.
      const { session, cancel, end } = await uncommittedCancel(app, held, show.show_id, seat);
      try {
        await app.runtime.shared.locks.release(show.show_id, [seat], lock_token);

        const waiting = holdSeats(app, second as TestUser, show.show_id, [seat]);
        await untilOneWaitsForALock(session, "the hold");
        await cancel`commit`;
        const answer = await waiting;

        expect({ status: answer.status, seats: answer.body.locked_seats?.length }).toEqual({
          status: 200,
          seats: 1,
        });
        expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
      } finally {
        await end();
      }
    });
  });

  describe("a payment or confirmation that waited on its booking's row lock", () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp("postgres");
    });
    afterAll(() => app.close());

    /**
     * Holds one seat, then runs `request` while another session holds the booking's row lock
     * and does `meanwhile` in its transaction; commits once the request waits on that lock.
     */
    async function waitingOn(
      meanwhile: (tx: postgres.ReservedSql, bookingId: number, showId: number) => Promise<void>,
      request: (user: TestUser, booking: HeldBooking) => Promise<TestResponse>,
      paidFirst = false,
    ) {
      const admin = await createAdmin(app);
      const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 1 });
      const [user] = (await createUsersDirect(app, 1)) as [TestUser];
      const held = await holdSeats(app, user, show.show_id, show.seat_ids);
      expect(held.status).toBe(200);
      if (paidFirst) expect((await pay(app, user, held.body)).status).toBe(200);
      const { session, conn: tx, end } = await handDriven(app);
      try {
        await tx`begin`;
        await tx`select 1 from bookings where booking_id = ${held.body.booking_id} for update`;
        await meanwhile(tx, held.body.booking_id, show.show_id);
        const waiting = request(user, held.body);
        await waitUntil(
          async () => {
            const [blocked] = await session`select count(*)::int as count from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock'`;
            return blocked?.count === 1;
          },
          () => "the request never waited for the booking's row lock",
        );
        await tx`commit`;
        return {
          answer: await waiting,
          bookingId: held.body.booking_id as number,
          showId: show.show_id,
        };
      } finally {
        await end();
      }
    }

    const chargeOf = async (tx: postgres.ReservedSql, bookingId: number) => {
      await tx`insert into payments (booking_id, amount_cents, status, transaction_id)
               select booking_id, amount_cents, 'SUCCEEDED', 'txn_other_' || booking_id
               from bookings where booking_id = ${bookingId}`;
      await tx`insert into booking_log (booking_id, event, details)
               select booking_id, 'PAID', jsonb_build_object('amount_cents', amount_cents,
                 'transaction_id', 'txn_other_' || booking_id)
               from bookings where booking_id = ${bookingId}`;
    };
    const cancellationOf = async (tx: postgres.ReservedSql, bookingId: number, showId: number) => {
      await tx`update bookings set status = 'CANCELLED' where booking_id = ${bookingId}`;
      await tx`insert into booking_log (booking_id, event) values (${bookingId}, 'CANCELLED')`;
      await tx`with refunded as (
                 update payments set status = 'REFUNDED', refunded_at = now(),
                   refund_transaction_id = 'rfd_' || booking_id
                 where booking_id = ${bookingId} and status = 'SUCCEEDED'
                 returning booking_id, amount_cents, refund_transaction_id
               )
               insert into booking_log (booking_id, event, details)
               select booking_id, 'REFUNDED', jsonb_build_object('amount_cents', amount_cents,
                 'transaction_id', refund_transaction_id)
               from refunded`;
      const freed = await tx<{ seat_id: number }[]>`update show_seats
        set status = 'AVAILABLE', booking_id = null, locked_until = null
        where show_id = ${showId} and booking_id = ${bookingId} returning seat_id`;
      const [{ lock_token } = { lock_token: "" }] = await tx<{ lock_token: string }[]>`
        select lock_token::text as lock_token from bookings where booking_id = ${bookingId}`;
      await app.runtime.shared.locks.release(
        showId,
        freed.map((seat) => seat.seat_id),
        lock_token,
      );
    };
    const payFor = (user: TestUser, booking: HeldBooking) => pay(app, user, booking);
    const confirmOf = (user: TestUser, booking: HeldBooking) =>
      act(app, user, booking.booking_id, "confirm");

    test("a payment committed meanwhile: 409, and still one charge", async () => {
      const { answer, bookingId } = await waitingOn(chargeOf, payFor);
      expectError(answer, 409, "INVALID_STATE");
      const charges = await query<{ count: number }>(
        app,
        sql`select count(*)::int as count from payments where booking_id = ${bookingId}`,
      );
      expect(charges[0]?.count).toBe(1);
    });

    test("a cancellation committed meanwhile: the payment is refused with 409", async () => {
      const { answer, bookingId, showId } = await waitingOn(cancellationOf, payFor);
      expectError(answer, 409, "INVALID_STATE");
      const charges = await query<{ count: number }>(
        app,
        sql`select count(*)::int as count from payments where booking_id = ${bookingId}`,
      );
      expect(charges[0]?.count).toBe(0);
      expect(await bookingInvariantViolations(app, showId)).toEqual([]);
    });

    test("a cancellation committed meanwhile: the confirmation is refused with 409", async () => {
      const { answer, showId } = await waitingOn(cancellationOf, confirmOf, true);
      expectError(answer, 409, "INVALID_STATE");
      expect(await bookingInvariantViolations(app, showId)).toEqual([]);
    });
  });

  describe("deletions and waitlist offers racing other transactions", () => {
    let app: TestApp;
    beforeAll(async () => {
      // Lock waits bounded as in production (the failing-offer test waits this long once;
      // the others wait a few milliseconds for a session the test drives).
      app = await createTestApp("postgres", { DB_LOCK_TIMEOUT_MS: "5000" });
    });
    afterAll(() => app.close());

    test("a forced show deletion waiting on the cancel lets it make its offer (no deadlock)", async () => {
      const { admin, show, people, seat, held } = await firstSeatHeld(app, 2, 2);
      const waiter = people[1] as TestUser;
      // A cancel that has freed its seat and not committed yet...
      const { session, cancel, end } = await uncommittedCancel(app, held, show.show_id, seat);
      try {
        // ...and would be the side PostgreSQL aborts if a cycle closed (the deletion retries
        // on deadlock, so only the cancel's own failure shows one).
        await cancel`set local deadlock_timeout = '10ms'`;
        const deleting = app.request("DELETE", `/api/v1/admin/shows/${show.show_id}?force=true`, {
          token: admin.token,
        });
        await untilOneWaitsForALock(session, "the deletion");
        // ...then makes the waitlist's offer: inserting its booking key-share locks the show row,
        // which the waiting deletion must not hold exclusively.
        const [offer] =
          await cancel`insert into bookings (user_id, show_id, status, amount_cents, expires_at)
          values (${waiter.user_id}, ${show.show_id}, 'PENDING', 0, now() + interval '1 minute')
          returning booking_id`;
        await cancel`update show_seats set status = 'LOCKED', booking_id = ${offer?.booking_id},
                       locked_until = now() + interval '1 minute'
                     where show_id = ${show.show_id} and seat_id = ${seat}`;
        await cancel`commit`;

        expect((await deleting).status).toBe(204);
        const [ended] = await query<{ status: string }>(
          app,
          sql`select status::text as status from bookings where booking_id = ${offer?.booking_id}`,
        );
        expect(ended?.status).toBe("CANCELLED");
      } finally {
        await end();
      }
    });

    test("an offer that fails does not fail the cancel: the seat goes back on general sale", async () => {
      const admin = await createAdmin(app);
      const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 1 });
      const [buyer, waiter, passerBy] = (await createUsersDirect(app, 3)) as [
        TestUser,
        TestUser,
        TestUser,
      ];
      const seat = show.seat_ids[0] as number;
      const held = await holdSeats(app, buyer, show.show_id, [seat]);
      expect(held.status).toBe(200);
      const joined = await joinWaitlist(app, waiter, show.show_id);
      expect(joined.status).toBe(201);
      // Another session sits on the show's waitlist lock, so the offer times out.
      const session = postgres(app.config.DATABASE_URL as string, { max: 1, onnotice: () => {} });
      try {
        await session`select pg_advisory_lock(${WAITLIST_LOCK_SPACE}, ${show.show_id})`;
        const cancelled = await act(app, buyer, held.body.booking_id, "cancel");
        expect(cancelled.status).toBe(200);
      } finally {
        await session.end();
      }
      const [entry] = await query<{ status: string }>(
        app,
        sql`select status::text as status from waitlist_entries
            where show_id = ${show.show_id} and user_id = ${waiter.user_id}`,
      );
      expect(entry?.status).toBe("WAITING");
      expect((await holdSeats(app, passerBy, show.show_id, [seat])).status).toBe(200);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
      // The offer waits out the whole lock timeout (5 s): Bun's default per-test limit.
    }, 60_000);

    test("a show deletion waits for a seat-layout change in flight and removes its new seats", async () => {
      const admin = await createAdmin(app);
      const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 2 });
      const { session, conn: layout, end } = await handDriven(app);
      try {
        // An admin adding a seat to the venue: its row lock taken, the seat not inserted yet.
        await layout`begin`;
        await layout`select venue_id from venues where venue_id = ${show.venue_id} for update`;
        const deleting = app.request("DELETE", `/api/v1/admin/shows/${show.show_id}`, {
          token: admin.token,
        });
        await untilOneWaitsForALock(session, "the deletion");
        // What addSeats does next: the seat, and its row for every live show of the venue.
        const [seat] = await layout`insert into seats (venue_id, seat_row, seat_number)
          values (${show.venue_id}, 'Z', 1) returning seat_id`;
        await layout`insert into show_seats (show_id, seat_id)
          select show_id, ${seat?.seat_id} from shows
          where venue_id = ${show.venue_id} and deleted_at is null`;
        await layout`commit`;

        expect((await deleting).status).toBe(204);
        const [left] = await query<{ live: number; seats: number }>(
          app,
          sql`select (select count(*)::int from shows
                      where show_id = ${show.show_id} and deleted_at is null) as live,
                (select count(*)::int from show_seats where show_id = ${show.show_id}) as seats`,
        );
        expect(left).toEqual({ live: 0, seats: 0 });
      } finally {
        await end();
      }
    });

    test("a venue move waits for a hold in flight, then refuses to move a show with bookings", async () => {
      const admin = await createAdmin(app);
      const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 2 });
      const elsewhere = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 3 });
      const [buyer] = (await createUsersDirect(app, 1)) as [TestUser];
      const seat = show.seat_ids[0] as number;
      const { session, conn: hold, end } = await handDriven(app);
      try {
        // A hold in flight, as the hold statement makes it: seat row locked, booking written.
        await hold`begin`;
        await hold`select seat_id from show_seats where show_id = ${show.show_id}
                   and seat_id = ${seat} for update`;
        const [booking] = await hold`insert into bookings
            (user_id, show_id, status, amount_cents, expires_at)
          values (${buyer.user_id}, ${show.show_id}, 'PENDING', 100, now() + interval '10 minutes')
          returning booking_id`;
        await hold`insert into booking_seats (booking_id, seat_id, seat_row, seat_number)
          select ${booking?.booking_id}, seat_id, seat_row, seat_number from seats
          where seat_id = ${seat}`;
        await hold`update show_seats set status = 'LOCKED', booking_id = ${booking?.booking_id},
            locked_until = now() + interval '10 minutes'
          where show_id = ${show.show_id} and seat_id = ${seat}`;
        const moving = app.request("PUT", `/api/v1/admin/shows/${show.show_id}`, {
          token: admin.token,
          body: { venue_id: elsewhere.venue_id },
        });
        await untilOneWaitsForALock(session, "the move");
        await hold`commit`;
        expectError(await moving, 409, "CONFLICT");
      } finally {
        await end();
      }
      // The show kept its venue's seat rows, the held one with its booking.
      const rows = await query<{ seat_id: number; status: string }>(
        app,
        sql`select seat_id, status::text as status from show_seats
            where show_id = ${show.show_id} order by seat_id`,
      );
      expect(rows).toEqual([
        { seat_id: seat, status: "LOCKED" },
        { seat_id: show.seat_ids[1] as number, status: "AVAILABLE" },
      ]);
    });

    test("seats added to a show's venue while it moves away do not stay with the show", async () => {
      const admin = await createAdmin(app);
      const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 2 });
      const elsewhere = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 3 });
      const { session, conn: layout, end } = await handDriven(app);
      try {
        // What addSeats does for the show's venue, not committed yet.
        await layout`begin`;
        await layout`select venue_id from venues where venue_id = ${show.venue_id} for update`;
        const [seat] = await layout`insert into seats (venue_id, seat_row, seat_number)
          values (${show.venue_id}, 'Z', 1) returning seat_id`;
        await layout`insert into show_seats (show_id, seat_id)
          select show_id, ${seat?.seat_id} from shows
          where venue_id = ${show.venue_id} and deleted_at is null`;
        const moving = app.request("PUT", `/api/v1/admin/shows/${show.show_id}`, {
          token: admin.token,
          body: { venue_id: elsewhere.venue_id },
        });
        // The move must wait for the old venue's layout change (without the lock it finishes
        // first, and the new seat's row, committed after it, stays with the moved show).
        await Promise.race([untilOneWaitsForALock(session, "the move"), moving]);
        await layout`commit`;
        expect((await moving).status).toBe(200);
      } finally {
        await end();
      }
      const rows = await query<{ venue_id: number }>(
        app,
        sql`select s.venue_id from show_seats ss join seats s on s.seat_id = ss.seat_id
            where ss.show_id = ${show.show_id}`,
      );
      expect(rows.map((row) => row.venue_id)).toEqual([
        elsewhere.venue_id,
        elsewhere.venue_id,
        elsewhere.venue_id,
      ]);
    });

    test("a show created for an event being deleted waits, then finds the event gone", async () => {
      const admin = await createAdmin(app);
      const fixture = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 1 });
      const { session, conn: deletion, end } = await handDriven(app);
      try {
        // An event deletion that has marked the event deleted and not committed yet.
        await deletion`begin`;
        await deletion`update events set deleted_at = now() where event_id = ${fixture.event_id}`;
        const start = Date.now() + 48 * 3_600_000;
        const creating = app.request("POST", "/api/v1/admin/shows", {
          token: admin.token,
          body: {
            event_id: fixture.event_id,
            venue_id: fixture.venue_id,
            start_time: new Date(start).toISOString(),
            end_time: new Date(start + 7_200_000).toISOString(),
            price: 10,
          },
        });
        await untilOneWaitsForALock(session, "the show creation");
        await deletion`commit`;
        expect((await creating).status).toBe(404);
        const [made] = await query<{ shows: number }>(
          app,
          sql`select count(*)::int as shows from shows where event_id = ${fixture.event_id}`,
        );
        expect(made?.shows).toBe(1);
      } finally {
        await end();
      }
    });

    test("a forced show deletion waits for a cancel that has locked its booking: no deadlock", async () => {
      const { admin, show, seat, held } = await firstSeatHeld(app, 1, 1);
      const { session, conn: cancel, end } = await handDriven(app);
      try {
        // Should a cycle close, this session finds it first and fails: the cancel must not.
        await cancel`begin`;
        await cancel`set local deadlock_timeout = '10ms'`;
        // The cancel has locked its booking (bookings before seats)...
        await cancel`select 1 from bookings where booking_id = ${held.body.booking_id} for update`;
        // ...the deletion waits for that booking before it takes any seat...
        const deleting = app.request("DELETE", `/api/v1/admin/shows/${show.show_id}?force=true`, {
          token: admin.token,
        });
        await untilOneWaitsForALock(session, "the deletion");
        // ...so the cancel's seat update finds its seat free and commits.
        await cancel`update bookings set status = 'CANCELLED' where booking_id = ${held.body.booking_id}`;
        await cancel`insert into booking_log (booking_id, event) values (${held.body.booking_id}, 'CANCELLED')`;
        await cancel`update show_seats set status = 'AVAILABLE', booking_id = null, locked_until = null
                    where show_id = ${show.show_id} and seat_id = ${seat}`;
        await cancel`commit`;
        expect((await deleting).status).toBe(204);
      } finally {
        await end();
      }
      expect((await app.request("GET", `/api/v1/shows/${show.show_id}`)).status).toBe(404);
    });

    test("a forced show deletion that deadlocks runs again and succeeds", async () => {
      const { admin, show, seat, held } = await firstSeatHeld(app, 1, 1);
      // No request path takes a seat and then a booking the deletion already holds (a booking
      // committed while the deletion waits for the seats, cancelled at that moment, comes
      // closest, and cannot be timed from here): this session closes the cycle by hand to
      // prove the deletion's retry.
      const { session, conn: other, end } = await handDriven(app);
      try {
        // This session never looks for the deadlock first, however slow the machine: the
        // deletion, waiting since before the cycle closes, is always the one PostgreSQL aborts.
        await other`set deadlock_timeout = '30s'`;
        // A transaction has locked the seat's row...
        await other`begin`;
        await other`select 1 from show_seats where show_id = ${show.show_id}
                      and seat_id = ${seat} for update`;
        // ...the deletion has locked the seat's booking and waits for the seat...
        const deleting = app.request("DELETE", `/api/v1/admin/shows/${show.show_id}?force=true`, {
          token: admin.token,
        });
        await untilOneWaitsForALock(session, "the deletion");
        // ...and the transaction, wanting that booking too, closes the cycle. PostgreSQL aborts
        // the deletion, which must run again once the transaction commits.
        await other`select 1 from bookings where booking_id = ${held.body.booking_id} for update`;
        await other`update bookings set status = 'EXPIRED' where booking_id = ${held.body.booking_id}`;
        await other`update show_seats set status = 'AVAILABLE', booking_id = null, locked_until = null
                      where show_id = ${show.show_id} and seat_id = ${seat}`;
        await other`commit`;
        expect((await deleting).status).toBe(204);
      } finally {
        await end();
      }
      expect((await app.request("GET", `/api/v1/shows/${show.show_id}`)).status).toBe(404);
    });

    test("a cancel waits for a waitlist join in flight and offers the join its seat", async () => {
      const { show, people, seat, held } = await firstSeatHeld(app, 1, 2);
      const [buyer, waiter] = people as [TestUser, TestUser];
      const { session, conn: join, end } = await handDriven(app);
      try {
        // A join that holds the show's waitlist lock and has written its entry, uncommitted.
        await join`begin`;
        await join`select pg_advisory_xact_lock(${WAITLIST_LOCK_SPACE}, ${show.show_id})`;
        await join`insert into waitlist_entries (show_id, user_id, seats_wanted)
                   values (${show.show_id}, ${waiter.user_id}, 1)`;
        const cancelling = act(app, buyer, held.body.booking_id, "cancel");
        await untilOneWaitsForALock(session, "the cancel");
        await join`commit`;
        expect((await cancelling).status).toBe(200);
      } finally {
        await end();
      }
      const [offer] = await query<{ user_id: number; status: string }>(
        app,
        sql`select b.user_id, b.status::text as status from show_seats ss
            join bookings b on b.booking_id = ss.booking_id
            where ss.show_id = ${show.show_id} and ss.seat_id = ${seat}`,
      );
      expect(offer).toEqual({ user_id: waiter.user_id, status: "PENDING" });
    });

    test("cancels of one show do not wait for each other while nobody waits for its seats", async () => {
      const { show, people, seat, held } = await firstSeatHeld(app, 2, 2);
      const other = people[1] as TestUser;
      const second = await holdSeats(app, other, show.show_id, [show.seat_ids[1] as number]);
      expect(second.status).toBe(200);
      // A cancel that has freed its seat and looked at the show's waitlist, uncommitted.
      const { session, cancel, end } = await uncommittedCancel(app, held, show.show_id, seat);
      try {
        await cancel`select pg_advisory_xact_lock_shared(${WAITLIST_LOCK_SPACE}, ${show.show_id})`;
        await cancelsWithoutWaiting(app, session, other, second.body.booking_id);
        await cancel`commit`;
      } finally {
        await end();
      }
      expect(await activeBookings(app, show.show_id)).toEqual([]);
    });

    test("cancels of a show whose line holds only running offers do not wait for each other", async () => {
      const { show, people, held } = await firstSeatHeld(app, 3, 3);
      const [buyer, other, waiter] = people as [TestUser, TestUser, TestUser];
      const [second, third] = [
        await holdSeats(app, other, show.show_id, [show.seat_ids[1] as number]),
        await holdSeats(app, other, show.show_id, [show.seat_ids[2] as number]),
      ];
      expect([second.status, third.status]).toEqual([200, 200]);
      const joined = await joinWaitlist(app, waiter, show.show_id);
      expect(joined.status).toBe(201);
      // The waiter is offered the first seat: the line now holds one running offer.
      expect((await act(app, buyer, held.body.booking_id, "cancel")).status).toBe(200);
      const [entry] = await query<{ status: string }>(
        app,
        sql`select status::text as status from waitlist_entries where show_id = ${show.show_id}`,
      );
      expect(entry?.status).toBe("OFFERED");
      // A cancel in flight that holds the offer lock, as one making offers would.
      const secondSeat = show.seat_ids[1] as number;
      const { session, cancel, end } = await uncommittedCancel(
        app,
        second,
        show.show_id,
        secondSeat,
      );
      try {
        await cancel`select pg_advisory_xact_lock_shared(${WAITLIST_LOCK_SPACE}, ${show.show_id})`;
        await cancel`select pg_advisory_xact_lock(${OFFER_LOCK_SPACE}, ${show.show_id})`;
        await cancelsWithoutWaiting(app, session, other, third.body.booking_id);
        await cancel`commit`;
      } finally {
        await end();
      }
      // Only the waiter's offer is left, and the line still holds it.
      const active = await activeBookings(app, show.show_id);
      expect(active.map((booking) => booking.user_id)).toEqual([waiter.user_id]);
      const [after] = await query<{ status: string }>(
        app,
        sql`select status::text as status from waitlist_entries where show_id = ${show.show_id}`,
      );
      expect(after?.status).toBe("OFFERED");
    });

    test("a waitlist join waits for a cancel in flight and is told to hold the freed seat", async () => {
      const { show, people, seat, held } = await firstSeatHeld(app, 1, 2);
      const waiter = people[1] as TestUser;
      // A cancel that has freed the seat and looked at the show's waitlist, uncommitted.
      const { session, cancel, end } = await uncommittedCancel(app, held, show.show_id, seat);
      try {
        await cancel`select pg_advisory_xact_lock_shared(${WAITLIST_LOCK_SPACE}, ${show.show_id})`;
        const joining = joinWaitlist(app, waiter, show.show_id);
        await untilOneWaitsForALock(session, "the join");
        await cancel`commit`;
        expectError(await joining, 409, "NOT_SOLD_OUT");
      } finally {
        await end();
      }
    });
  });
});

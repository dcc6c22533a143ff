import { afterAll, beforeAll, expect, test } from "bun:test";
import type { SeatChange } from "../src/infra/seat-changes";
import { expireLapsedHolds } from "../src/jobs/cleanup";
import { createLogger } from "../src/lib/logger";
import { endBookings, settleEndedBookings } from "../src/modules/booking/booking-lifecycle";
import { expectError, ok } from "./support/answers";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdSeats,
  lapseHolds,
  payAndConfirm,
  registerUser,
  type ShowFixture,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, query, sql, type TestApp } from "./support/harness";
import { bookingInvariantViolations } from "./support/invariants";
import { describeEachBackend } from "./support/services";

const SETUP_TIMEOUT_MS = 60_000;
const FLOW_TIMEOUT_MS = 60_000;
const OFFER_TTL_SECONDS = 3;
const silent = createLogger("silent");

interface OfferRow {
  booking_id: number;
  user_id: number;
  status: string;
  seat_ids: number[];
  expires_at: Date | string;
  created_at: Date | string;
}

describeEachBackend("waitlist (%s)", (backend) => {
  let app: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    app = await createTestApp(backend, {
      WAITLIST_OFFER_TTL_SECONDS: String(OFFER_TTL_SECONDS),
    });
    adminToken = (await createAdmin(app)).token;
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app.close());

  const deps = () => ({ ...app.runtime.cleanup, logger: silent });

  const join = (user: TestUser | undefined, showId: number, body: unknown) =>
    app.request("POST", `/api/v1/shows/${showId}/waitlist`, { token: user?.token, body });
  const leave = (user: TestUser | undefined, showId: number) =>
    app.request("DELETE", `/api/v1/shows/${showId}/waitlist`, { token: user?.token });
  const notifications = (user: TestUser) =>
    app.request("GET", "/api/v1/user/notifications", { token: user.token });
  const cancel = (user: TestUser, bookingId: number) =>
    app.request("POST", `/api/v1/bookings/${bookingId}/cancel`, { token: user.token });

  /** A show whose every seat a buyer holds, one booking per seat: seat id → booking id. */
  async function soldOutShow(seats: number) {
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: seats });
    const buyer = await registerUser(app);
    const bookings = new Map<number, number>();
    for (const seatId of show.seat_ids) {
      bookings.set(seatId, ok(await holdSeats(app, buyer, show.show_id, [seatId])).booking_id);
    }
    return { show, buyer, bookings };
  }

  /** Bookings of these users on the show, with their seats. */
  async function offersOf(show: ShowFixture, users: TestUser[]): Promise<OfferRow[]> {
    const ids = users.map((user) => user.user_id);
    return query<OfferRow>(
      app,
      sql`select b.booking_id, b.user_id, b.status::text as status, b.expires_at, b.created_at,
            array(select seat_id from booking_seats bs where bs.booking_id = b.booking_id
                  order by seat_id) as seat_ids
          from bookings b
          where b.show_id = ${show.show_id} and b.user_id = any(${sql.param(ids)}::int[])
          order by b.booking_id`,
    );
  }

  async function entryStatus(show: ShowFixture, user: TestUser) {
    const rows = await query<{ status: string }>(
      app,
      sql`select status::text as status from waitlist_entries
          where show_id = ${show.show_id} and user_id = ${user.user_id}
          order by waitlist_entry_id desc limit 1`,
    );
    return rows[0]?.status;
  }

  test("join and leave: auth, validation, sold-out rule, idempotent re-join", async () => {
    const { show } = await soldOutShow(2);
    const open = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 3 });
    const [w1, w2] = [await registerUser(app), await registerUser(app)];

    expectError(await join(undefined, show.show_id, { seats_wanted: 1 }), 401, "UNAUTHENTICATED");
    expectError(await leave(undefined, show.show_id), 401, "UNAUTHENTICATED");
    expectError(await app.request("GET", "/api/v1/user/notifications"), 401, "UNAUTHENTICATED");
    expectError(await join(w1, 2_147_483_647, { seats_wanted: 1 }), 404, "NOT_FOUND");
    for (const body of [
      { seats_wanted: 0 },
      { seats_wanted: 11 },
      { seats_wanted: "2" },
      { seats_wanted: 1.5 },
    ]) {
      expectError(await join(w1, show.show_id, body), 400, "VALIDATION_ERROR");
    }
    // Three free seats: wanting up to three is "not sold out", wanting four may wait.
    const notSoldOut = await join(w1, open.show_id, { seats_wanted: 3 });
    expectError(notSoldOut, 409, "NOT_SOLD_OUT");
    expect(notSoldOut.body.details).toEqual({ free_seats: 3 });
    ok(await join(w1, open.show_id, { seats_wanted: 4 }), 201);

    const first = ok(await join(w1, show.show_id, { seats_wanted: 2 }), 201).entry;
    expect(first).toMatchObject({
      show_id: show.show_id,
      seats_wanted: 2,
      status: "WAITING",
      position: 1,
      booking_id: null,
    });
    const again = ok(await join(w1, show.show_id, { seats_wanted: 1 }), 200).entry;
    expect(again.waitlist_entry_id).toBe(first.waitlist_entry_id);
    expect(again.seats_wanted).toBe(2);
    // The contract's join has no body: one seat is wanted.
    const second = ok(await join(w2, show.show_id, undefined), 201).entry;
    expect(second).toMatchObject({ position: 2, seats_wanted: 1 });

    expect((await leave(w1, show.show_id)).status).toBe(204);
    expectError(await leave(w1, show.show_id), 404, "NOT_FOUND");
    // w2 moved up; w1 re-joins at the back of the line with a new entry.
    expect(ok(await join(w2, show.show_id, { seats_wanted: 1 })).entry.position).toBe(1);
    const back = ok(await join(w1, show.show_id, {}), 201).entry;
    expect(back.seats_wanted).toBe(1);
    expect(back.waitlist_entry_id).not.toBe(first.waitlist_entry_id);
    expect(back.position).toBe(2);

    const doc = ok(await app.request("GET", "/api/v1/openapi.json"));
    expect(doc.paths["/api/v1/shows/{show_id}/waitlist"]).toHaveProperty("post");
    expect(doc.paths["/api/v1/shows/{show_id}/waitlist"]).toHaveProperty("delete");
    expect(doc.paths["/api/v1/user/notifications"]).toHaveProperty("get");
  });

  test(
    "freed seats are offered FIFO; a lapsed offer goes to the next in line, then to general sale",
    async () => {
      const { show, buyer, bookings } = await soldOutShow(4);
      const [s1, s2, s3] = show.seat_ids as [number, number, number];
      const w1 = await registerUser(app);
      const w2 = await registerUser(app);
      const w3 = await registerUser(app);
      const shopper = await registerUser(app);
      for (const user of [w1, w2, w3]) {
        ok(await join(user, show.show_id, { seats_wanted: 1 }), 201);
      }

      // A cancellation frees s2: only W1, the head of the line, gets it.
      ok(await cancel(buyer, bookings.get(s2) as number));
      let offers = await offersOf(show, [w1, w2, w3]);
      expect(
        offers.map(({ user_id, status, seat_ids }) => ({ user_id, status, seat_ids })),
      ).toEqual([{ user_id: w1.user_id, status: "PENDING", seat_ids: [s2] }]);
      const w1Offer = offers[0] as OfferRow;
      const ttlMs = new Date(w1Offer.expires_at).getTime() - new Date(w1Offer.created_at).getTime();
      expect(Math.round(ttlMs / 1000)).toBe(OFFER_TTL_SECONDS);
      const w1Notes = ok(await notifications(w1)).notifications;
      expect(w1Notes).toHaveLength(1);
      expect(w1Notes[0]).toMatchObject({
        kind: "WAITLIST_OFFER",
        read_at: null,
        payload: {
          booking_id: w1Offer.booking_id,
          show_id: show.show_id,
          seat_ids: [s2],
          expires_at: new Date(w1Offer.expires_at).toISOString(),
        },
      });
      expect(ok(await notifications(w2)).notifications).toEqual([]);
      expect(ok(await notifications(w3)).notifications).toEqual([]);
      expect(await entryStatus(show, w1)).toBe("OFFERED");
      // The offered seat is not on general sale.
      expectError(await holdSeats(app, shopper, show.show_id, [s2]), 409, "SEAT_UNAVAILABLE");

      // The next freed seat goes to W2; W3 still waits.
      ok(await cancel(buyer, bookings.get(s3) as number));
      offers = await offersOf(show, [w1, w2, w3]);
      expect(offers.map(({ user_id, seat_ids }) => ({ user_id, seat_ids }))).toEqual([
        { user_id: w1.user_id, seat_ids: [s2] },
        { user_id: w2.user_id, seat_ids: [s3] },
      ]);
      expect(ok(await notifications(w2)).notifications).toHaveLength(1);
      expect(ok(await notifications(w3)).notifications).toEqual([]);
      expect(await entryStatus(show, w3)).toBe("WAITING");

      // W2 takes its offer: pays and confirms within the offer's lifetime.
      const w2Offer = offers[1] as OfferRow;
      await payAndConfirm(app, w2, { booking_id: w2Offer.booking_id, amount: show.price });

      // W1 lets its offer lapse: the cleanup expires it and s2 goes to W3, not to general sale.
      await Bun.sleep(Math.max(new Date(w1Offer.expires_at).getTime() - Date.now(), 0) + 300);
      await expireLapsedHolds(deps());
      offers = await offersOf(show, [w1, w2, w3]);
      expect(
        offers.map(({ user_id, status, seat_ids }) => ({ user_id, status, seat_ids })),
      ).toEqual([
        { user_id: w1.user_id, status: "EXPIRED", seat_ids: [s2] },
        { user_id: w2.user_id, status: "CONFIRMED", seat_ids: [s3] },
        { user_id: w3.user_id, status: "PENDING", seat_ids: [s2] },
      ]);
      expect(await entryStatus(show, w1)).toBe("EXPIRED");
      expect(await entryStatus(show, w2)).toBe("FULFILLED");
      expect(await entryStatus(show, w3)).toBe("OFFERED");
      const w3Notes = ok(await notifications(w3)).notifications;
      expect(
        w3Notes.map((note: { payload: { seat_ids: number[] } }) => note.payload.seat_ids),
      ).toEqual([[s2]]);
      expectError(await holdSeats(app, shopper, show.show_id, [s2]), 409, "SEAT_UNAVAILABLE");

      // W3 lets it lapse too: the list is exhausted, s2 is back on general sale.
      const w3Offer = offers[2] as OfferRow;
      await Bun.sleep(Math.max(new Date(w3Offer.expires_at).getTime() - Date.now(), 0) + 300);
      await expireLapsedHolds(deps());
      expect(await entryStatus(show, w3)).toBe("EXPIRED");
      ok(await holdSeats(app, shopper, show.show_id, [s2]));
      // Nobody was offered s1 (never freed), and no one got a second offer.
      expect(ok(await notifications(w1)).notifications).toHaveLength(1);
      expect(ok(await notifications(w3)).notifications).toHaveLength(1);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
      expect(s1).toBeGreaterThan(0);
    },
    FLOW_TIMEOUT_MS,
  );

  test("a lapsed hold's seat goes to the waitlist, not to the general hold that found it", async () => {
    const { show, bookings } = await soldOutShow(2);
    const [waiter, passerBy] = (await createUsersDirect(app, 2)) as [TestUser, TestUser];
    expect((await join(waiter, show.show_id, { seats_wanted: 1 })).status).toBe(201);

    // The buyer's hold on the first seat runs out (and its Redis lock with it).
    const seatId = show.seat_ids[0] as number;
    const lapsedBooking = bookings.get(seatId) as number;
    const [lockToken] = await lapseHolds(app, [lapsedBooking]);
    await app.runtime.shared.locks.release(show.show_id, [seatId], lockToken as string);

    const refused = await holdSeats(app, passerBy, show.show_id, [seatId]);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("SEAT_UNAVAILABLE");
    expect(refused.body.details.failed_seats).toEqual([seatId]);

    const [expired] = await query<{ status: string }>(
      app,
      sql`select status::text as status from bookings where booking_id = ${lapsedBooking}`,
    );
    expect(expired?.status).toBe("EXPIRED");
    const offers = await offersOf(show, [waiter, passerBy]);
    expect(offers.map((offer) => [offer.user_id, offer.status, offer.seat_ids])).toEqual([
      [waiter.user_id, "PENDING", [seatId]],
    ]);
  });

  test("a cancelled seat is the waitlist's at the commit: no general hold gets in first", async () => {
    const { show, bookings } = await soldOutShow(2);
    const [waiter, passerBy] = (await createUsersDirect(app, 2)) as [TestUser, TestUser];
    ok(await join(waiter, show.show_id, { seats_wanted: 1 }), 201);
    const seatId = show.seat_ids[0] as number;
    const { shared, services } = app.runtime;
    // What the booking module runs after a commit, wired as the API wires it.
    const cleanup = {
      locks: shared.locks,
      logger: silent,
      metrics: services.metrics,
      seatsChanged: (change: SeatChange) => services.seatChanges.announce(change),
    };

    // The cancel's transaction commits; nothing after the commit has run yet.
    const endings = await shared.database.db.transaction((tx) =>
      endBookings(tx, [bookings.get(seatId) as number], "CANCELLED", {
        by: null,
        waitlist: { ttlSeconds: OFFER_TTL_SECONDS, seatLimit: 10, logger: silent },
      }),
    );
    // Even with the cancelled booking's Redis lock gone, the seat is not on general sale.
    const [ended] = endings.ended;
    await cleanup.locks.release(show.show_id, [seatId], ended?.lock_token as string);
    const refused = await holdSeats(app, passerBy, show.show_id, [seatId]);
    expectError(refused, 409, "SEAT_UNAVAILABLE");
    expect(refused.body.details.failed_seats).toEqual([seatId]);
    expect(await entryStatus(show, waiter)).toBe("OFFERED");

    await settleEndedBookings(endings, cleanup);
    const offers = await offersOf(show, [waiter, passerBy]);
    expect(offers.map((offer) => [offer.user_id, offer.status, offer.seat_ids])).toEqual([
      [waiter.user_id, "PENDING", [seatId]],
    ]);
    // Settling locked the offered seat in Redis under the offer's booking.
    const locks = await cleanup.locks.snapshot(show.show_id);
    const [offer] = await query<{ lock_token: string }>(
      app,
      sql`select lock_token::text as lock_token from bookings
          where booking_id = ${offers[0]?.booking_id as number}`,
    );
    expect(locks.get(seatId)).toBe(offer?.lock_token as string);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("concurrent cancels: every freed seat goes to the line once, FIFO", async () => {
    const { show, buyer, bookings } = await soldOutShow(4);
    const waiters = (await createUsersDirect(app, 4)) as TestUser[];
    for (const waiter of waiters) {
      ok(await join(waiter, show.show_id, { seats_wanted: 1 }), 201);
    }
    const freed = show.seat_ids.slice(0, 3);
    const cancels = await Promise.all(
      freed.map((seatId) => cancel(buyer, bookings.get(seatId) as number)),
    );
    for (const answer of cancels) ok(answer);

    const offers = await offersOf(show, waiters);
    // The first three in line got one seat each; together, exactly the freed seats.
    expect(offers.map((offer) => offer.user_id).sort()).toEqual(
      waiters
        .slice(0, 3)
        .map((waiter) => waiter.user_id)
        .sort(),
    );
    expect(offers.flatMap((offer) => offer.seat_ids).sort()).toEqual([...freed].sort());
    const [counts] = await query<{ notes: number; offered: number }>(
      app,
      sql`select
            (select count(*)::int from notifications
              where user_id = any(${sql.param(waiters.map((w) => w.user_id))}::int[])) as notes,
            (select count(*)::int from waitlist_entries
              where show_id = ${show.show_id} and status = 'OFFERED') as offered`,
    );
    expect(counts).toEqual({ notes: 3, offered: 3 });
    expect(await entryStatus(show, waiters[3] as TestUser)).toBe("WAITING");
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("deleting a show with ?force=true closes its waitlist and offers nothing", async () => {
    const { show, bookings } = await soldOutShow(2);
    const [waiter] = (await createUsersDirect(app, 1)) as [TestUser];
    ok(await join(waiter, show.show_id, { seats_wanted: 1 }), 201);
    const deleted = await app.request("DELETE", `/api/v1/admin/shows/${show.show_id}?force=true`, {
      token: adminToken,
    });
    expect(deleted.status).toBe(204);
    expect(await entryStatus(show, waiter)).toBe("EXPIRED");
    expect(await offersOf(show, [waiter])).toEqual([]);
    expect(ok(await notifications(waiter)).notifications).toEqual([]);
    const ended = await query<{ status: string }>(
      app,
      sql`select status::text as status from bookings
          where booking_id = any(${sql.param([...bookings.values()])}::int[])`,
    );
    expect(ended.map((row) => row.status)).toEqual(["CANCELLED", "CANCELLED"]);
    // Once deleted, the show's waitlist cannot be joined again.
    expect((await join(waiter, show.show_id, { seats_wanted: 1 })).status).toBe(404);
  });

  test("GET /user/notifications lists only the caller's, newest first", async () => {
    const first = await soldOutShow(1);
    const second = await soldOutShow(1);
    const waiter = await registerUser(app);
    const other = await registerUser(app);
    ok(await join(waiter, first.show.show_id, { seats_wanted: 1 }), 201);
    ok(await join(waiter, second.show.show_id, { seats_wanted: 1 }), 201);
    ok(await cancel(first.buyer, first.bookings.get(first.show.seat_ids[0] as number) as number));
    ok(
      await cancel(second.buyer, second.bookings.get(second.show.seat_ids[0] as number) as number),
    );
    const page = ok(await notifications(waiter));
    expect(page.total).toBe(2);
    expect(
      page.notifications.map((note: { payload: { show_id: number } }) => note.payload.show_id),
    ).toEqual([second.show.show_id, first.show.show_id]);
    expect(ok(await notifications(other)).notifications).toEqual([]);
  });

  const threeUsers = async () =>
    (await createUsersDirect(app, 3)) as [TestUser, TestUser, TestUser];

  /** The effective status of the show's seats, as the public seat map shows them. */
  async function seatMap(show: ShowFixture): Promise<Record<number, string>> {
    const map = ok(await app.request("GET", `/api/v1/shows/${show.show_id}/seats`));
    return Object.fromEntries(
      map.seats.map((seat: { seat_id: number; status: string }) => [seat.seat_id, seat.status]),
    );
  }

  test("an offer holds only seats freed for the line, never seats on open sale", async () => {
    // Three seats, two of them held: one free seat, so a join for two is allowed.
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 3 });
    const [s1, s2, s3] = show.seat_ids as [number, number, number];
    const [buyer, waiter, shopper] = await threeUsers();
    const first = ok(await holdSeats(app, buyer, show.show_id, [s1]));
    const second = ok(await holdSeats(app, buyer, show.show_id, [s2]));
    ok(await join(waiter, show.show_id, { seats_wanted: 2 }), 201);

    // One seat freed: it is owed to the line and waits there, off sale, for a second one.
    ok(await cancel(buyer, first.booking_id));
    expect(await offersOf(show, [waiter])).toEqual([]);
    expect(await seatMap(show)).toEqual({ [s1]: "LOCKED", [s2]: "LOCKED", [s3]: "AVAILABLE" });
    const refused = await holdSeats(app, shopper, show.show_id, [s1]);
    expectError(refused, 409, "SEAT_UNAVAILABLE");
    expect(refused.body.details.failed_seats).toEqual([s1]);
    // The seat that was on open sale stays there.
    ok(await holdSeats(app, shopper, show.show_id, [s3]));
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);

    // The second freed seat completes the offer: the two freed seats, nothing else.
    ok(await cancel(buyer, second.booking_id));
    const offers = await offersOf(show, [waiter, shopper]);
    expect(offers.map(({ user_id, status, seat_ids }) => [user_id, status, seat_ids])).toEqual([
      [shopper.user_id, "PENDING", [s3]],
      [waiter.user_id, "PENDING", [s1, s2]],
    ]);
    expect(await entryStatus(show, waiter)).toBe("OFFERED");
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("owed seats: a declined offer passes them on, and an empty line returns them to sale", async () => {
    const { show, buyer, bookings } = await soldOutShow(3);
    const [s1, s2] = show.seat_ids as [number, number];
    const [first, next, shopper] = await threeUsers();
    ok(await join(first, show.show_id, { seats_wanted: 2 }), 201);
    ok(await join(next, show.show_id, { seats_wanted: 1 }), 201);
    ok(await cancel(buyer, bookings.get(s1) as number));
    ok(await cancel(buyer, bookings.get(s2) as number));
    const [offer] = await offersOf(show, [first]);
    expect(offer?.seat_ids).toEqual([s1, s2]);

    // The head declines: the next in line gets the one seat it wants; nobody waits any more,
    // so the other returns to open sale.
    ok(await cancel(first, offer?.booking_id as number));
    const offers = await offersOf(show, [next]);
    expect(offers.map(({ status, seat_ids }) => [status, seat_ids])).toEqual([["PENDING", [s1]]]);
    expect(await seatMap(show)).toMatchObject({ [s1]: "LOCKED", [s2]: "AVAILABLE" });
    ok(await holdSeats(app, shopper, show.show_id, [s2]));
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("owed seats go on down the line, or back on sale, when the head of the line leaves", async () => {
    const { show, buyer, bookings } = await soldOutShow(3);
    const [s1] = show.seat_ids as [number];
    const [head, behind, shopper] = await threeUsers();
    ok(await join(head, show.show_id, { seats_wanted: 3 }), 201);
    ok(await join(behind, show.show_id, { seats_wanted: 2 }), 201);
    ok(await cancel(buyer, bookings.get(s1) as number));
    expect(await seatMap(show)).toMatchObject({ [s1]: "LOCKED" });

    // The head leaves: the one owed seat is not enough for the next (two wanted): still owed.
    expect((await leave(head, show.show_id)).status).toBe(204);
    expectError(await holdSeats(app, shopper, show.show_id, [s1]), 409, "SEAT_UNAVAILABLE");
    // The last one leaves too: nobody waits, the seat is back on sale.
    expect((await leave(behind, show.show_id)).status).toBe(204);
    expect(await seatMap(show)).toMatchObject({ [s1]: "AVAILABLE" });
    ok(await holdSeats(app, shopper, show.show_id, [s1]));
    expect(await offersOf(show, [head, behind])).toEqual([]);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("an offer that would take its user past the seat limit goes to the next in line", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 13 });
    const ids = show.seat_ids;
    const [buyer, waiter, next] = await threeUsers();
    const first = ok(await holdSeats(app, buyer, show.show_id, ids.slice(0, 1)));
    const second = ok(await holdSeats(app, buyer, show.show_id, ids.slice(1, 2)));
    ok(await holdSeats(app, buyer, show.show_id, ids.slice(10, 12)));
    ok(await holdSeats(app, waiter, show.show_id, ids.slice(2, 10)));
    // Eight seats held, one free: the waiter may wait for two.
    ok(await join(waiter, show.show_id, { seats_wanted: 2 }), 201);
    // The waiter takes the free seat: nine held, two more would pass the limit of ten.
    ok(await holdSeats(app, waiter, show.show_id, ids.slice(12, 13)));
    ok(await join(next, show.show_id, { seats_wanted: 1 }), 201);

    ok(await cancel(buyer, first.booking_id));
    ok(await cancel(buyer, second.booking_id));
    expect(await entryStatus(show, waiter)).toBe("EXPIRED");
    const notes = ok(await notifications(waiter)).notifications;
    expect(
      notes.map((note: { kind: string; payload: unknown }) => [note.kind, note.payload]),
    ).toEqual([["WAITLIST_SEAT_LIMIT", { show_id: show.show_id, seats_wanted: 2, remaining: 1 }]]);
    const offers = await offersOf(show, [next]);
    expect(offers.map(({ status, seat_ids }) => [status, seat_ids])).toEqual([
      ["PENDING", [ids[0] as number]],
    ]);
    // Nobody waits any more: the other freed seat is back on open sale.
    expect(await seatMap(show)).toMatchObject({ [ids[1] as number]: "AVAILABLE" });
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("joining for more seats than the caller's seat limit leaves is refused", async () => {
    const { show } = await soldOutShow(2);
    const open = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 10 });
    const [waiter] = (await createUsersDirect(app, 1)) as [TestUser];
    // Nine seats of the other show count nowhere here; eight of this one leave two.
    ok(await holdSeats(app, waiter, open.show_id, open.seat_ids.slice(0, 8)));
    ok(await join(waiter, show.show_id, { seats_wanted: 10 }), 201);
    expect((await leave(waiter, show.show_id)).status).toBe(204);
    const full = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 9 });
    ok(await holdSeats(app, waiter, full.show_id, full.seat_ids.slice(0, 8)));
    const refused = await join(waiter, full.show_id, { seats_wanted: 3 });
    expectError(refused, 409, "SEAT_LIMIT");
    expect(refused.body.details).toEqual({ remaining: 2, limit: 10 });
  });
});

describeEachBackend("waitlist behind the waiting room (%s)", (backend) => {
  let app: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    app = await createTestApp(backend, { WAITING_ROOM_ENABLED: "1", WAITING_ROOM_THRESHOLD: "1" });
    adminToken = (await createAdmin(app)).token;
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app.close());

  test("a caller the waiting room holds back cannot join the waitlist either", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 1 });
    const [admitted, queued] = (await createUsersDirect(app, 2)) as [TestUser, TestUser];
    // The one admitted place goes to the buyer of the only seat.
    ok(await holdSeats(app, admitted, show.show_id, show.seat_ids));
    const refused = await app.request("POST", `/api/v1/shows/${show.show_id}/waitlist`, {
      token: queued.token,
      body: { seats_wanted: 1 },
    });
    expectError(refused, 429, "WAITING_ROOM");
    expect(refused.body.details.position).toBe(1);
    const [entries] = await query<{ entries: number }>(
      app,
      sql`select count(*)::int as entries from waitlist_entries where show_id = ${show.show_id}`,
    );
    expect(entries?.entries).toBe(0);
  });
});

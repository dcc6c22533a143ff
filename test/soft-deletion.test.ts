import { afterAll, beforeAll, expect, test } from "bun:test";
import { pgErrorCode } from "../src/db/errors";
import { expectError, ok } from "./support/answers";
import {
  createAdmin,
  createShowFixture,
  holdSeats,
  payAndConfirm,
  registerUser,
  type ShowFixture,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, query, sql, type TestApp } from "./support/harness";
import { describeEachBackend } from "./support/services";

/**
 * Every admin deletion path (show, forced or not; event; venue; seats removed from a layout)
 * keeps the money trail (bookings, their seats, payments and refunds, checked in SQL), the
 * buyer's history and the analytics, while the deleted object leaves browsing and search and
 * its id answers 404.
 */

const SETUP_TIMEOUT_MS = 60_000;
const ADMIN = "/api/v1/admin";
const DAY = 86_400_000;
/** ON DELETE RESTRICT refuses with restrict_violation, NO ACTION with foreign_key_violation. */
const REFUSED_BY_A_FOREIGN_KEY = ["23001", "23503"];

/** The money trail, as one comparable string: every row of the three tables, every column. */
async function trail(app: TestApp): Promise<string> {
  const [row] = await query<Record<string, unknown>>(
    app,
    sql`select
      (select coalesce(json_agg(t order by t.booking_id), '[]'::json)::text from bookings t)
        as bookings,
      (select coalesce(json_agg(t order by t.booking_id, t.seat_id), '[]'::json)::text
         from booking_seats t) as booking_seats,
      (select coalesce(json_agg(t order by t.payment_id), '[]'::json)::text from payments t)
        as payments`,
  );
  return JSON.stringify(row);
}

const trailCounts = (app: TestApp) =>
  query(
    app,
    sql`select (select count(*)::int from bookings) as bookings,
          (select count(*)::int from booking_seats) as booking_seats,
          (select count(*)::int from payments) as payments`,
  );

describeEachBackend("soft deletion on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let buyer: TestUser;
  /** A fixed range around now, so two analytics reports of one test cover the same bookings. */
  const range = {
    from: new Date(Date.now() - DAY).toISOString(),
    to: new Date(Date.now() + DAY).toISOString(),
  };

  beforeAll(async () => {
    app = await createTestApp(backend);
    admin = await createAdmin(app);
    buyer = await registerUser(app);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await app?.close();
  });

  const adminRequest = (method: string, path: string, body?: unknown) =>
    app.request(method, path, { token: admin.token, body });

  /** The report's sections drawn from bookings (capacity is the seats on sale now). */
  async function bookingAnalytics() {
    const query = new URLSearchParams(range).toString();
    const { capacity_utilization: _capacity, ...report } = ok(
      await adminRequest("GET", `${ADMIN}/analytics?${query}`),
    );
    return report;
  }

  async function hold(showId: number, seatIds: number[], user = buyer) {
    return ok(await holdSeats(app, user, showId, seatIds)) as {
      booking_id: number;
      amount: number;
    };
  }

  /**
   * Bookings that have ended, through the API: one paid, confirmed, then cancelled (its payment
   * REFUNDED), one whose payment was declined, then cancelled. Nothing active is left.
   */
  async function endedHistory(fixture: ShowFixture): Promise<number[]> {
    const [first, second] = fixture.seat_ids as [number, number];
    const refunded = await hold(fixture.show_id, [first]);
    await payAndConfirm(app, buyer, refunded);
    const declined = await hold(fixture.show_id, [second]);
    expectError(
      await app.request("POST", "/api/v1/bookings/payments/simulate", {
        token: buyer.token,
        body: { booking_id: declined.booking_id, amount: declined.amount, outcome: "decline" },
      }),
      402,
      "PAYMENT_FAILED",
    );
    for (const booking of [refunded, declined]) {
      ok(
        await app.request("POST", `/api/v1/bookings/${booking.booking_id}/cancel`, {
          token: buyer.token,
          body: {},
        }),
      );
    }
    const [counts] = await query<{ bookings: number; refunds: number; declines: number }>(
      app,
      sql`select count(distinct b.booking_id)::int as bookings,
            count(*) filter (where p.status = 'REFUNDED')::int as refunds,
            count(*) filter (where p.status = 'DECLINED')::int as declines
          from bookings b left join payments p on p.booking_id = b.booking_id
          where b.show_id = ${fixture.show_id}`,
    );
    expect(counts).toEqual({ bookings: 2, refunds: 1, declines: 1 });
    return [refunded.booking_id, declined.booking_id];
  }

  /** The buyer's history and single-booking reads show the show as deleted, title and time kept. */
  async function expectHistoryOfDeletedShow(fixture: ShowFixture, bookingIds: number[]) {
    const [show] = await query<{ title: string; start_time: Date | string }>(
      app,
      sql`select e.title, sh.start_time from shows sh join events e on e.event_id = sh.event_id
          where sh.show_id = ${fixture.show_id}`,
    );
    const expected = {
      show_id: fixture.show_id,
      deleted: true,
      start_time: new Date(show?.start_time as string).toISOString(),
      event: expect.objectContaining({ title: show?.title }),
    };
    const history = ok(
      await app.request("GET", "/api/v1/user/bookings?limit=100", { token: buyer.token }),
    );
    const listed = history.bookings.filter((booking: { booking_id: number }) =>
      bookingIds.includes(booking.booking_id),
    );
    expect(listed).toHaveLength(bookingIds.length);
    for (const booking of listed) expect(booking.show).toMatchObject(expected);
    for (const bookingId of bookingIds) {
      const read = ok(
        await app.request("GET", `/api/v1/bookings/${bookingId}`, { token: buyer.token }),
      );
      expect(read.booking.show).toMatchObject(expected);
    }
  }

  /** Every public route of the show answers 404; browsing, search and events skip it. */
  async function expectShowGone(fixture: ShowFixture, title: string) {
    const id = fixture.show_id;
    for (const path of [`/api/v1/shows/${id}`, `/api/v1/shows/${id}/seats`]) {
      expectError(await app.request("GET", path), 404, "NOT_FOUND");
    }
    expect((await app.request("GET", `/api/v1/shows/${id}/seats/stream`)).status).toBe(404);
    expectError(
      await app.request("POST", `/api/v1/shows/${id}/waitlist`, {
        token: buyer.token,
        body: { seats_wanted: 1 },
      }),
      404,
      "NOT_FOUND",
    );
    expectError(
      await holdSeats(app, buyer, id, [fixture.seat_ids.at(-1) as number]),
      404,
      "NOT_FOUND",
    );
    expectError(await adminRequest("PUT", `${ADMIN}/shows/${id}`, { price: 1 }), 404, "NOT_FOUND");
    expectError(await adminRequest("DELETE", `${ADMIN}/shows/${id}?force=true`), 404, "NOT_FOUND");
    const showIds = (body: { shows: { show_id: number }[] }) =>
      body.shows.map((show) => show.show_id);
    expect(showIds(ok(await app.request("GET", "/api/v1/shows?limit=100")))).not.toContain(id);
    const search = ok(
      await app.request("GET", `/api/v1/shows/search?event=${encodeURIComponent(title)}`),
    );
    expect(search.shows).toEqual([]);
    const events = ok(await app.request("GET", "/api/v1/events?limit=100")).events as {
      shows: { show_id: number }[];
    }[];
    expect(events.flatMap((event) => event.shows.map((show) => show.show_id))).not.toContain(id);
  }

  const titleOf = async (eventId: number) =>
    (
      await query<{ title: string }>(app, sql`select title from events where event_id = ${eventId}`)
    )[0]?.title as string;

  test("a show without active bookings: marked deleted, its trail, history and analytics kept", async () => {
    const fixture = await createShowFixture(app, admin.token);
    const bookingIds = await endedHistory(fixture);
    const title = await titleOf(fixture.event_id);
    const [trailBefore, analyticsBefore] = [await trail(app), await bookingAnalytics()];

    expect((await adminRequest("DELETE", `${ADMIN}/shows/${fixture.show_id}`)).status).toBe(204);

    expect(await trail(app)).toBe(trailBefore);
    expect(await bookingAnalytics()).toEqual(analyticsBefore);
    await expectShowGone(fixture, title);
    await expectHistoryOfDeletedShow(fixture, bookingIds);
    // The event stays listed (without the show): only the show was deleted.
    ok(await app.request("GET", `/api/v1/events/${fixture.event_id}`));
  });

  test("a show with active bookings: 409, then ?force=true cancels and refunds them and loses no row", async () => {
    const fixture = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 4 });
    const ended = await endedHistory(fixture);
    const [, , third, fourth] = fixture.seat_ids as [number, number, number, number];
    const paid = await hold(fixture.show_id, [fixture.seat_ids[0] as number, third]);
    await payAndConfirm(app, buyer, paid);
    const pending = await hold(fixture.show_id, [fixture.seat_ids[1] as number, fourth]);
    // Sold out: somebody waits in line.
    const waiter = await registerUser(app);
    ok(
      await app.request("POST", `/api/v1/shows/${fixture.show_id}/waitlist`, {
        token: waiter.token,
        body: { seats_wanted: 1 },
      }),
      201,
    );

    const trailBefore = await trail(app);
    expectError(await adminRequest("DELETE", `${ADMIN}/shows/${fixture.show_id}`), 409, "CONFLICT");
    expect(await trail(app)).toBe(trailBefore);

    const analyticsBefore = await bookingAnalytics();
    const countsBefore = await trailCounts(app);
    expect(
      (await adminRequest("DELETE", `${ADMIN}/shows/${fixture.show_id}?force=true`)).status,
    ).toBe(204);

    expect(await trailCounts(app)).toEqual(countsBefore);
    const rows = await query<{ booking_id: number; status: string; payments: string[] }>(
      app,
      sql`select b.booking_id, b.status::text as status,
            coalesce(array_agg(p.status::text order by p.payment_id)
              filter (where p.payment_id is not null), '{}') as payments
          from bookings b left join payments p on p.booking_id = b.booking_id
          where b.show_id = ${fixture.show_id} group by b.booking_id order by b.booking_id`,
    );
    expect(rows).toEqual([
      { booking_id: ended[0] as number, status: "CANCELLED", payments: ["REFUNDED"] },
      { booking_id: ended[1] as number, status: "CANCELLED", payments: ["DECLINED"] },
      { booking_id: paid.booking_id, status: "CANCELLED", payments: ["REFUNDED"] },
      { booking_id: pending.booking_id, status: "CANCELLED", payments: [] },
    ]);
    // The ended bookings' rows did not change at all.
    const endedRows = (text: string) => {
      const { bookings, payments } = JSON.parse(text) as Record<string, string>;
      const keep = (list: { booking_id: number }[]) =>
        list.filter((row) => ended.includes(row.booking_id));
      return [keep(JSON.parse(bookings as string)), keep(JSON.parse(payments as string))];
    };
    expect(endedRows(await trail(app))).toEqual(endedRows(trailBefore));
    // Analytics count the same bookings: the two active ones moved to CANCELLED.
    const analyticsAfter = await bookingAnalytics();
    const byStatus = analyticsBefore.totals.bookings_by_status;
    expect(analyticsAfter.totals.bookings_by_status).toEqual({
      ...byStatus,
      PENDING: byStatus.PENDING - 1,
      CONFIRMED: byStatus.CONFIRMED - 1,
      CANCELLED: byStatus.CANCELLED + 2,
    });
    expect(analyticsAfter.totals.revenue).toBeCloseTo(
      analyticsBefore.totals.revenue - paid.amount,
      2,
    );
    const [line] = await query<{ status: string }>(
      app,
      sql`select status::text as status from waitlist_entries where user_id = ${waiter.user_id}`,
    );
    expect(line?.status).toBe("EXPIRED");
    await expectShowGone(fixture, await titleOf(fixture.event_id));
    await expectHistoryOfDeletedShow(fixture, [...ended, paid.booking_id, pending.booking_id]);
  });

  test("an event: it and its shows marked deleted, trail and analytics kept, its title free again", async () => {
    const fixture = await createShowFixture(app, admin.token);
    const bookingIds = await endedHistory(fixture);
    const title = await titleOf(fixture.event_id);
    const [trailBefore, analyticsBefore] = [await trail(app), await bookingAnalytics()];

    expect((await adminRequest("DELETE", `${ADMIN}/events/${fixture.event_id}`)).status).toBe(204);

    expect(await trail(app)).toBe(trailBefore);
    expect(await bookingAnalytics()).toEqual(analyticsBefore);
    const [marked] = await query(
      app,
      sql`select (e.deleted_at is not null) as event, (sh.deleted_at is not null) as show
          from events e join shows sh on sh.event_id = e.event_id
          where e.event_id = ${fixture.event_id}`,
    );
    expect(marked).toEqual({ event: true, show: true });
    expectError(await app.request("GET", `/api/v1/events/${fixture.event_id}`), 404, "NOT_FOUND");
    expectError(
      await adminRequest("PUT", `${ADMIN}/events/${fixture.event_id}`, { title: "Back" }),
      404,
      "NOT_FOUND",
    );
    expectError(
      await adminRequest("DELETE", `${ADMIN}/events/${fixture.event_id}`),
      404,
      "NOT_FOUND",
    );
    const listed = ok(await app.request("GET", "/api/v1/events?limit=100")).events as {
      event_id: number;
    }[];
    expect(listed.map((event) => event.event_id)).not.toContain(fixture.event_id);
    await expectShowGone(fixture, title);
    await expectHistoryOfDeletedShow(fixture, bookingIds);

    const again = ok(await adminRequest("POST", `${ADMIN}/events`, { title }), 201).event;
    expect(again.event_id).not.toBe(fixture.event_id);
    ok(await app.request("GET", `/api/v1/events/${again.event_id}`));
  });

  test("a venue: 409 while it has a show; after the show, marked deleted, trail kept, its name free again", async () => {
    const fixture = await createShowFixture(app, admin.token);
    const bookingIds = await endedHistory(fixture);
    expectError(
      await adminRequest("DELETE", `${ADMIN}/venues/${fixture.venue_id}`),
      409,
      "CONFLICT",
    );
    expect((await adminRequest("DELETE", `${ADMIN}/shows/${fixture.show_id}`)).status).toBe(204);
    const [trailBefore, analyticsBefore] = [await trail(app), await bookingAnalytics()];
    const [venue] = await query<{ venue_name: string }>(
      app,
      sql`select venue_name from venues where venue_id = ${fixture.venue_id}`,
    );

    expect((await adminRequest("DELETE", `${ADMIN}/venues/${fixture.venue_id}`)).status).toBe(204);

    expect(await trail(app)).toBe(trailBefore);
    expect(await bookingAnalytics()).toEqual(analyticsBefore);
    const [kept] = await query(
      app,
      sql`select (deleted_at is not null) as deleted,
            (select count(*)::int from seats where venue_id = ${fixture.venue_id}) as seats
          from venues where venue_id = ${fixture.venue_id}`,
    );
    expect(kept).toEqual({ deleted: true, seats: fixture.seat_ids.length });
    for (const [method, path, body] of [
      ["GET", `${ADMIN}/venues/${fixture.venue_id}`, undefined],
      ["PUT", `${ADMIN}/venues/${fixture.venue_id}`, { address: "elsewhere" }],
      ["DELETE", `${ADMIN}/venues/${fixture.venue_id}`, undefined],
      [
        "POST",
        `${ADMIN}/venues/${fixture.venue_id}/seats`,
        { rows: [{ seat_row: "Z", count: 1 }] },
      ],
    ] as const) {
      expectError(await adminRequest(method, path, body), 404, "NOT_FOUND");
    }
    const venues = ok(await adminRequest("GET", `${ADMIN}/venues`)).venues as {
      venue_id: number;
    }[];
    expect(venues.map((row) => row.venue_id)).not.toContain(fixture.venue_id);
    // The buyer still sees where the show was.
    const read = ok(
      await app.request("GET", `/api/v1/bookings/${bookingIds[0]}`, { token: buyer.token }),
    );
    expect(read.booking.show.venue.venue_name).toBe(venue?.venue_name);

    const again = ok(
      await adminRequest("POST", `${ADMIN}/venues`, {
        venue_name: venue?.venue_name,
        address: "1 Test Street",
      }),
      201,
    ).venue;
    expect(again.venue_id).not.toBe(fixture.venue_id);
  });

  test("seats removed from a layout: marked removed, booked ones still named by their bookings, places reusable", async () => {
    const fixture = await createShowFixture(app, admin.token);
    await endedHistory(fixture);
    const [first, second] = fixture.seat_ids as [number, number];
    const [trailBefore, analyticsBefore] = [await trail(app), await bookingAnalytics()];

    const removed = await adminRequest("DELETE", `${ADMIN}/venues/${fixture.venue_id}/seats`, {
      seat_ids: [first, second],
    });
    expect(removed.status).toBe(204);

    expect(await trail(app)).toBe(trailBefore);
    expect(await bookingAnalytics()).toEqual(analyticsBefore);
    const named = await query<{ seat_id: number; removed: boolean }>(
      app,
      sql`select distinct s.seat_id, (s.deleted_at is not null) as removed
          from booking_seats bs join seats s on s.seat_id = bs.seat_id
          where s.venue_id = ${fixture.venue_id} order by s.seat_id`,
    );
    expect(named).toEqual([
      { seat_id: first, removed: true },
      { seat_id: second, removed: true },
    ]);
    const map = ok(await app.request("GET", `/api/v1/shows/${fixture.show_id}/seats`));
    const mapped = map.seats.map((seat: { seat_id: number }) => seat.seat_id);
    expect(mapped).not.toContain(first);
    expect(mapped).toHaveLength(fixture.seat_ids.length - 2);
    const layout = ok(await adminRequest("GET", `${ADMIN}/venues/${fixture.venue_id}`)).venue;
    expect(layout.total_seats).toBe(fixture.seat_ids.length - 2);
    const refused = await holdSeats(app, buyer, fixture.show_id, [first]);
    expectError(refused, 400, "VALIDATION_ERROR");
    expect(refused.body.details.invalid_seats).toEqual([first]);
    const twice = await adminRequest("DELETE", `${ADMIN}/venues/${fixture.venue_id}/seats`, {
      seat_ids: [first],
    });
    expectError(twice, 400, "VALIDATION_ERROR");
    expect(twice.body.details.invalid_seats).toEqual([first]);

    // The place can be laid out again: a new seat, on sale in the show.
    const [place] = await query<{ seat_row: string; seat_number: number }>(
      app,
      sql`select seat_row, seat_number from seats where seat_id = ${first}`,
    );
    const added = ok(
      await adminRequest("POST", `${ADMIN}/venues/${fixture.venue_id}/seats`, { seats: [place] }),
      201,
    );
    const newSeat = added.seats[0].seat_id as number;
    expect(newSeat).not.toBe(first);
    ok(await holdSeats(app, buyer, fixture.show_id, [newSeat]));
  });

  test("a stray SQL DELETE cannot take a booking's trail with it", async () => {
    const fixture = await createShowFixture(app, admin.token);
    const [bookingId] = await endedHistory(fixture);
    const trailBefore = await trail(app);
    const statements = [
      sql`delete from events where event_id = ${fixture.event_id}`,
      sql`delete from shows where show_id = ${fixture.show_id}`,
      sql`delete from venues where venue_id = ${fixture.venue_id}`,
      sql`delete from seats where seat_id = ${fixture.seat_ids[0] as number}`,
      sql`delete from bookings where booking_id = ${bookingId as number}`,
    ];
    for (const statement of statements) {
      const failure = await query(app, statement).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(REFUSED_BY_A_FOREIGN_KEY).toContain(pgErrorCode(failure) as string);
    }
    expect(await trail(app)).toBe(trailBefore);
  });
});

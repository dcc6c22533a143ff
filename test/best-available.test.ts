import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectError, ok } from "./support/answers";
import {
  createAdmin,
  createShowFixture,
  holdBest,
  holdSeats,
  lapseHolds,
  registerUser,
  seatNames,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, query, SETUP_TIMEOUT_MS, sql, type TestApp } from "./support/harness";
import { bookingInvariantViolations } from "./support/invariants";
import { describeEachBackend } from "./support/services";

describeEachBackend("best-available holds (%s)", (backend) => {
  let app: TestApp;
  let adminToken: string;
  let buyer: TestUser;

  beforeAll(async () => {
    app = await createTestApp(backend, { MAX_SEATS_PER_USER_PER_SHOW: "100" });
    adminToken = (await createAdmin(app)).token;
    buyer = await registerUser(app);
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app.close());

  /** A show on a venue laid out seat by seat. */
  async function showWithSeats(
    layout: { seat_row: string; seat_number: number; rank?: number }[],
  ): Promise<{ show_id: number; seatId: (name: string) => number }> {
    const event = ok(
      await app.request("POST", "/api/v1/admin/events", {
        token: adminToken,
        body: { title: `Best seats ${crypto.randomUUID()}` },
      }),
      201,
    );
    const venue = ok(
      await app.request("POST", "/api/v1/admin/venues", {
        token: adminToken,
        body: { venue_name: `Ranked ${crypto.randomUUID()}`, address: "1 Test Street" },
      }),
      201,
    );
    const created = ok(
      await app.request("POST", `/api/v1/admin/venues/${venue.venue.venue_id}/seats`, {
        token: adminToken,
        body: { seats: layout },
      }),
      201,
    );
    const start = Date.now() + 48 * 3_600_000;
    const show = ok(
      await app.request("POST", "/api/v1/admin/shows", {
        token: adminToken,
        body: {
          event_id: event.event.event_id,
          venue_id: venue.venue.venue_id,
          start_time: new Date(start).toISOString(),
          end_time: new Date(start + 3_600_000).toISOString(),
          price: 10,
        },
      }),
      201,
    );
    const ids = new Map<string, number>(
      created.seats.map((seat: { seat_id: number; seat_row: string; seat_number: number }) => [
        `${seat.seat_row}${seat.seat_number}`,
        seat.seat_id,
      ]),
    );
    return { show_id: show.show.show_id, seatId: (name) => ids.get(name) as number };
  }

  const row = (seat_row: string, count: number) =>
    Array.from({ length: count }, (_, index) => ({ seat_row, seat_number: index + 1 }));

  test("front row first, nearest its centre; then outwards, then the next row", async () => {
    const show = await showWithSeats([...row("A", 6), ...row("B", 6)]);
    const picks = [];
    for (let turn = 0; turn < 4; turn++) {
      picks.push(seatNames(ok(await holdBest(app, buyer, show.show_id, 2))));
    }
    // Row A centres on 3.5: A3–A4, then the blocks beside it, then row B's centre.
    expect(picks).toEqual([
      ["A3", "A4"],
      ["A1", "A2"],
      ["A5", "A6"],
      ["B3", "B4"],
    ]);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("the answer has the exact hold's shape, and the seats are LOCKED for the booking", async () => {
    const show = await showWithSeats(row("A", 5));
    const held = ok(await holdBest(app, buyer, show.show_id, 3));
    expect(Object.keys(held).sort()).toEqual(
      [
        "amount",
        "booking_id",
        "expires_at",
        "expires_in",
        "locked_seats",
        "show_id",
        "status",
      ].sort(),
    );
    expect(held).toMatchObject({ status: "PENDING", show_id: show.show_id, amount: 30 });
    expect(seatNames(held)).toEqual(["A2", "A3", "A4"]);
    const locked = await query<{ seat_id: number }>(
      app,
      sql`select seat_id from show_seats
          where show_id = ${show.show_id} and status = 'LOCKED' and booking_id = ${held.booking_id}
          order by seat_id`,
    );
    expect(locked.map((seat) => seat.seat_id)).toEqual(
      held.locked_seats
        .map((seat: { seat_id: number }) => seat.seat_id)
        .sort((a: number, b: number) => a - b),
    );
  });

  test("a layout sent column by column (each row's seat ids far apart) is picked as any other", async () => {
    const rows = ["A", "B", "C", "D"];
    const layout = [1, 2, 3, 4, 5, 6].flatMap((seat_number) =>
      rows.map((seat_row) => ({ seat_row, seat_number })),
    );
    const { show_id, seatId } = await showWithSeats(layout);
    const holder = await registerUser(app);
    // The precondition: a row's seat ids lie far apart, not in one short range.
    expect(seatId("A6") - seatId("A1")).toBeGreaterThan(2 * 6);
    ok(await holdSeats(app, holder, show_id, ["A3", "A4", "B3"].map(seatId)), 200);
    // Row A keeps A1-A2 (places 5 and 3 from its centre) and A5-A6 (4 and 6); row B's best
    // block is B4-B5 (places 2 and 4).
    const first = ok(await holdBest(app, buyer, show_id, 2), 200);
    expect(seatNames(first)).toEqual(["A1", "A2"]);
    const second = ok(await holdBest(app, holder, show_id, 2), 200);
    expect(seatNames(second)).toEqual(["A5", "A6"]);
    const third = ok(await holdBest(app, buyer, show_id, 2), 200);
    expect(seatNames(third)).toEqual(["B4", "B5"]);
    expect(await bookingInvariantViolations(app, show_id)).toEqual([]);
  });

  test("a layout's ranks decide over rows and centres", async () => {
    const show = await showWithSeats([
      ...row("A", 4),
      { seat_row: "B", seat_number: 1, rank: 5 },
      { seat_row: "B", seat_number: 2, rank: 1 },
      { seat_row: "B", seat_number: 3, rank: 2 },
      { seat_row: "B", seat_number: 4, rank: 9 },
    ]);
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 2)))).toEqual(["B2", "B3"]);
    // B1 and B4 are ranked but apart: scattered seats take them; adjacent ones go unranked.
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 2, false)))).toEqual(["B1", "B4"]);
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 1)))).toEqual(["A2"]);
  });

  test("adjacent blocks skip taken seats; without adjacent any best seats do", async () => {
    const show = await showWithSeats([...row("A", 5), ...row("B", 5)]);
    // A3 taken: row A has no three together (A1–A2, A4–A5), row B does. Scattered, the seats
    // nearest A's centre come first, the lower number first between equals (A1 before A5).
    ok(await holdSeats(app, buyer, show.show_id, [show.seatId("A3")]));
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 3)))).toEqual(["B2", "B3", "B4"]);
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 3, false)))).toEqual([
      "A1",
      "A2",
      "A4",
    ]);
  });

  test("when the front rows have many free seats but none together, the rows behind are searched", async () => {
    // Row A: 300 free seats, no two of them adjacent (odd numbers only); row B behind it.
    const show = await showWithSeats([
      ...Array.from({ length: 300 }, (_, index) => ({ seat_row: "A", seat_number: 2 * index + 1 })),
      ...row("B", 4),
    ]);
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 2)))).toEqual(["B2", "B3"]);
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 2, false)))).toEqual([
      "A299",
      "A301",
    ]);
    const refused = await holdBest(app, buyer, show.show_id, 3);
    expectError(refused, 409, "NOT_ENOUGH_SEATS");
    expect(refused.body.details).toEqual({ available_seats: 300, largest_block: 1 });
  });

  test("too few seats, or none together → 409 NOT_ENOUGH_SEATS with what there is; nothing held", async () => {
    const show = await showWithSeats(row("A", 5));
    ok(await holdSeats(app, buyer, show.show_id, [show.seatId("A3")]));
    const apart = await holdBest(app, buyer, show.show_id, 3);
    expectError(apart, 409, "NOT_ENOUGH_SEATS");
    expect(apart.body.details).toEqual({ available_seats: 4, largest_block: 2 });
    const tooMany = await holdBest(app, buyer, show.show_id, 5, false);
    expectError(tooMany, 409, "NOT_ENOUGH_SEATS");
    expect(tooMany.body.details).toEqual({ available_seats: 4, largest_block: 2 });
    const [pending] = await query<{ bookings: number }>(
      app,
      sql`select count(*)::int as bookings from bookings where show_id = ${show.show_id}`,
    );
    expect(pending?.bookings).toBe(1);
    // Scattered seats do exist.
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 3, false)))).toEqual(
      ["A2", "A4", "A1"].sort(),
    );
  });

  test("a hold that ran out frees its seats for a best-available request", async () => {
    const show = await showWithSeats(row("A", 2));
    const stale = ok(await holdBest(app, buyer, show.show_id, 2));
    expectError(await holdBest(app, buyer, show.show_id, 1), 409, "NOT_ENOUGH_SEATS");
    await lapseHolds(app, [stale.booking_id]);
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 2)))).toEqual(["A1", "A2"]);
    const [ended] = await query<{ status: string }>(
      app,
      sql`select status from bookings where booking_id = ${stale.booking_id}`,
    );
    expect(ended?.status).toBe("EXPIRED");
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  /** Each row's hint (show_rows), by row name. */
  async function hints(showId: number): Promise<Record<string, number>> {
    const rows = await query<{ seat_row: string; largest_free_hint: number }>(
      app,
      sql`select seat_row, largest_free_hint from show_rows where show_id = ${showId}`,
    );
    return Object.fromEntries(rows.map((row) => [row.seat_row, row.largest_free_hint]));
  }

  test("a block freed in a front row by a cancel or an expiry is picked again before the rows behind", async () => {
    const show = await showWithSeats([...row("A", 4), ...row("B", 4)]);
    const first = ok(await holdBest(app, buyer, show.show_id, 2));
    expect(seatNames(first)).toEqual(["A2", "A3"]);
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 2)))).toEqual(["B2", "B3"]);
    // Both rows are read: no pair is left in either.
    expect(await hints(show.show_id)).toEqual({ A: 1, B: 1 });

    ok(
      await app.request("POST", `/api/v1/bookings/${first.booking_id}/cancel`, {
        token: buyer.token,
        body: {},
      }),
    );
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    const again = ok(await holdBest(app, buyer, show.show_id, 2));
    expect(seatNames(again)).toEqual(["A2", "A3"]);

    // The hold runs out: the next pick finds no pair free, expires it and takes its seats.
    await lapseHolds(app, [again.booking_id]);
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 2)))).toEqual(["A2", "A3"]);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("hints that say too much are corrected; hints that say too little never refuse a free block", async () => {
    const show = await showWithSeats([...row("A", 4), ...row("B", 4)]);
    // Exact holds fill row A behind the hints' back.
    ok(await holdSeats(app, buyer, show.show_id, ["A1", "A2", "A3", "A4"].map(show.seatId)));
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 2)))).toEqual(["B2", "B3"]);
    expect(await hints(show.show_id)).toEqual({ A: 0, B: 1 });
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);

    // Hints below the truth (never written so; as if they were): the statement that ranks
    // every seat still finds what is free.
    await query(
      app,
      sql`update show_rows set largest_free_hint = 0 where show_id = ${show.show_id}`,
    );
    expect(seatNames(ok(await holdBest(app, buyer, show.show_id, 1)))).toEqual(["B1"]);
    const refused = await holdBest(app, buyer, show.show_id, 2);
    expectError(refused, 409, "NOT_ENOUGH_SEATS");
    expect(refused.body.details).toEqual({ available_seats: 1, largest_block: 1 });
  });

  test("seats added to the venue after the show was created are picked in their place", async () => {
    const fixture = await createShowFixture(app, adminToken, { rows: ["B"], perRow: 2 });
    expect(seatNames(ok(await holdBest(app, buyer, fixture.show_id, 2)))).toEqual(["B1", "B2"]);
    expectError(await holdBest(app, buyer, fixture.show_id, 2), 409, "NOT_ENOUGH_SEATS");

    // A row in front of B, and B made longer.
    ok(
      await app.request("POST", `/api/v1/admin/venues/${fixture.venue_id}/seats`, {
        token: adminToken,
        body: {
          rows: [
            { seat_row: "A", count: 2 },
            { seat_row: "B", count: 2, start_number: 3 },
          ],
        },
      }),
      201,
    );
    expect(seatNames(ok(await holdBest(app, buyer, fixture.show_id, 2)))).toEqual(["A1", "A2"]);
    expect(seatNames(ok(await holdBest(app, buyer, fixture.show_id, 2)))).toEqual(["B3", "B4"]);
    expect(await bookingInvariantViolations(app, fixture.show_id)).toEqual([]);

    // Ranked seats added later decide over rows, as in a layout ranked from the start.
    ok(
      await app.request("POST", `/api/v1/admin/venues/${fixture.venue_id}/seats`, {
        token: adminToken,
        body: {
          seats: [
            { seat_row: "C", seat_number: 1, rank: 1 },
            { seat_row: "C", seat_number: 2, rank: 1 },
            { seat_row: "C", seat_number: 3 },
            { seat_row: "C", seat_number: 4 },
          ],
        },
      }),
      201,
    );
    expect(seatNames(ok(await holdBest(app, buyer, fixture.show_id, 2)))).toEqual(["C1", "C2"]);
    expect(seatNames(ok(await holdBest(app, buyer, fixture.show_id, 2)))).toEqual(["C3", "C4"]);
  });

  test("a retried request with the same Idempotency-Key holds once and replays the answer", async () => {
    const show = await showWithSeats(row("A", 6));
    const send = () =>
      app.request("POST", "/api/v1/bookings/lock", {
        token: buyer.token,
        body: { show_id: show.show_id, quantity: 2 },
        headers: { "Idempotency-Key": `best-${show.show_id}` },
      });
    const first = ok(await send());
    expect(ok(await send())).toEqual(first);
    const [bookings] = await query<{ count: number }>(
      app,
      sql`select count(*)::int as count from bookings where show_id = ${show.show_id}`,
    );
    expect(bookings?.count).toBe(1);
  });

  test("the per-user seat limit counts best-available holds", async () => {
    const limited = await createTestApp(backend, { MAX_SEATS_PER_USER_PER_SHOW: "3" });
    try {
      const admin = await createAdmin(limited);
      const fixture = await createShowFixture(limited, admin.token, { rows: ["A"], perRow: 8 });
      const user = await registerUser(limited);
      ok(await holdBest(limited, user, fixture.show_id, 2));
      const refused = await holdBest(limited, user, fixture.show_id, 2);
      expectError(refused, 409, "SEAT_LIMIT");
      expect(refused.body.details).toEqual({ remaining: 1, limit: 3 });
      expect(await bookingInvariantViolations(limited, fixture.show_id)).toEqual([]);
    } finally {
      await limited.close();
    }
  });
});

describe("best-available validation", () => {
  let app: TestApp;
  let buyer: TestUser;
  let showId: number;

  beforeAll(async () => {
    app = await createTestApp("embedded");
    const admin = await createAdmin(app);
    showId = (await createShowFixture(app, admin.token)).show_id;
    buyer = await registerUser(app);
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app.close());

  const lock = (body: unknown) =>
    app.request("POST", "/api/v1/bookings/lock", { token: buyer.token, body });

  test.each([
    ["both seat_ids and quantity", { seat_ids: [1], quantity: 1 }],
    ["neither", {}],
    ["quantity 0", { quantity: 0 }],
    ["quantity 11", { quantity: 11 }],
    ["a fractional quantity", { quantity: 1.5 }],
    ["a quantity as text", { quantity: "2" }],
    ["adjacent that is not a boolean", { quantity: 2, adjacent: "yes" }],
    ["adjacent with seat_ids", { seat_ids: [1], adjacent: true }],
  ])("%s → 400 VALIDATION_ERROR, nothing held", async (_, fields) => {
    expectError(await lock({ show_id: showId, ...fields }), 400, "VALIDATION_ERROR");
    const [held] = await query<{ bookings: number }>(
      app,
      sql`select count(*)::int as bookings from bookings where show_id = ${showId}`,
    );
    expect(held?.bookings).toBe(0);
  });

  test("an unknown show → 404", async () => {
    expectError(await lock({ show_id: 999_999, quantity: 2 }), 404, "NOT_FOUND");
  });
});

import { afterAll, beforeAll, expect, test } from "bun:test";
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
import { describeEachBackend } from "./support/services";

/** Setup builds an app and a booking scenario through the API: generous on a busy machine. */
const SETUP_TIMEOUT_MS = 60_000;
const ANALYTICS = "/api/v1/admin/analytics";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const dateOf = (time: number) => new Date(time).toISOString().slice(0, 10);

const zeroDay = (date: string) => ({
  date,
  bookings: 0,
  confirmed: 0,
  cancelled: 0,
  expired: 0,
  seats_sold: 0,
  revenue: 0,
});

describeEachBackend("admin analytics (%s)", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let users: TestUser[];
  /** Show A (event A, 12 seats at 25.50), show B (event B, 4 seats at 40), show C (event A). */
  let showA: ShowFixture;
  let showB: ShowFixture;
  let showC: { show_id: number; event_id: number; seat_ids: number[] };
  let titleA: string;
  let titleB: string;
  /** UTC midnight ten days ago: the scenario's bookings are dated from it. */
  let day0: number;

  const hold = async (user: TestUser, showId: number, seatIds: number[]) =>
    ok(await holdSeats(app, user, showId, seatIds)) as { booking_id: number; amount: number };
  const confirm = (user: TestUser, bookingId: number) =>
    app.request("POST", `/api/v1/bookings/${bookingId}/confirm`, { token: user.token, body: {} });
  const cancel = (user: TestUser, bookingId: number) =>
    app.request("POST", `/api/v1/bookings/${bookingId}/cancel`, { token: user.token, body: {} });
  const book = async (user: TestUser, showId: number, seatIds: number[]) => {
    const held = await hold(user, showId, seatIds);
    await payAndConfirm(app, user, held);
    return held.booking_id;
  };
  /** Makes a hold lapse without the API: its time and its seats' locks ran out. */
  const lapse = (bookingId: number) => lapseHolds(app, [bookingId]);
  const dateBooking = (bookingId: number, at: number) =>
    query(
      app,
      sql`update bookings set created_at = ${new Date(at).toISOString()}::timestamptz
          where booking_id = ${bookingId}`,
    );
  const report = (search = "", token = admin.token) =>
    app.request("GET", `${ANALYTICS}${search}`, { token });
  const range = (from: number, to?: number) =>
    `?from=${new Date(from).toISOString()}${to === undefined ? "" : `&to=${new Date(to).toISOString()}`}`;

  beforeAll(async () => {
    app = await createTestApp(backend);
    admin = await createAdmin(app);
    users = [await registerUser(app), await registerUser(app), await registerUser(app)];
    const [u1, u2, u3] = users as [TestUser, TestUser, TestUser];
    showA = await createShowFixture(app, admin.token, {
      rows: ["A", "B"],
      perRow: 6,
      price: 25.5,
      startsInHours: 48,
    });
    showB = await createShowFixture(app, admin.token, {
      rows: ["A"],
      perRow: 4,
      price: 40,
      startsInHours: 72,
    });
    const start = Date.now() + 96 * HOUR;
    const created = ok(
      await app.request("POST", "/api/v1/admin/shows", {
        token: admin.token,
        body: {
          event_id: showA.event_id,
          venue_id: showA.venue_id,
          start_time: new Date(start).toISOString(),
          end_time: new Date(start + 2 * HOUR).toISOString(),
          price: 10,
        },
      }),
      201,
    );
    showC = { show_id: created.show.show_id, event_id: showA.event_id, seat_ids: showA.seat_ids };
    const events = await query<{ event_id: number; title: string }>(
      app,
      sql`select event_id, title from events order by event_id`,
    );
    titleA = events.find((event) => event.event_id === showA.event_id)?.title ?? "";
    titleB = events.find((event) => event.event_id === showB.event_id)?.title ?? "";

    const a = showA.seat_ids;
    const b = showB.seat_ids;
    // Show A, all on day 0.
    const b1 = await book(u1, showA.show_id, [a[0], a[1], a[2]] as number[]); // 3 seats, 76.50
    const b2 = (await hold(u2, showA.show_id, [a[3] as number])).booking_id;
    ok(await cancel(u2, b2)); // cancelled while PENDING
    const b3 = await book(u3, showA.show_id, [a[4], a[5]] as number[]);
    const refunded = ok(await cancel(u3, b3)); // paid, confirmed, then cancelled with a refund
    expect(refunded.refund?.amount).toBe(51);
    const b4 = (await hold(u1, showA.show_id, [a[6] as number])).booking_id;
    await lapse(b4);
    expectError(await confirm(u1, b4), 410, "HOLD_EXPIRED"); // now EXPIRED in the table
    const b5 = (await hold(u2, showA.show_id, [a[7] as number])).booking_id; // still held
    const b9 = await book(u3, showA.show_id, [a[8] as number]); // 1 seat, 25.50
    // Show B: a confirmed pair on day 4, a lapsed hold nobody has expired yet on day 2,
    // and a booking from long before any range asked about below.
    const b6 = await book(u2, showB.show_id, [b[0], b[1]] as number[]); // 80.00
    const b10 = (await hold(u1, showB.show_id, [b[3] as number])).booking_id;
    await lapse(b10);
    const b8 = await book(u3, showB.show_id, [b[2] as number]); // 40.00, 50 days ago
    // Show C (event A): a hold cancelled on day 2.
    const b11 = (await hold(u2, showC.show_id, [showC.seat_ids[0] as number])).booking_id;
    ok(await cancel(u2, b11));

    const today = new Date();
    day0 = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - 10 * DAY;
    for (const id of [b1, b2, b3, b4, b5, b9]) await dateBooking(id, day0 + 10 * HOUR);
    for (const id of [b10, b11]) await dateBooking(id, day0 + 2 * DAY + 9 * HOUR);
    await dateBooking(b6, day0 + 4 * DAY + 23 * HOUR);
    await dateBooking(b8, day0 - 40 * DAY);

    const statuses = await query<{ booking_id: number; status: string }>(
      app,
      sql`select booking_id, status::text as status from bookings order by booking_id`,
    );
    expect(statuses.map((row) => [row.booking_id, row.status])).toEqual([
      [b1, "CONFIRMED"],
      [b2, "CANCELLED"],
      [b3, "CANCELLED"],
      [b4, "EXPIRED"],
      [b5, "PENDING"],
      [b9, "CONFIRMED"],
      [b6, "CONFIRMED"],
      // The cleanup job may or may not have expired the lapsed hold: both read as EXPIRED.
      [b10, expect.stringMatching(/^(PENDING|EXPIRED)$/)],
      [b8, "CONFIRMED"],
      [b11, "CANCELLED"],
    ]);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await app?.close();
  });

  const capacity = () => [
    // Show A: b1 (3) + b9 (1) booked, b5 held, b4's and the cancelled seats free again.
    {
      show_id: showA.show_id,
      event_id: showA.event_id,
      total_seats: 12,
      booked: 4,
      held: 1,
      free: 7,
      utilization_percent: 33.33,
    },
    // Show B: b6 (2) + b8 (1) booked; b10's lapsed lock counts as free.
    {
      show_id: showB.show_id,
      event_id: showB.event_id,
      total_seats: 4,
      booked: 3,
      held: 0,
      free: 1,
      utilization_percent: 75,
    },
    {
      show_id: showC.show_id,
      event_id: showC.event_id,
      total_seats: 12,
      booked: 0,
      held: 0,
      free: 12,
      utilization_percent: 0,
    },
  ];

  test("a range with every kind of booking: exact totals, rankings, rates and days", async () => {
    const body = ok(await report(range(day0, day0 + 5 * DAY)));
    expect(body.range).toEqual({
      from: new Date(day0).toISOString(),
      to: new Date(day0 + 5 * DAY).toISOString(),
    });
    expect(body.totals).toEqual({
      bookings_by_status: { PENDING: 1, CONFIRMED: 3, CANCELLED: 3, EXPIRED: 2 },
      seats_sold: 6,
      revenue: 182,
    });
    expect(body.most_booked_events).toEqual([
      {
        event_id: showA.event_id,
        title: titleA,
        confirmed_bookings: 2,
        seats_sold: 4,
        revenue: 102,
      },
      {
        event_id: showB.event_id,
        title: titleB,
        confirmed_bookings: 1,
        seats_sold: 2,
        revenue: 80,
      },
    ]);
    expect(body.cancellation_rates).toEqual({
      by_show: [
        { show_id: showC.show_id, event_id: showA.event_id, bookings: 1, cancelled: 1, rate: 1 },
        {
          show_id: showA.show_id,
          event_id: showA.event_id,
          bookings: 6,
          cancelled: 2,
          rate: 0.3333,
        },
        { show_id: showB.show_id, event_id: showB.event_id, bookings: 2, cancelled: 0, rate: 0 },
      ],
      by_event: [
        { event_id: showA.event_id, title: titleA, bookings: 7, cancelled: 3, rate: 0.4286 },
        { event_id: showB.event_id, title: titleB, bookings: 2, cancelled: 0, rate: 0 },
      ],
    });
    expect(body.daily_booking_stats).toEqual([
      {
        date: dateOf(day0),
        bookings: 6,
        confirmed: 2,
        cancelled: 2,
        expired: 1,
        seats_sold: 4,
        revenue: 102,
      },
      zeroDay(dateOf(day0 + DAY)),
      {
        date: dateOf(day0 + 2 * DAY),
        bookings: 2,
        confirmed: 0,
        cancelled: 1,
        expired: 1,
        seats_sold: 0,
        revenue: 0,
      },
      zeroDay(dateOf(day0 + 3 * DAY)),
      {
        date: dateOf(day0 + 4 * DAY),
        bookings: 1,
        confirmed: 1,
        cancelled: 0,
        expired: 0,
        seats_sold: 2,
        revenue: 80,
      },
    ]);
    expect(body.capacity_utilization).toEqual(capacity());
  });

  test("without from/to: the last 30 days up to now, one entry per day", async () => {
    const before = Date.now();
    const body = ok(await report());
    const to = Date.parse(body.range.to);
    expect(to).toBeGreaterThanOrEqual(before);
    expect(to).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(body.range.from)).toBe(to - 30 * DAY);
    // The booking from 50 days ago is outside; everything else is inside.
    expect(body.totals).toEqual({
      bookings_by_status: { PENDING: 1, CONFIRMED: 3, CANCELLED: 3, EXPIRED: 2 },
      seats_sold: 6,
      revenue: 182,
    });
    const days = body.daily_booking_stats as { date: string; bookings: number }[];
    expect(days).toHaveLength(31);
    expect(days[0]?.date).toBe(dateOf(to - 30 * DAY));
    expect(days.at(-1)?.date).toBe(dateOf(to));
    expect(days.reduce((sum, day) => sum + day.bookings, 0)).toBe(9);
    expect(days.filter((day) => day.bookings > 0).map((day) => day.date)).toEqual([
      dateOf(day0),
      dateOf(day0 + 2 * DAY),
      dateOf(day0 + 4 * DAY),
    ]);
    expect(body.capacity_utilization).toEqual(capacity());
  });

  test("a range is half-open and counts only the bookings created inside it", async () => {
    // Day 1 and day 2: the lapsed hold on B and the cancelled hold on C; `to` at midnight
    // excludes day 3 itself.
    const body = ok(await report(range(day0 + DAY, day0 + 3 * DAY)));
    expect(body.totals).toEqual({
      bookings_by_status: { PENDING: 0, CONFIRMED: 0, CANCELLED: 1, EXPIRED: 1 },
      seats_sold: 0,
      revenue: 0,
    });
    expect(body.most_booked_events).toEqual([]);
    expect(body.cancellation_rates.by_show).toEqual([
      { show_id: showC.show_id, event_id: showA.event_id, bookings: 1, cancelled: 1, rate: 1 },
      { show_id: showB.show_id, event_id: showB.event_id, bookings: 1, cancelled: 0, rate: 0 },
    ]);
    expect(body.daily_booking_stats.map((day: { date: string }) => day.date)).toEqual([
      dateOf(day0 + DAY),
      dateOf(day0 + 2 * DAY),
    ]);

    // Only from: up to now, which takes in day 4's booking and nothing before day 3.
    const late = ok(await report(range(day0 + 3 * DAY)));
    expect(late.totals).toEqual({
      bookings_by_status: { PENDING: 0, CONFIRMED: 1, CANCELLED: 0, EXPIRED: 0 },
      seats_sold: 2,
      revenue: 80,
    });
    expect(late.daily_booking_stats).toHaveLength(8);

    // The old booking alone, on a range before every show was scheduled.
    const old = ok(await report(range(day0 - 41 * DAY, day0 - 39 * DAY)));
    expect(old.totals).toEqual({
      bookings_by_status: { PENDING: 0, CONFIRMED: 1, CANCELLED: 0, EXPIRED: 0 },
      seats_sold: 1,
      revenue: 40,
    });
    expect(old.most_booked_events).toEqual([
      {
        event_id: showB.event_id,
        title: titleB,
        confirmed_bookings: 1,
        seats_sold: 1,
        revenue: 40,
      },
    ]);
  });

  test("an empty range: zero totals, empty lists, zero-filled days", async () => {
    const from = day0 - 100 * DAY;
    const body = ok(await report(range(from, from + 3 * DAY)));
    expect(body.totals).toEqual({
      bookings_by_status: { PENDING: 0, CONFIRMED: 0, CANCELLED: 0, EXPIRED: 0 },
      seats_sold: 0,
      revenue: 0,
    });
    expect(body.most_booked_events).toEqual([]);
    expect(body.cancellation_rates).toEqual({ by_show: [], by_event: [] });
    expect(body.daily_booking_stats).toEqual([
      zeroDay(dateOf(from)),
      zeroDay(dateOf(from + DAY)),
      zeroDay(dateOf(from + 2 * DAY)),
    ]);
    // Capacity is the seats' state now, for every show that had not ended at `from`.
    expect(body.capacity_utilization).toEqual(capacity());
  });

  test("anonymous → 401, a plain user → 403", async () => {
    expectError(await app.request("GET", ANALYTICS), 401, "UNAUTHENTICATED");
    expectError(await report("", (users[0] as TestUser).token), 403, "FORBIDDEN");
  });

  test("bad from/to → 400 VALIDATION_ERROR naming the field", async () => {
    const now = Date.now();
    const reversed = await report(range(now, now - DAY));
    expectError(reversed, 400, "VALIDATION_ERROR");
    expect(reversed.body.details).toHaveProperty("from");

    // `from` in the future with `to` defaulting to now is reversed too.
    expectError(await report(range(now + DAY)), 400, "VALIDATION_ERROR");

    for (const search of [
      "?from=yesterday",
      "?to=2026-13-01T00:00:00Z",
      "?from=2026-01-01",
      "?from=1700000000",
      "?to=",
      // PostgreSQL has no year 0, and 30 days before it is a negative year.
      "?to=0000-01-01T00:00:00.000Z",
      "?from=1969-12-31T23:59:59Z",
      "?to=9999-12-31T23:59:59-01:00",
    ]) {
      const response = await report(search);
      expectError(response, 400, "VALIDATION_ERROR");
      expect(Object.keys(response.body.details ?? {})).toEqual([
        search.startsWith("?from") ? "from" : "to",
      ]);
    }

    // A range of more than three years is refused rather than zero-filled day by day.
    expectError(await report(range(now - 2000 * DAY, now)), 400, "VALIDATION_ERROR");

    // from == to is an empty range, not an error.
    const empty = ok(await report(range(day0, day0)));
    expect(empty.totals.seats_sold).toBe(0);
    expect(empty.daily_booking_stats).toEqual([zeroDay(dateOf(day0))]);
  });

  test("the OpenAPI document describes the route", async () => {
    const doc = ok(await app.request("GET", "/api/v1/openapi.json"));
    const operation = doc.paths["/api/v1/admin/analytics"]?.get;
    expect(operation).toBeDefined();
    expect(operation.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      "from",
      "to",
    ]);
    expect(Object.keys(operation.responses).sort()).toEqual([
      "200",
      "400",
      "401",
      "403",
      "429",
      "500",
      "503",
    ]);
  });
});

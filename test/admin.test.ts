import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectPagingBounds, ok } from "./support/answers";
import {
  createAdmin,
  createShowFixture,
  holdSeats,
  moveShowToThePast,
  registerUser,
  type ShowFixture,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, query, sql, type TestApp } from "./support/harness";
import { describeEachBackend } from "./support/services";

/** Setup builds an app and data through the API: generous, as CI machines may be busy. */
const SETUP_TIMEOUT_MS = 60_000;

const ADMIN = "/api/v1/admin";
const MAX_ID = 2_147_483_647;
const HOUR = 3_600_000;

/** Everything an admin route could change, as one comparable string. */
async function snapshot(app: TestApp): Promise<string> {
  const [row] = await query<Record<string, unknown>>(
    app,
    sql`select
      (select coalesce(json_agg(t order by t.venue_id), '[]'::json)::text from venues t) as venues,
      (select coalesce(json_agg(t order by t.seat_id), '[]'::json)::text from seats t) as seats,
      (select coalesce(json_agg(t order by t.event_id), '[]'::json)::text from events t) as events,
      (select coalesce(json_agg(t order by t.show_id), '[]'::json)::text from shows t) as shows,
      (select coalesce(json_agg(t order by t.show_id, t.seat_id), '[]'::json)::text
         from show_seats t) as show_seats,
      (select coalesce(json_agg(t order by t.booking_id), '[]'::json)::text from bookings t)
         as bookings,
      (select coalesce(json_agg(t order by t.payment_id), '[]'::json)::text from payments t)
         as payments,
      (select coalesce(json_agg(t order by t.waitlist_entry_id), '[]'::json)::text
         from waitlist_entries t) as waitlist_entries`,
  );
  return JSON.stringify(row);
}

async function count(app: TestApp, statement: ReturnType<typeof sql>): Promise<number> {
  const [row] = await query<{ n: number | string }>(app, statement);
  return Number(row?.n);
}

/**
 * A booking made without the booking API: a PENDING hold (seats LOCKED for 10 minutes) or a
 * CONFIRMED booking (seats BOOKED).
 */
async function insertBooking(
  app: TestApp,
  userId: number,
  showId: number,
  seatIds: number[],
  status: "PENDING" | "CONFIRMED" = "PENDING",
): Promise<number> {
  const [booking] = await query<{ booking_id: number }>(
    app,
    sql`insert into bookings (user_id, show_id, status, amount_cents, expires_at)
        values (${userId}, ${showId}, ${status}, ${1000 * seatIds.length},
                now() + interval '10 minutes')
        returning booking_id`,
  );
  if (!booking) throw new Error("booking insert returned no row");
  const seatStatus = status === "PENDING" ? "LOCKED" : "BOOKED";
  await query(
    app,
    sql`update show_seats set status = ${seatStatus}, booking_id = ${booking.booking_id},
          locked_until = ${status === "PENDING" ? sql`now() + interval '10 minutes'` : sql`null`}
        where show_id = ${showId} and seat_id in ${seatIds}`,
  );
  return booking.booking_id;
}

/** A show's bookings in id order, each with its payment's status (null when unpaid). */
const bookingsAndPayments = (app: TestApp, showId: number) =>
  query<{ booking_id: number; status: string; payment: string | null }>(
    app,
    sql`select b.booking_id, b.status::text as status, p.status::text as payment
        from bookings b left join payments p on p.booking_id = b.booking_id
        where b.show_id = ${showId} order by b.booking_id`,
  );

/** insertBooking's CONFIRMED booking, paid: with a SUCCEEDED payment of its amount. */
async function insertPaidBooking(app: TestApp, userId: number, showId: number, seatIds: number[]) {
  const bookingId = await insertBooking(app, userId, showId, seatIds, "CONFIRMED");
  await query(
    app,
    sql`insert into payments (booking_id, amount_cents, status, transaction_id)
        select booking_id, amount_cents, 'SUCCEEDED', ${`txn_test_${bookingId}`}
        from bookings where booking_id = ${bookingId}`,
  );
  return bookingId;
}

const futureWindow = (startsInHours = 72) => {
  const start = new Date(Date.now() + startsInHours * HOUR);
  start.setUTCMilliseconds(0);
  return {
    start_time: start.toISOString(),
    end_time: new Date(start.getTime() + 2 * HOUR).toISOString(),
  };
};

function expectValidationError(
  response: { status: number; body: { code?: string; details?: Record<string, unknown> } },
  ...fields: string[]
) {
  expect(response.status).toBe(400);
  expect(response.body.code).toBe("VALIDATION_ERROR");
  expect(typeof (response.body as { message?: unknown }).message).toBe("string");
  for (const field of fields) expect(Object.keys(response.body.details ?? {})).toContain(field);
}

describeEachBackend("admin API on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;

  beforeAll(async () => {
    app = await createTestApp(backend);
    admin = await createAdmin(app);
    user = await registerUser(app);
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app.close(), SETUP_TIMEOUT_MS);

  const as = (token: string | undefined) => ({
    request: (method: string, path: string, body?: unknown) =>
      app.request(method, path, { token, body }),
  });
  const adminRequest = (method: string, path: string, body?: unknown) =>
    as(admin.token).request(method, path, body);

  async function createVenue(name = `Venue ${Math.random().toString(36).slice(2)}`) {
    const response = await adminRequest("POST", `${ADMIN}/venues`, {
      venue_name: name,
      address: "2 Admin Road",
    });
    expect(response.status).toBe(201);
    return response.body.venue.venue_id as number;
  }

  async function createEvent(title = "Admin test event") {
    const response = await adminRequest("POST", `${ADMIN}/events`, { title });
    expect(response.status).toBe(201);
    return response.body.event.event_id as number;
  }

  async function createShow(eventId: number, venueId: number, startsInHours = 72) {
    const response = await adminRequest("POST", `${ADMIN}/shows`, {
      event_id: eventId,
      venue_id: venueId,
      ...futureWindow(startsInHours),
      price: 30,
    });
    expect(response.status).toBe(201);
    return response.body.show.show_id as number;
  }

  // ---- (a) access control -------------------------------------------------------------------

  describe("access control", () => {
    let fixture: ShowFixture;
    let spareVenueId: number;

    interface RouteCase {
      method: string;
      path: (f: ShowFixture) => string;
      body?: (f: ShowFixture) => unknown;
      /** What an admin gets for the same request (proves the request would change things). */
      adminStatus: number;
    }

    // Ordered so that replaying the table as an admin succeeds step by step.
    const routes: RouteCase[] = [
      { method: "GET", path: () => `${ADMIN}/venues`, adminStatus: 200 },
      {
        method: "POST",
        path: () => `${ADMIN}/venues`,
        body: () => ({ venue_name: "Intruder Hall", address: "nowhere" }),
        adminStatus: 201,
      },
      { method: "GET", path: (f) => `${ADMIN}/venues/${f.venue_id}`, adminStatus: 200 },
      {
        method: "PUT",
        path: (f) => `${ADMIN}/venues/${f.venue_id}`,
        body: () => ({ venue_name: "Hijacked" }),
        adminStatus: 200,
      },
      { method: "DELETE", path: () => `${ADMIN}/venues/${spareVenueId}`, adminStatus: 204 },
      {
        method: "POST",
        path: (f) => `${ADMIN}/venues/${f.venue_id}/seats`,
        body: () => ({ rows: [{ seat_row: "Z", count: 3 }] }),
        adminStatus: 201,
      },
      {
        method: "DELETE",
        path: (f) => `${ADMIN}/venues/${f.venue_id}/seats`,
        body: (f) => ({ seat_ids: [f.seat_ids[0]] }),
        adminStatus: 204,
      },
      {
        method: "POST",
        path: () => `${ADMIN}/events`,
        body: () => ({ title: "Intruder event" }),
        adminStatus: 201,
      },
      {
        method: "PUT",
        path: (f) => `${ADMIN}/events/${f.event_id}`,
        body: () => ({ title: "Hijacked" }),
        adminStatus: 200,
      },
      {
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: (f) => ({
          event_id: f.event_id,
          venue_id: f.venue_id,
          ...futureWindow(100),
          price: 1,
        }),
        adminStatus: 201,
      },
      {
        method: "PUT",
        path: (f) => `${ADMIN}/shows/${f.show_id}`,
        body: () => ({ price: 0.01 }),
        adminStatus: 200,
      },
      { method: "DELETE", path: (f) => `${ADMIN}/shows/${f.show_id}`, adminStatus: 204 },
      { method: "DELETE", path: (f) => `${ADMIN}/events/${f.event_id}`, adminStatus: 204 },
    ];

    beforeAll(async () => {
      fixture = await createShowFixture(app, admin.token);
      spareVenueId = await createVenue("Spare venue");
    }, SETUP_TIMEOUT_MS);

    const anonymousCallers: { name: string; headers: Record<string, string> }[] = [
      { name: "no Authorization header", headers: {} },
      { name: "a malformed bearer token", headers: { Authorization: "Bearer not-a-jwt" } },
      { name: "a non-bearer scheme", headers: { Authorization: "Basic YWRtaW46YWRtaW4=" } },
      { name: "an empty bearer", headers: { Authorization: "Bearer " } },
    ];

    for (const route of routes) {
      const template = route.path({
        venue_id: 1,
        event_id: 1,
        show_id: 1,
        seat_ids: [1],
        price: 0,
      });
      const label = `${route.method} ${template.replace(/\/(1|undefined)(?=\/|$)/, "/:id")}`;

      test(`${label} refuses anonymous callers with 401 and changes nothing`, async () => {
        for (const caller of anonymousCallers) {
          const before = await snapshot(app);
          const response = await app.request(route.method, route.path(fixture), {
            headers: caller.headers,
            body: route.body?.(fixture),
          });
          expect({ caller: caller.name, status: response.status }).toEqual({
            caller: caller.name,
            status: 401,
          });
          expect(response.body.code).toBe("UNAUTHENTICATED");
          expect(typeof response.body.message).toBe("string");
          expect(await snapshot(app)).toBe(before);
        }
      });

      test(`${label} refuses plain users with 403 and changes nothing`, async () => {
        const before = await snapshot(app);
        const response = await as(user.token).request(
          route.method,
          route.path(fixture),
          route.body?.(fixture),
        );
        expect(response.status).toBe(403);
        expect(response.body.code).toBe("FORBIDDEN");
        expect(await snapshot(app)).toBe(before);
      });
    }

    test("authorisation is checked before validation: bad bodies still get 401/403", async () => {
      const bad = { venue_name: "", unknown: true };
      const anonymous = await app.request("POST", `${ADMIN}/venues`, { body: bad });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.code).toBe("UNAUTHENTICATED");
      const plain = await as(user.token).request("POST", `${ADMIN}/venues`, bad);
      expect(plain.status).toBe(403);
      expect(plain.body.code).toBe("FORBIDDEN");
      const badPath = await as(user.token).request("DELETE", `${ADMIN}/shows/abc`);
      expect(badPath.status).toBe(403);
    });

    test("a token of a deleted user is refused with 401", async () => {
      const ghost = await registerUser(app);
      await query(app, sql`delete from users where user_id = ${ghost.user_id}`);
      const response = await as(ghost.token).request("GET", `${ADMIN}/venues`);
      expect(response.status).toBe(401);
      expect(response.body.code).toBe("UNAUTHENTICATED");
    });

    // Runs last in this block: the same requests do change things for an admin.
    test("the same requests succeed for an admin", async () => {
      for (const route of routes) {
        const before = await snapshot(app);
        const response = await adminRequest(
          route.method,
          route.path(fixture),
          route.body?.(fixture),
        );
        expect({
          route: `${route.method} ${route.path(fixture)}`,
          status: response.status,
        }).toEqual({ route: `${route.method} ${route.path(fixture)}`, status: route.adminStatus });
        if (route.method !== "GET") expect(await snapshot(app)).not.toBe(before);
      }
    });
  });

  // ---- (b) validation -----------------------------------------------------------------------

  describe("validation", () => {
    let venueId: number;
    let eventId: number;
    let showId: number;
    let seatId: number;

    beforeAll(async () => {
      const fixture = await createShowFixture(app, admin.token);
      venueId = fixture.venue_id;
      eventId = fixture.event_id;
      showId = fixture.show_id;
      seatId = fixture.seat_ids[0] as number;
    }, SETUP_TIMEOUT_MS);

    const validShow = () => ({
      event_id: eventId,
      venue_id: venueId,
      ...futureWindow(),
      price: 20,
    });

    interface ValidationCase {
      name: string;
      method: string;
      path: () => string;
      body: () => unknown;
      fields: string[];
    }

    const cases: ValidationCase[] = [
      // venues
      {
        name: "venue without venue_name",
        method: "POST",
        path: () => `${ADMIN}/venues`,
        body: () => ({ address: "x" }),
        fields: ["venue_name"],
      },
      {
        name: "venue with empty venue_name",
        method: "POST",
        path: () => `${ADMIN}/venues`,
        body: () => ({ venue_name: "", address: "x" }),
        fields: ["venue_name"],
      },
      {
        name: "venue with blank venue_name",
        method: "POST",
        path: () => `${ADMIN}/venues`,
        body: () => ({ venue_name: "   ", address: "x" }),
        fields: ["venue_name"],
      },
      {
        name: "venue with a NUL character in venue_name and address",
        method: "POST",
        path: () => `${ADMIN}/venues`,
        body: () => ({ venue_name: "Hall\u0000", address: "1 Main St\u0000" }),
        fields: ["venue_name", "address"],
      },
      {
        name: "event with a NUL character in title and description",
        method: "POST",
        path: () => `${ADMIN}/events`,
        body: () => ({ title: "Gig\u0000", description: "\u0000" }),
        fields: ["title", "description"],
      },
      {
        name: "venue with numeric venue_name and no address",
        method: "POST",
        path: () => `${ADMIN}/venues`,
        body: () => ({ venue_name: 42 }),
        fields: ["venue_name", "address"],
      },
      {
        name: "venue with an unknown field",
        method: "POST",
        path: () => `${ADMIN}/venues`,
        body: () => ({ venue_name: "Hall", address: "x", capacity: 100 }),
        fields: ["capacity"],
      },
      {
        name: "venue update with empty body",
        method: "PUT",
        path: () => `${ADMIN}/venues/${venueId}`,
        body: () => ({}),
        fields: ["(root)"],
      },
      {
        name: "venue update with empty venue_name",
        method: "PUT",
        path: () => `${ADMIN}/venues/${venueId}`,
        body: () => ({ venue_name: "" }),
        fields: ["venue_name"],
      },
      {
        name: "venue update with an unknown field",
        method: "PUT",
        path: () => `${ADMIN}/venues/${venueId}`,
        body: () => ({ venue_id: 3 }),
        fields: ["venue_id"],
      },
      // seats
      {
        name: "row with count 0",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ rows: [{ seat_row: "Q", count: 0 }] }),
        fields: ["rows.0.count"],
      },
      {
        name: "row with negative count",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ rows: [{ seat_row: "Q", count: -3 }] }),
        fields: ["rows.0.count"],
      },
      {
        name: "row with string count",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ rows: [{ seat_row: "Q", count: "20" }] }),
        fields: ["rows.0.count"],
      },
      {
        name: "row with fractional count (second row)",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({
          rows: [
            { seat_row: "Q", count: 2 },
            { seat_row: "R", count: 1.5 },
          ],
        }),
        fields: ["rows.1.count"],
      },
      {
        name: "row with too long seat_row",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ rows: [{ seat_row: "ABCDEFGHIJK", count: 2 }] }),
        fields: ["rows.0.seat_row"],
      },
      {
        name: "explicit seat with too long seat_row",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ seats: [{ seat_row: "X".repeat(11), seat_number: 1 }] }),
        fields: ["seats.0.seat_row"],
      },
      {
        name: "explicit seat with seat_number 0",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ seats: [{ seat_row: "Q", seat_number: 0 }] }),
        fields: ["seats.0.seat_number"],
      },
      {
        name: "both rows and seats",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({
          rows: [{ seat_row: "Q", count: 2 }],
          seats: [{ seat_row: "R", seat_number: 1 }],
        }),
        fields: ["(root)"],
      },
      {
        name: "neither rows nor seats",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({}),
        fields: ["(root)"],
      },
      {
        name: "empty rows",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ rows: [] }),
        fields: ["rows"],
      },
      {
        name: "unknown field inside a row",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ rows: [{ seat_row: "Q", count: 2, colour: "red" }] }),
        fields: ["rows.0.colour"],
      },
      {
        name: "layout over 10000 seats",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({
          rows: Array.from({ length: 11 }, (_, i) => ({ seat_row: `L${i}`, count: 1000 })),
        }),
        fields: ["rows"],
      },
      {
        name: "seat delete with empty seat_ids",
        method: "DELETE",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ seat_ids: [] }),
        fields: ["seat_ids"],
      },
      {
        name: "seat delete with string id",
        method: "DELETE",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ seat_ids: [String(seatId)] }),
        fields: ["seat_ids.0"],
      },
      {
        name: "seat delete with id 0 and 2^31",
        method: "DELETE",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ seat_ids: [seatId, 0, 2 ** 31] }),
        fields: ["seat_ids.1", "seat_ids.2"],
      },
      // events
      {
        name: "event without title",
        method: "POST",
        path: () => `${ADMIN}/events`,
        body: () => ({ description: "no title" }),
        fields: ["title"],
      },
      {
        name: "event with empty title",
        method: "POST",
        path: () => `${ADMIN}/events`,
        body: () => ({ title: "" }),
        fields: ["title"],
      },
      {
        name: "event with numeric description and unknown field",
        method: "POST",
        path: () => `${ADMIN}/events`,
        body: () => ({ title: "T", description: 5, venue_id: 1 }),
        fields: ["description", "venue_id"],
      },
      {
        name: "event update with empty body",
        method: "PUT",
        path: () => `${ADMIN}/events/${eventId}`,
        body: () => ({}),
        fields: ["(root)"],
      },
      // shows
      {
        name: "show ending before it starts",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => {
          const { start_time, end_time } = futureWindow();
          return { ...validShow(), start_time: end_time, end_time: start_time };
        },
        fields: ["end_time"],
      },
      {
        name: "show ending when it starts",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), end_time: validShow().start_time }),
        fields: ["end_time"],
      },
      {
        name: "price with three decimals",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), price: 10.005 }),
        fields: ["price"],
      },
      {
        name: "negative price",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), price: -1 }),
        fields: ["price"],
      },
      {
        name: "price as a string",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), price: "10.00" }),
        fields: ["price"],
      },
      {
        name: 'event_id "7" as a string',
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), event_id: String(eventId) }),
        fields: ["event_id"],
      },
      {
        name: "event_id 0",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), event_id: 0 }),
        fields: ["event_id"],
      },
      {
        name: "event_id 2^31",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), event_id: 2 ** 31 }),
        fields: ["event_id"],
      },
      {
        name: "event_id 1.5 and venue_id -1",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), event_id: 1.5, venue_id: -1 }),
        fields: ["event_id", "venue_id"],
      },
      ...[
        "not a date",
        "2026-12-01",
        "2026-12-01T19:30:00",
        "2026-13-01T19:30:00Z",
        "2026-02-30T19:30:00Z",
        "",
        1_767_225_600_000,
        null,
      ].map(
        (start_time): ValidationCase => ({
          name: `start_time ${JSON.stringify(start_time)}`,
          method: "POST",
          path: () => `${ADMIN}/shows`,
          body: () => ({ ...validShow(), start_time }),
          fields: ["start_time"],
        }),
      ),
      {
        name: "show without end_time",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => {
          const { end_time: _, ...rest } = validShow();
          return rest;
        },
        fields: ["end_time"],
      },
      {
        name: "show with an unknown field",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), capacity: 10 }),
        fields: ["capacity"],
      },
      {
        name: "show with every field wrong",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({
          event_id: "7",
          venue_id: 0,
          start_time: "tomorrow",
          end_time: "later",
          price: -0.001,
        }),
        fields: ["event_id", "venue_id", "start_time", "end_time", "price"],
      },
      {
        name: "show in a year PostgreSQL cannot store",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({
          ...validShow(),
          start_time: "0000-01-01T00:00:00Z",
          end_time: "+010000-01-01T00:00:00Z",
        }),
        fields: ["start_time", "end_time"],
      },
      {
        name: "show update with empty body",
        method: "PUT",
        path: () => `${ADMIN}/shows/${showId}`,
        body: () => ({}),
        fields: ["(root)"],
      },
      {
        name: "show update moving the end before the current start",
        method: "PUT",
        path: () => `${ADMIN}/shows/${showId}`,
        body: () => ({ end_time: new Date(Date.now() + HOUR).toISOString() }),
        fields: ["end_time"],
      },
      {
        name: "show update moving the start after the current end",
        method: "PUT",
        path: () => `${ADMIN}/shows/${showId}`,
        body: () => ({ start_time: new Date(Date.now() + 1000 * HOUR).toISOString() }),
        fields: ["end_time"],
      },
      {
        name: "show update with three-decimal price",
        method: "PUT",
        path: () => `${ADMIN}/shows/${showId}`,
        body: () => ({ price: 1.234 }),
        fields: ["price"],
      },
      {
        name: 'show update with event_id "7"',
        method: "PUT",
        path: () => `${ADMIN}/shows/${showId}`,
        body: () => ({ event_id: "7" }),
        fields: ["event_id"],
      },
      {
        name: "show update with an unknown field",
        method: "PUT",
        path: () => `${ADMIN}/shows/${showId}`,
        body: () => ({ show_id: 1 }),
        fields: ["show_id"],
      },
    ];

    for (const c of cases) {
      test(`${c.method} ${c.name} → 400 naming ${c.fields.join(", ")}`, async () => {
        const before = await snapshot(app);
        const response = await adminRequest(c.method, c.path(), c.body());
        expectValidationError(response, ...c.fields);
        expect(await snapshot(app)).toBe(before);
      });
    }

    test("malformed JSON and non-object bodies → 400 VALIDATION_ERROR", async () => {
      const before = await snapshot(app);
      const headers = { "Content-Type": "application/json" };
      const malformed = await app.request("POST", `${ADMIN}/venues`, {
        token: admin.token,
        headers,
        rawBody: '{"venue_name": "Hall",',
      });
      expectValidationError(malformed);
      const array = await adminRequest("POST", `${ADMIN}/events`, [{ title: "x" }]);
      expectValidationError(array);
      const noBody = await app.request("POST", `${ADMIN}/events`, { token: admin.token });
      expectValidationError(noBody);
      expect(await snapshot(app)).toBe(before);
    });

    const paramRoutes = [
      { method: "GET", path: (id: string) => `${ADMIN}/venues/${id}`, param: "venue_id" },
      {
        method: "PUT",
        path: (id: string) => `${ADMIN}/venues/${id}`,
        param: "venue_id",
        body: { venue_name: "Renamed" },
      },
      { method: "DELETE", path: (id: string) => `${ADMIN}/venues/${id}`, param: "venue_id" },
      {
        method: "POST",
        path: (id: string) => `${ADMIN}/venues/${id}/seats`,
        param: "venue_id",
        body: { rows: [{ seat_row: "P", count: 1 }] },
      },
      {
        method: "DELETE",
        path: (id: string) => `${ADMIN}/venues/${id}/seats`,
        param: "venue_id",
        body: { seat_ids: [1] },
      },
      {
        method: "PUT",
        path: (id: string) => `${ADMIN}/events/${id}`,
        param: "event_id",
        body: { title: "Renamed" },
      },
      { method: "DELETE", path: (id: string) => `${ADMIN}/events/${id}`, param: "event_id" },
      {
        method: "PUT",
        path: (id: string) => `${ADMIN}/shows/${id}`,
        param: "show_id",
        body: { price: 5 },
      },
      { method: "DELETE", path: (id: string) => `${ADMIN}/shows/${id}`, param: "show_id" },
    ];
    const badIds = ["abc", "-4", "1.5", "99999999999", "0", String(2 ** 31)];

    for (const route of paramRoutes) {
      test(`${route.method} ${route.path(`:${route.param}`)} with bad ids → 400`, async () => {
        const before = await snapshot(app);
        for (const id of badIds) {
          const response = await adminRequest(route.method, route.path(id), route.body);
          expect({ id, status: response.status }).toEqual({ id, status: 400 });
          expect(response.body.code).toBe("VALIDATION_ERROR");
          expect(Object.keys(response.body.details)).toContain(route.param);
        }
        expect(await snapshot(app)).toBe(before);
      });

      test(`${route.method} ${route.path(`:${route.param}`)} with an unknown id → 404`, async () => {
        const before = await snapshot(app);
        const response = await adminRequest(route.method, route.path(String(MAX_ID)), route.body);
        expect(response.status).toBe(404);
        expect(response.body.code).toBe("NOT_FOUND");
        const noun = { venue_id: "Venue", event_id: "Event", show_id: "Show" }[route.param];
        expect(response.body.message).toBe(`${noun} not found`);
        expect(await snapshot(app)).toBe(before);
      });
    }

    test("a show for an unknown event or venue → 404 and nothing is created", async () => {
      const before = await snapshot(app);
      const noEvent = await adminRequest("POST", `${ADMIN}/shows`, {
        ...validShow(),
        event_id: MAX_ID,
      });
      expect(noEvent.status).toBe(404);
      expect(noEvent.body.code).toBe("NOT_FOUND");
      expect(noEvent.body.message).toBe("Event not found");
      const noVenue = await adminRequest("POST", `${ADMIN}/shows`, {
        ...validShow(),
        venue_id: MAX_ID,
      });
      expect(noVenue.status).toBe(404);
      expect(noVenue.body.code).toBe("NOT_FOUND");
      expect(noVenue.body.message).toBe("Venue not found");
      const moveToNowhere = await adminRequest("PUT", `${ADMIN}/shows/${showId}`, {
        venue_id: MAX_ID,
      });
      expect(moveToNowhere.status).toBe(404);
      expect(moveToNowhere.body.code).toBe("NOT_FOUND");
      expect(await snapshot(app)).toBe(before);
    });

    test("?force accepts only true/false", async () => {
      const response = await adminRequest("DELETE", `${ADMIN}/shows/${showId}?force=yes`);
      expectValidationError(response, "force");
      expect(await count(app, sql`select count(*) as n from shows where show_id = ${showId}`)).toBe(
        1,
      );
    });
  });

  // ---- (c) happy paths ----------------------------------------------------------------------

  describe("venues", () => {
    test("create, read, update, delete", async () => {
      const created = await adminRequest("POST", `${ADMIN}/venues`, {
        venue_name: "  Crud Hall  ",
        address: "10 Crud Lane",
      });
      expect(created.status).toBe(201);
      const venue = created.body.venue;
      expect(Object.keys(venue).sort()).toEqual(
        ["address", "created_at", "venue_id", "venue_name"].sort(),
      );
      expect(Number.isInteger(venue.venue_id)).toBe(true);
      expect(venue.venue_id).toBeGreaterThan(0);
      expect(venue.venue_name).toBe("Crud Hall");
      expect(venue.address).toBe("10 Crud Lane");
      expect(new Date(venue.created_at).toISOString()).toBe(venue.created_at);

      const total = await count(
        app,
        sql`select count(*) as n from venues where deleted_at is null`,
      );
      const lastPage = await adminRequest("GET", `${ADMIN}/venues?limit=1&page=${total}`);
      expect(lastPage.status).toBe(200);
      expect(lastPage.body.venues).toEqual([venue]);

      const read = await adminRequest("GET", `${ADMIN}/venues/${venue.venue_id}`);
      expect(read.status).toBe(200);
      expect(read.body.venue).toEqual({ ...venue, total_seats: 0, seats: [] });

      const updated = await adminRequest("PUT", `${ADMIN}/venues/${venue.venue_id}`, {
        address: "11 Crud Lane",
      });
      expect(updated.status).toBe(200);
      expect(updated.body.venue).toEqual({ ...venue, address: "11 Crud Lane" });
      const [stored] = await query<{ venue_name: string; address: string }>(
        app,
        sql`select venue_name, address from venues where venue_id = ${venue.venue_id}`,
      );
      expect(stored).toEqual({ venue_name: "Crud Hall", address: "11 Crud Lane" });

      const deleted = await adminRequest("DELETE", `${ADMIN}/venues/${venue.venue_id}`);
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe("");
      expect(
        await count(
          app,
          sql`select count(*) as n from venues
              where venue_id = ${venue.venue_id} and deleted_at is not null`,
        ),
      ).toBe(1);
      expect(ok(await adminRequest("GET", `${ADMIN}/venues`)).venues).not.toContainEqual(
        expect.objectContaining({ venue_id: venue.venue_id }),
      );
      const gone = await adminRequest("GET", `${ADMIN}/venues/${venue.venue_id}`);
      expect(gone.status).toBe(404);
      expect(gone.body.code).toBe("NOT_FOUND");
      const again = await adminRequest("DELETE", `${ADMIN}/venues/${venue.venue_id}`);
      expect(again.status).toBe(404);
      const renamed = await adminRequest("PUT", `${ADMIN}/venues/${venue.venue_id}`, {
        address: "12 Crud Lane",
      });
      expect(renamed.status).toBe(404);
    });

    test("the list pages like every list: {venues, page, limit, total}, oldest first, deleted ones left out", async () => {
      for (let made = 0; made < 3; made++) await createVenue();
      const ids = (
        await query<{ venue_id: number }>(
          app,
          sql`select venue_id from venues where deleted_at is null order by venue_id`,
        )
      ).map((row) => Number(row.venue_id));
      const page = async (search: string) => {
        const response = await adminRequest("GET", `${ADMIN}/venues${search}`);
        expect(response.status).toBe(200);
        const { venues, ...envelope } = response.body;
        return { ids: venues.map((venue: { venue_id: number }) => venue.venue_id), envelope };
      };
      expect(await page("?limit=2")).toEqual({
        ids: ids.slice(0, 2),
        envelope: { page: 1, limit: 2, total: ids.length },
      });
      expect(await page("?limit=2&page=2")).toEqual({
        ids: ids.slice(2, 4),
        envelope: { page: 2, limit: 2, total: ids.length },
      });
      const beyond = Math.ceil(ids.length / 2) + 1;
      expect(await page(`?limit=2&page=${beyond}`)).toEqual({
        ids: [],
        envelope: { page: beyond, limit: 2, total: ids.length },
      });
      expect((await page("")).envelope).toEqual({ page: 1, limit: 20, total: ids.length });
    });

    test("page and limit out of bounds are 400 VALIDATION_ERROR naming the field", async () => {
      await expectPagingBounds((query) => adminRequest("GET", `${ADMIN}/venues?${query}`));
    });

    test("a venue with seats but no shows can be deleted; it takes no more seats or shows", async () => {
      const venueId = await createVenue();
      await adminRequest("POST", `${ADMIN}/venues/${venueId}/seats`, {
        rows: [{ seat_row: "A", count: 3 }],
      });
      const deleted = await adminRequest("DELETE", `${ADMIN}/venues/${venueId}`);
      expect(deleted.status).toBe(204);
      expect(
        await count(app, sql`select count(*) as n from seats where venue_id = ${venueId}`),
      ).toBe(3);
      const eventId = ok(await adminRequest("POST", `${ADMIN}/events`, { title: "Nowhere" }), 201)
        .event.event_id;
      const before = await snapshot(app);
      const moreSeats = await adminRequest("POST", `${ADMIN}/venues/${venueId}/seats`, {
        rows: [{ seat_row: "B", count: 1 }],
      });
      expect(moreSeats.status).toBe(404);
      const show = await adminRequest("POST", `${ADMIN}/shows`, {
        event_id: eventId,
        venue_id: venueId,
        ...futureWindow(),
        price: 10,
      });
      expect(show.status).toBe(404);
      expect(await snapshot(app)).toBe(before);
    });

    test("a venue with shows cannot be deleted (409)", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const before = await snapshot(app);
      const response = await adminRequest("DELETE", `${ADMIN}/venues/${fixture.venue_id}`);
      expect(response.status).toBe(409);
      expect(response.body.code).toBe("CONFLICT");
      expect(await snapshot(app)).toBe(before);
    });
  });

  describe("seat layout", () => {
    test("rows make A1..A20, start_number shifts the numbering", async () => {
      const venueId = await createVenue();
      const response = await adminRequest("POST", `${ADMIN}/venues/${venueId}/seats`, {
        rows: [
          { seat_row: "A", count: 20 },
          { seat_row: "B", count: 3, start_number: 10 },
        ],
      });
      expect(response.status).toBe(201);
      expect(response.body.venue_id).toBe(venueId);
      expect(response.body.created).toBe(23);
      const labels = response.body.seats.map(
        (seat: { seat_row: string; seat_number: number }) => `${seat.seat_row}${seat.seat_number}`,
      );
      expect(labels).toEqual([
        ...Array.from({ length: 20 }, (_, i) => `A${i + 1}`),
        "B10",
        "B11",
        "B12",
      ]);
      for (const seat of response.body.seats) {
        expect(Object.keys(seat).sort()).toEqual(["seat_id", "seat_number", "seat_row"]);
      }

      const stored = await query<{ seat_id: number; seat_row: string; seat_number: number }>(
        app,
        sql`select seat_id, seat_row, seat_number from seats where venue_id = ${venueId}
            order by seat_row, seat_number`,
      );
      expect(stored.map((seat) => `${seat.seat_row}${seat.seat_number}`)).toEqual(labels);
      expect(stored.map((seat) => seat.seat_id).sort((a, b) => a - b)).toEqual(
        response.body.seats
          .map((seat: { seat_id: number }) => seat.seat_id)
          .sort((a: number, b: number) => a - b),
      );

      const read = await adminRequest("GET", `${ADMIN}/venues/${venueId}`);
      expect(read.status).toBe(200);
      expect(read.body.venue.total_seats).toBe(23);
      expect(read.body.venue.seats).toEqual(response.body.seats);
    });

    test("explicit seats are created as given", async () => {
      const venueId = await createVenue();
      const response = await adminRequest("POST", `${ADMIN}/venues/${venueId}/seats`, {
        seats: [
          { seat_row: "C", seat_number: 7 },
          { seat_row: "AA", seat_number: 1 },
          { seat_row: "C", seat_number: 2 },
        ],
      });
      expect(response.status).toBe(201);
      expect(response.body.created).toBe(3);
      const stored = await query<{ seat_row: string; seat_number: number }>(
        app,
        sql`select seat_row, seat_number from seats where venue_id = ${venueId}
            order by seat_row, seat_number`,
      );
      expect(stored).toEqual([
        { seat_row: "AA", seat_number: 1 },
        { seat_row: "C", seat_number: 2 },
        { seat_row: "C", seat_number: 7 },
      ]);
      // The layout lists single-letter rows before double-letter ones.
      const read = await adminRequest("GET", `${ADMIN}/venues/${venueId}`);
      expect(
        read.body.venue.seats.map(
          (seat: { seat_row: string; seat_number: number }) =>
            `${seat.seat_row}${seat.seat_number}`,
        ),
      ).toEqual(["C2", "C7", "AA1"]);
    });

    test("duplicate seats → 409 and nothing is inserted", async () => {
      const venueId = await createVenue();
      const first = await adminRequest("POST", `${ADMIN}/venues/${venueId}/seats`, {
        rows: [{ seat_row: "A", count: 5 }],
      });
      expect(first.status).toBe(201);
      const seatCount = () =>
        count(app, sql`select count(*) as n from seats where venue_id = ${venueId}`);

      const bodies = [
        // an existing seat next to new ones
        {
          seats: [
            { seat_row: "D", seat_number: 1 },
            { seat_row: "A", seat_number: 5 },
          ],
        },
        // rows overlapping existing seats
        { rows: [{ seat_row: "A", count: 8 }] },
        // the same seat twice in one request
        {
          seats: [
            { seat_row: "E", seat_number: 1 },
            { seat_row: "E", seat_number: 1 },
          ],
        },
        // two rows that overlap each other
        {
          rows: [
            { seat_row: "F", count: 3 },
            { seat_row: "F", count: 2, start_number: 3 },
          ],
        },
      ];
      for (const body of bodies) {
        const before = await snapshot(app);
        const response = await adminRequest("POST", `${ADMIN}/venues/${venueId}/seats`, body);
        expect({ body, status: response.status }).toEqual({ body, status: 409 });
        expect(response.body.code).toBe("CONFLICT");
        expect(await seatCount()).toBe(5);
        expect(await snapshot(app)).toBe(before);
      }
      // The same seat row/number in another venue is fine.
      const other = await createVenue();
      const elsewhere = await adminRequest("POST", `${ADMIN}/venues/${other}/seats`, {
        rows: [{ seat_row: "A", count: 5 }],
      });
      expect(elsewhere.status).toBe(201);
    });

    test("delete seats; seats of another venue → 400 with details.invalid_seats", async () => {
      const venueId = await createVenue();
      const otherId = await createVenue();
      const mine = await adminRequest("POST", `${ADMIN}/venues/${venueId}/seats`, {
        rows: [{ seat_row: "A", count: 4 }],
      });
      const theirs = await adminRequest("POST", `${ADMIN}/venues/${otherId}/seats`, {
        rows: [{ seat_row: "A", count: 1 }],
      });
      const myIds: number[] = mine.body.seats.map((seat: { seat_id: number }) => seat.seat_id);
      const theirId: number = theirs.body.seats[0].seat_id;

      const before = await snapshot(app);
      const refused = await adminRequest("DELETE", `${ADMIN}/venues/${venueId}/seats`, {
        seat_ids: [myIds[0], theirId, MAX_ID],
      });
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe("VALIDATION_ERROR");
      expect(refused.body.details.invalid_seats).toEqual([theirId, MAX_ID]);
      expect(await snapshot(app)).toBe(before);

      const deleted = await adminRequest("DELETE", `${ADMIN}/venues/${venueId}/seats`, {
        seat_ids: [myIds[0], myIds[1], myIds[0]],
      });
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe("");
      const left = await query<{ seat_id: number }>(
        app,
        sql`select seat_id from seats where venue_id = ${venueId} and deleted_at is null
            order by seat_id`,
      );
      expect(left.map((seat) => seat.seat_id)).toEqual(myIds.slice(2).sort((a, b) => a - b));
      expect(
        await count(app, sql`select count(*) as n from seats where seat_id = ${theirId}`),
      ).toBe(1);
    });

    test("seats added to a venue with shows get show_seats rows for those shows", async () => {
      const fixture = await createShowFixture(app, admin.token); // rows A, B × 5
      const second = await createShow(fixture.event_id, fixture.venue_id, 96);
      const unrelated = await createShowFixture(app, admin.token);
      const unrelatedBefore = await count(
        app,
        sql`select count(*) as n from show_seats where show_id = ${unrelated.show_id}`,
      );

      const added = await adminRequest("POST", `${ADMIN}/venues/${fixture.venue_id}/seats`, {
        rows: [{ seat_row: "C", count: 4 }],
      });
      expect(added.status).toBe(201);
      const newIds: number[] = added.body.seats.map((seat: { seat_id: number }) => seat.seat_id);

      for (const showId of [fixture.show_id, second]) {
        const rows = await query<{ seat_id: number; status: string; booking_id: number | null }>(
          app,
          sql`select seat_id, status, booking_id from show_seats
              where show_id = ${showId} and seat_id in ${newIds} order by seat_id`,
        );
        expect(rows).toEqual(
          [...newIds]
            .sort((a, b) => a - b)
            .map((seat_id) => ({ seat_id, status: "AVAILABLE", booking_id: null })),
        );
        expect(
          await count(app, sql`select count(*) as n from show_seats where show_id = ${showId}`),
        ).toBe(14);
        const show = await app.request("GET", `/api/v1/shows/${showId}`);
        expect(show.body.show.total_seats).toBe(14);
        expect(show.body.show.available_seats).toBe(14);
      }
      expect(
        await count(
          app,
          sql`select count(*) as n from show_seats where show_id = ${unrelated.show_id}`,
        ),
      ).toBe(unrelatedBefore);
      expect(
        await count(app, sql`select count(*) as n from show_seats where seat_id in ${newIds}`),
      ).toBe(8);
    });

    test("deleting seats held by PENDING or CONFIRMED bookings → 409, nothing deleted", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const [pendingSeat, bookedSeat, freeSeat] = fixture.seat_ids as [number, number, number];
      await insertBooking(app, user.user_id, fixture.show_id, [pendingSeat], "PENDING");
      await insertBooking(app, user.user_id, fixture.show_id, [bookedSeat], "CONFIRMED");

      for (const seatIds of [[pendingSeat], [freeSeat, bookedSeat]]) {
        const before = await snapshot(app);
        const response = await adminRequest("DELETE", `${ADMIN}/venues/${fixture.venue_id}/seats`, {
          seat_ids: seatIds,
        });
        expect(response.status).toBe(409);
        expect(response.body.code).toBe("CONFLICT");
        expect(await snapshot(app)).toBe(before);
      }

      const free = await adminRequest("DELETE", `${ADMIN}/venues/${fixture.venue_id}/seats`, {
        seat_ids: [freeSeat],
      });
      expect(free.status).toBe(204);
      expect(
        await count(app, sql`select count(*) as n from show_seats where seat_id = ${freeSeat}`),
      ).toBe(0);
    });
  });

  describe("events", () => {
    test("create, update, delete", async () => {
      const created = await adminRequest("POST", `${ADMIN}/events`, {
        title: " Crud Event ",
        description: "All about CRUD",
      });
      expect(created.status).toBe(201);
      const event = created.body.event;
      expect(Object.keys(event).sort()).toEqual(
        ["created_at", "description", "event_id", "title"].sort(),
      );
      expect(event.title).toBe("Crud Event");
      expect(event.description).toBe("All about CRUD");
      expect(Number.isInteger(event.event_id)).toBe(true);

      const noDescription = await adminRequest("POST", `${ADMIN}/events`, { title: "Bare" });
      expect(noDescription.status).toBe(201);
      expect(noDescription.body.event.description).toBeNull();

      const updated = await adminRequest("PUT", `${ADMIN}/events/${event.event_id}`, {
        description: null,
      });
      expect(updated.status).toBe(200);
      expect(updated.body.event).toEqual({ ...event, description: null });
      const renamed = await adminRequest("PUT", `${ADMIN}/events/${event.event_id}`, {
        title: "Renamed",
      });
      expect(renamed.status).toBe(200);
      expect(renamed.body.event).toEqual({ ...event, title: "Renamed", description: null });

      const deleted = await adminRequest("DELETE", `${ADMIN}/events/${event.event_id}`);
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe("");
      expect(
        await count(
          app,
          sql`select count(*) as n from events
              where event_id = ${event.event_id} and deleted_at is not null`,
        ),
      ).toBe(1);
      const gone = await adminRequest("PUT", `${ADMIN}/events/${event.event_id}`, { title: "x" });
      expect(gone.status).toBe(404);
      expect(gone.body.code).toBe("NOT_FOUND");
    });

    test("deleting an event with booking history retires it and its shows; refused while bookings are active", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const bookingId = await insertBooking(app, user.user_id, fixture.show_id, [
        fixture.seat_ids[0] as number,
      ]);
      const before = await snapshot(app);
      const refused = await adminRequest("DELETE", `${ADMIN}/events/${fixture.event_id}`);
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe("CONFLICT");
      expect(await snapshot(app)).toBe(before);

      await query(
        app,
        sql`update bookings set status = 'CANCELLED' where booking_id = ${bookingId}`,
      );
      await query(
        app,
        sql`update show_seats set status = 'AVAILABLE', booking_id = null, locked_until = null
            where booking_id = ${bookingId}`,
      );
      const deleted = await adminRequest("DELETE", `${ADMIN}/events/${fixture.event_id}`);
      expect(deleted.status).toBe(204);
      // Out of the catalog and of the admin routes...
      expect((await app.request("GET", `/api/v1/events/${fixture.event_id}`)).status).toBe(404);
      expect((await app.request("GET", `/api/v1/shows/${fixture.show_id}`)).status).toBe(404);
      const listed = ok(await app.request("GET", "/api/v1/events?limit=100"));
      expect(listed.events.map((event: { event_id: number }) => event.event_id)).not.toContain(
        fixture.event_id,
      );
      expect(
        (await adminRequest("PUT", `${ADMIN}/events/${fixture.event_id}`, { title: "Back" }))
          .status,
      ).toBe(404);
      expect((await adminRequest("DELETE", `${ADMIN}/events/${fixture.event_id}`)).status).toBe(
        404,
      );
      // ...but the event, its show and the booking stay, for the booking's history.
      const [kept] = await query<{ event_deleted: boolean; show_deleted: boolean; status: string }>(
        app,
        sql`select e.deleted_at is not null as event_deleted,
              sh.deleted_at is not null as show_deleted, b.status::text as status
            from bookings b join shows sh on sh.show_id = b.show_id
            join events e on e.event_id = sh.event_id
            where b.booking_id = ${bookingId}`,
      );
      expect(kept).toEqual({ event_deleted: true, show_deleted: true, status: "CANCELLED" });
      expect(
        await count(
          app,
          sql`select count(*) as n from show_seats where show_id = ${fixture.show_id}`,
        ),
      ).toBe(0);
      // The venue and its seats stay.
      expect(
        await count(app, sql`select count(*) as n from seats where venue_id = ${fixture.venue_id}`),
      ).toBe(10);
    });

    test("an event whose shows never had a booking is marked deleted with them, not erased", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const deleted = await adminRequest("DELETE", `${ADMIN}/events/${fixture.event_id}`);
      expect(deleted.status).toBe(204);
      expect(
        await count(
          app,
          sql`select count(*) as n from events e join shows sh on sh.event_id = e.event_id
              where e.event_id = ${fixture.event_id} and e.deleted_at is not null
                and sh.deleted_at is not null`,
        ),
      ).toBe(1);
      expect((await app.request("GET", `/api/v1/shows/${fixture.show_id}`)).status).toBe(404);
    });
  });

  describe("shows", () => {
    test("create makes exactly one AVAILABLE show_seats row per venue seat", async () => {
      const venueId = await createVenue();
      const layout = await adminRequest("POST", `${ADMIN}/venues/${venueId}/seats`, {
        rows: [
          { seat_row: "A", count: 6 },
          { seat_row: "B", count: 4 },
        ],
      });
      const eventId = await createEvent("Show CRUD event");
      const window = futureWindow(50);
      const created = await adminRequest("POST", `${ADMIN}/shows`, {
        event_id: eventId,
        venue_id: venueId,
        ...window,
        price: 49.5,
      });
      expect(created.status).toBe(201);
      const show = created.body.show;
      expect(Object.keys(show).sort()).toEqual(
        [
          "available_seats",
          "deleted",
          "end_time",
          "event",
          "price",
          "sales_open_at",
          "show_id",
          "start_time",
          "total_seats",
          "venue",
        ].sort(),
      );
      expect(show.start_time).toBe(window.start_time);
      expect(show.end_time).toBe(window.end_time);
      expect(show.price).toBe(49.5);
      expect(show.event).toEqual({
        event_id: eventId,
        title: "Show CRUD event",
        description: null,
      });
      expect(show.venue).toEqual({
        venue_id: venueId,
        venue_name: expect.any(String),
        address: "2 Admin Road",
      });
      expect(show.total_seats).toBe(10);
      expect(show.available_seats).toBe(10);

      const rows = await query<{ seat_id: number; status: string; booking_id: number | null }>(
        app,
        sql`select seat_id, status, booking_id from show_seats where show_id = ${show.show_id}
            order by seat_id`,
      );
      const venueSeatIds = layout.body.seats
        .map((seat: { seat_id: number }) => seat.seat_id)
        .sort((a: number, b: number) => a - b);
      expect(rows).toEqual(
        venueSeatIds.map((seat_id: number) => ({ seat_id, status: "AVAILABLE", booking_id: null })),
      );
      const [stored] = await query<{ price_cents: number }>(
        app,
        sql`select price_cents from shows where show_id = ${show.show_id}`,
      );
      expect(Number(stored?.price_cents)).toBe(4950);
    });

    test("a show at a venue without seats has no show_seats", async () => {
      const venueId = await createVenue();
      const eventId = await createEvent();
      const created = await adminRequest("POST", `${ADMIN}/shows`, {
        event_id: eventId,
        venue_id: venueId,
        ...futureWindow(),
        price: 0,
      });
      expect(created.status).toBe(201);
      expect(created.body.show.total_seats).toBe(0);
      expect(created.body.show.price).toBe(0);
      expect(
        await count(
          app,
          sql`select count(*) as n from show_seats where show_id = ${created.body.show.show_id}`,
        ),
      ).toBe(0);
    });

    test("update replaces the fields sent; timestamps with offsets are stored in UTC", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const original = (await app.request("GET", `/api/v1/shows/${fixture.show_id}`)).body.show;

      const priced = await adminRequest("PUT", `${ADMIN}/shows/${fixture.show_id}`, {
        price: 12.34,
      });
      expect(priced.status).toBe(200);
      expect(priced.body.show).toEqual({ ...original, price: 12.34 });

      const moved = await adminRequest("PUT", `${ADMIN}/shows/${fixture.show_id}`, {
        start_time: "2099-06-01T20:00:00+02:00",
        end_time: "2099-06-01T23:30:00+02:00",
      });
      expect(moved.status).toBe(200);
      expect(moved.body.show.start_time).toBe("2099-06-01T18:00:00.000Z");
      expect(moved.body.show.end_time).toBe("2099-06-01T21:30:00.000Z");
      expect(moved.body.show.price).toBe(12.34);

      const otherEvent = await createEvent("Moved event");
      const reassigned = await adminRequest("PUT", `${ADMIN}/shows/${fixture.show_id}`, {
        event_id: otherEvent,
      });
      expect(reassigned.status).toBe(200);
      expect(reassigned.body.show.event.event_id).toBe(otherEvent);
      expect(reassigned.body.show.event.title).toBe("Moved event");
    });

    test("moving a show to another venue rebuilds its show_seats; refused once booked", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const newVenue = await createVenue();
      const layout = await adminRequest("POST", `${ADMIN}/venues/${newVenue}/seats`, {
        rows: [{ seat_row: "K", count: 3 }],
      });
      const newSeatIds: number[] = layout.body.seats
        .map((seat: { seat_id: number }) => seat.seat_id)
        .sort((a: number, b: number) => a - b);

      const moved = await adminRequest("PUT", `${ADMIN}/shows/${fixture.show_id}`, {
        venue_id: newVenue,
      });
      expect(moved.status).toBe(200);
      expect(moved.body.show.venue.venue_id).toBe(newVenue);
      expect(moved.body.show.total_seats).toBe(3);
      const rows = await query<{ seat_id: number }>(
        app,
        sql`select seat_id from show_seats where show_id = ${fixture.show_id} order by seat_id`,
      );
      expect(rows.map((row) => row.seat_id)).toEqual(newSeatIds);

      await insertBooking(app, user.user_id, fixture.show_id, [newSeatIds[0] as number]);
      const before = await snapshot(app);
      const refused = await adminRequest("PUT", `${ADMIN}/shows/${fixture.show_id}`, {
        venue_id: fixture.venue_id,
      });
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe("CONFLICT");
      expect(await snapshot(app)).toBe(before);
    });

    test("delete → 204: the show is marked deleted and its show_seats are gone", async () => {
      const fixture = await createShowFixture(app, admin.token);
      // Leaves the show's times in the API's short cache, as a sale's traffic would.
      expect((await holdSeats(app, user, fixture.show_id, [2_000_000_000])).status).toBe(400);
      const deleted = await adminRequest("DELETE", `${ADMIN}/shows/${fixture.show_id}`);
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe("");
      expect(
        await count(
          app,
          sql`select count(*) as n from shows
              where show_id = ${fixture.show_id} and deleted_at is not null`,
        ),
      ).toBe(1);
      expect(
        await count(
          app,
          sql`select count(*) as n from show_seats where show_id = ${fixture.show_id}`,
        ),
      ).toBe(0);
      const publicView = await app.request("GET", `/api/v1/shows/${fixture.show_id}`);
      expect(publicView.status).toBe(404);
      expect(publicView.body.code).toBe("NOT_FOUND");
      const lateHold = await holdSeats(app, user, fixture.show_id, [fixture.seat_ids[0] as number]);
      expect(lateHold.status).toBe(404);
      expect(lateHold.body.code).toBe("NOT_FOUND");
      // The venue keeps its seats and can now be deleted.
      expect(
        await count(app, sql`select count(*) as n from seats where venue_id = ${fixture.venue_id}`),
      ).toBe(10);
      const venueDeleted = await adminRequest("DELETE", `${ADMIN}/venues/${fixture.venue_id}`);
      expect(venueDeleted.status).toBe(204);
    });

    test("delete with an active booking → 409; ?force=true → 204, cancelled and refunded, history kept", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const [first, second] = fixture.seat_ids as [number, number];
      const pending = await insertBooking(app, user.user_id, fixture.show_id, [first], "PENDING");
      const confirmed = await insertPaidBooking(app, user.user_id, fixture.show_id, [second]);

      for (const suffix of ["", "?force=false"]) {
        const before = await snapshot(app);
        const refused = await adminRequest("DELETE", `${ADMIN}/shows/${fixture.show_id}${suffix}`);
        expect(refused.status).toBe(409);
        expect(refused.body.code).toBe("CONFLICT");
        expect(await snapshot(app)).toBe(before);
      }
      const [stillPending] = await query<{ status: string }>(
        app,
        sql`select status from bookings where booking_id = ${pending}`,
      );
      expect(stillPending?.status).toBe("PENDING");

      const forced = await adminRequest("DELETE", `${ADMIN}/shows/${fixture.show_id}?force=true`);
      expect(forced.status).toBe(204);
      expect(
        await count(
          app,
          sql`select count(*) as n from show_seats where show_id = ${fixture.show_id}`,
        ),
      ).toBe(0);
      // The bookings and the refunded payment stay, and the buyer still sees them.
      expect(await bookingsAndPayments(app, fixture.show_id)).toEqual([
        { booking_id: pending, status: "CANCELLED", payment: null },
        { booking_id: confirmed, status: "CANCELLED", payment: "REFUNDED" },
      ]);
      const history = ok(
        await app.request("GET", "/api/v1/user/bookings?limit=100", { token: user.token }),
      );
      const ofShow = history.bookings.filter(
        (booking: { show: { show_id: number } }) => booking.show.show_id === fixture.show_id,
      );
      expect(ofShow.map((booking: { status: string }) => booking.status)).toEqual([
        "CANCELLED",
        "CANCELLED",
      ]);
      // The show itself is gone for everyone else.
      expect((await app.request("GET", `/api/v1/shows/${fixture.show_id}`)).status).toBe(404);
      expect((await app.request("GET", `/api/v1/shows/${fixture.show_id}/seats`)).status).toBe(404);
      const hold = await holdSeats(app, user, fixture.show_id, [first]);
      expect(hold.status).toBe(404);
      const search = ok(await app.request("GET", "/api/v1/shows/search?limit=100"));
      expect(search.shows.map((show: { show_id: number }) => show.show_id)).not.toContain(
        fixture.show_id,
      );
      expect(
        (await adminRequest("PUT", `${ADMIN}/shows/${fixture.show_id}`, { price: 1 })).status,
      ).toBe(404);
      expect((await adminRequest("DELETE", `${ADMIN}/shows/${fixture.show_id}`)).status).toBe(404);
      // Its venue can go now, and the deleted show keeps pointing at it.
      const venue = await adminRequest("DELETE", `${ADMIN}/venues/${fixture.venue_id}`);
      expect(venue.status).toBe(204);
      expect(await bookingsAndPayments(app, fixture.show_id)).toHaveLength(2);
    });

    test("a show that has taken place is no exception: its active bookings make it 409 without ?force", async () => {
      const fixture = await createShowFixture(app, admin.token);
      await insertPaidBooking(app, user.user_id, fixture.show_id, [fixture.seat_ids[0] as number]);
      await moveShowToThePast(app, fixture.show_id);
      for (const path of [
        `${ADMIN}/shows/${fixture.show_id}`,
        `${ADMIN}/events/${fixture.event_id}`,
      ]) {
        const before = await snapshot(app);
        const refused = await adminRequest("DELETE", path);
        expect(refused.status).toBe(409);
        expect(refused.body.code).toBe("CONFLICT");
        expect(await snapshot(app)).toBe(before);
      }
    });

    test("?force=true on a show that has taken place calls it off: cancelled and refunded", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const confirmed = await insertPaidBooking(app, user.user_id, fixture.show_id, [
        fixture.seat_ids[0] as number,
      ]);
      await moveShowToThePast(app, fixture.show_id);
      const forced = await adminRequest("DELETE", `${ADMIN}/shows/${fixture.show_id}?force=true`);
      expect(forced.status).toBe(204);
      expect(await bookingsAndPayments(app, fixture.show_id)).toEqual([
        { booking_id: confirmed, status: "CANCELLED", payment: "REFUNDED" },
      ]);
    });

    test("?force=true on a show without bookings also deletes it", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const forced = await adminRequest("DELETE", `${ADMIN}/shows/${fixture.show_id}?force=true`);
      expect(forced.status).toBe(204);
      expect(
        await count(
          app,
          sql`select count(*) as n from shows
              where show_id = ${fixture.show_id} and deleted_at is not null`,
        ),
      ).toBe(1);
    });
  });
});

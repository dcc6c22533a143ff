import { sign } from "hono/jwt";
import { query, sql, TEST_JWT_SECRET, type TestApp } from "./harness";

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}`;

export interface TestUser {
  token: string;
  user_id: number;
  email: string;
  password: string;
}

export async function registerUser(
  app: TestApp,
  overrides: { email?: string } = {},
): Promise<TestUser> {
  const email = overrides.email ?? `user-${unique()}@example.com`;
  const password = "password-123";
  const response = await app.request("POST", "/api/v1/auth/register", {
    body: { email, password },
  });
  if (response.status !== 201)
    throw new Error(`register failed: ${response.status} ${response.text}`);
  return { token: response.body.token, user_id: response.body.user.user_id, email, password };
}

export async function createAdmin(app: TestApp): Promise<TestUser> {
  const email = `admin-${unique()}@example.com`;
  const password = "admin-password-123";
  const admin = await app.runtime.services.auth.ensureAdmin({ email, password });
  const response = await app.request("POST", "/api/v1/auth/login", { body: { email, password } });
  if (response.status !== 200) throw new Error(`admin login failed: ${response.text}`);
  return { token: response.body.token, user_id: admin.user_id, email, password };
}

/** POST /bookings/lock as `user`: holds `seatIds` of the show. */
export const holdSeats = (
  app: TestApp,
  user: { token: string },
  showId: number,
  seatIds: number[],
) =>
  app.request("POST", "/api/v1/bookings/lock", {
    token: user.token,
    body: { show_id: showId, seat_ids: seatIds },
  });

/** POST /bookings/lock as `user`: holds the `quantity` best seats of the show. */
export const holdBest = (
  app: TestApp,
  user: { token: string },
  showId: number,
  quantity: number,
  adjacent?: boolean,
) =>
  app.request("POST", "/api/v1/bookings/lock", {
    token: user.token,
    body: { show_id: showId, quantity, ...(adjacent === undefined ? {} : { adjacent }) },
  });

/** Pays for a held booking and confirms it, as its owner would; throws unless both are 200. */
export async function payAndConfirm(
  app: TestApp,
  owner: { token: string },
  booking: { booking_id: number; amount: number },
): Promise<void> {
  const steps: [string, unknown][] = [
    [
      "/api/v1/bookings/payments/simulate",
      { booking_id: booking.booking_id, amount: booking.amount },
    ],
    [`/api/v1/bookings/${booking.booking_id}/confirm`, {}],
  ];
  for (const [path, body] of steps) {
    const response = await app.request("POST", path, { token: owner.token, body });
    if (response.status !== 200) {
      throw new Error(`POST ${path} failed: ${response.status} ${response.text}`);
    }
  }
}

export interface ShowFixture {
  venue_id: number;
  event_id: number;
  show_id: number;
  seat_ids: number[];
  price: number;
}

/** A venue with `rows` × `perRow` seats, an event, and a show starting in `startsInHours`. */
export async function createShowFixture(
  app: TestApp,
  adminToken: string,
  options: { rows?: string[]; perRow?: number; price?: number; startsInHours?: number } = {},
): Promise<ShowFixture> {
  const token = adminToken;
  const rows = options.rows ?? ["A", "B"];
  const perRow = options.perRow ?? 5;
  const price = options.price ?? 25.5;
  const venue = await app.request("POST", "/api/v1/admin/venues", {
    token,
    body: { venue_name: `Venue ${unique()}`, address: "1 Test Street" },
  });
  const venueId = venue.body.venue.venue_id;
  const seats = await app.request("POST", `/api/v1/admin/venues/${venueId}/seats`, {
    token,
    body: { rows: rows.map((seat_row) => ({ seat_row, count: perRow })) },
  });
  const event = await app.request("POST", "/api/v1/admin/events", {
    token,
    body: { title: `Event ${unique()}`, description: "test" },
  });
  const start = Date.now() + (options.startsInHours ?? 48) * 3_600_000;
  const show = await app.request("POST", "/api/v1/admin/shows", {
    token,
    body: {
      event_id: event.body.event.event_id,
      venue_id: venueId,
      start_time: new Date(start).toISOString(),
      end_time: new Date(start + 2 * 3_600_000).toISOString(),
      price,
    },
  });
  if (show.status !== 201) throw new Error(`show creation failed: ${show.text}`);
  return {
    venue_id: venueId,
    event_id: event.body.event.event_id,
    show_id: show.body.show.show_id,
    seat_ids: seats.body.seats.map((seat: { seat_id: number }) => seat.seat_id),
    price,
  };
}

/**
 * Many users at once, written in one SQL statement with tokens signed like the API's: for
 * suites that need hundreds of distinct users without paying bcrypt for each.
 */
export async function createUsersDirect(app: TestApp, count: number): Promise<TestUser[]> {
  const tag = unique();
  const rows = await query<{ user_id: number; email: string }>(
    app,
    sql`insert into users (email, password_hash)
        select 'bulk-' || ${tag} || '-' || n || '@example.com', 'not-a-login-hash'
        from generate_series(1, ${count}) as n
        returning user_id, email`,
  );
  const now = Math.floor(Date.now() / 1000);
  return Promise.all(
    rows.map(async (row) => ({
      user_id: row.user_id,
      email: row.email,
      password: "",
      token: await sign(
        { sub: row.user_id, ver: 0, role: "user", iat: now, exp: now + 3600 },
        TEST_JWT_SECRET,
        "HS256",
      ),
    })),
  );
}

/** Moves the show into the past: it started three hours ago and ended one hour ago. */
export async function moveShowToThePast(app: TestApp, showId: number): Promise<void> {
  await query(
    app,
    sql`update shows set start_time = now() - interval '3 hours',
          end_time = now() - interval '1 hour'
        where show_id = ${showId}`,
  );
}

/**
 * Makes PENDING holds run out, as time would: their bookings and the seat rows they lock.
 * Answers each booking's lock token, for a test that also drops its Redis locks.
 */
export async function lapseHolds(app: TestApp, bookingIds: number[]): Promise<string[]> {
  const ids = sql.param(bookingIds);
  const rows = await query<{ lock_token: string }>(
    app,
    sql`update bookings set expires_at = now() - interval '1 second'
        where booking_id = any(${ids}::int[]) returning lock_token::text as lock_token`,
  );
  await query(
    app,
    sql`update show_seats set locked_until = now() - interval '1 second'
        where booking_id = any(${ids}::int[])`,
  );
  return rows.map((row) => row.lock_token);
}

import { sign } from "hono/jwt";
import { bodyAt } from "./answers";
import { answer, query, sql, TEST_JWT_SECRET, type TestApp } from "./harness";

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
  const response = await answer(app.client().auth.register.$post({ json: { email, password } }));
  if (response.status !== 201)
    throw new Error(`register failed: ${response.status} ${response.text}`);
  const session = bodyAt(response, 201);
  return { token: session.token, user_id: session.user.user_id, email, password };
}

export async function createAdmin(app: TestApp): Promise<TestUser> {
  const email = `admin-${unique()}@example.com`;
  const password = "admin-password-123";
  const admin = await app.runtime.services.auth.ensureAdmin({ email, password });
  const response = await answer(app.client().auth.login.$post({ json: { email, password } }));
  if (response.status !== 200) throw new Error(`admin login failed: ${response.text}`);
  return { token: bodyAt(response, 200).token, user_id: admin.user_id, email, password };
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

/** "A7"-style names of the seats a hold answered, sorted. */
export const seatNames = (held: { locked_seats: { seat_row: string; seat_number: number }[] }) =>
  held.locked_seats.map((seat) => `${seat.seat_row}${seat.seat_number}`).sort();

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
  const bookings = app.client(owner.token).bookings;
  const paid = await answer(
    bookings.payments.simulate.$post({
      json: { booking_id: booking.booking_id, amount: booking.amount },
      header: {},
    }),
  );
  if (paid.status !== 200) throw new Error(`paying failed: ${paid.status} ${paid.text}`);
  const confirmed = await answer(
    bookings[":booking_id"].confirm.$post({
      param: { booking_id: String(booking.booking_id) },
      json: {},
      header: {},
    }),
  );
  if (confirmed.status !== 200) {
    throw new Error(`confirming failed: ${confirmed.status} ${confirmed.text}`);
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
  const admin = app.client(adminToken).admin;
  const rows = options.rows ?? ["A", "B"];
  const perRow = options.perRow ?? 5;
  const price = options.price ?? 25.5;
  const venue = await answer(
    admin.venues.$post({ json: { venue_name: `Venue ${unique()}`, address: "1 Test Street" } }),
  );
  const venueId = bodyAt(venue, 201).venue.venue_id;
  const seats = await answer(
    admin.venues[":venue_id"].seats.$post({
      param: { venue_id: String(venueId) },
      json: { rows: rows.map((seat_row) => ({ seat_row, count: perRow })) },
    }),
  );
  const event = await answer(
    admin.events.$post({ json: { title: `Event ${unique()}`, description: "test" } }),
  );
  const eventId = bodyAt(event, 201).event.event_id;
  const start = Date.now() + (options.startsInHours ?? 48) * 3_600_000;
  const show = await answer(
    admin.shows.$post({
      json: {
        event_id: eventId,
        venue_id: venueId,
        start_time: new Date(start).toISOString(),
        end_time: new Date(start + 2 * 3_600_000).toISOString(),
        price,
      },
    }),
  );
  if (show.status !== 201) throw new Error(`show creation failed: ${show.text}`);
  return {
    venue_id: venueId,
    event_id: eventId,
    show_id: bodyAt(show, 201).show.show_id,
    seat_ids: bodyAt(seats, 201).seats.map((seat) => seat.seat_id),
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

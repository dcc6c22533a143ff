import { afterAll, beforeAll, expect } from "bun:test";
import { bodyAt } from "./answers";
import { createAdmin, registerUser, type TestUser } from "./fixtures";
import { answer, createTestApp, query, SETUP_TIMEOUT_MS, sql, type TestApp } from "./harness";
import type { Backend } from "./services";

/** What the admin suites (test/admin/) share: their data helpers and an app per file. */

export const ADMIN = "/api/v1/admin";
export const HOUR = 3_600_000;

/** Everything an admin route could change, as one comparable string. */
export async function snapshot(app: TestApp): Promise<string> {
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

/** Whether the row of `table` with this id is soft-deleted (deleted_at set); throws if none. */
export async function softDeleted(
  app: TestApp,
  table: "events" | "venues" | "shows" | "seats",
  id: number,
): Promise<boolean> {
  const key = sql.raw(`${table.slice(0, -1)}_id`);
  const [row] = await query<{ deleted: boolean }>(
    app,
    sql`select deleted_at is not null as deleted from ${sql.raw(table)} where ${key} = ${id}`,
  );
  if (!row) throw new Error(`no ${table} row ${id}`);
  return row.deleted;
}

export async function count(app: TestApp, statement: ReturnType<typeof sql>): Promise<number> {
  const [row] = await query<{ n: number | string }>(app, statement);
  return Number(row?.n);
}

/**
 * A booking made without the booking API: a PENDING hold (seats LOCKED for 10 minutes) or a
 * CONFIRMED booking (seats BOOKED).
 */
export async function insertBooking(
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
export const bookingsAndPayments = (app: TestApp, showId: number) =>
  query<{ booking_id: number; status: string; payment: string | null }>(
    app,
    sql`select b.booking_id, b.status::text as status, p.status::text as payment
        from bookings b left join payments p on p.booking_id = b.booking_id
        where b.show_id = ${showId} order by b.booking_id`,
  );

/** insertBooking's CONFIRMED booking, paid: with a SUCCEEDED payment of its amount. */
export async function insertPaidBooking(
  app: TestApp,
  userId: number,
  showId: number,
  seatIds: number[],
) {
  const bookingId = await insertBooking(app, userId, showId, seatIds, "CONFIRMED");
  await query(
    app,
    sql`insert into payments (booking_id, amount_cents, status, transaction_id)
        select booking_id, amount_cents, 'SUCCEEDED', ${`txn_test_${bookingId}`}
        from bookings where booking_id = ${bookingId}`,
  );
  return bookingId;
}

export const futureWindow = (startsInHours = 72) => {
  const start = new Date(Date.now() + startsInHours * HOUR);
  start.setUTCMilliseconds(0);
  return {
    start_time: start.toISOString(),
    end_time: new Date(start.getTime() + 2 * HOUR).toISOString(),
  };
};

export function expectValidationError(
  response: { status: number; body: { code?: string; details?: Record<string, unknown> } },
  ...fields: string[]
) {
  expect(response.status).toBe(400);
  expect(response.body.code).toBe("VALIDATION_ERROR");
  expect(typeof (response.body as { message?: unknown }).message).toBe("string");
  for (const field of fields) expect(Object.keys(response.body.details ?? {})).toContain(field);
}

/** The app of one admin suite, with an admin and a plain user. */
export interface AdminApp {
  app: TestApp;
  admin: TestUser;
  user: TestUser;
}

/**
 * Opens an app on `backend` for the surrounding describe (closed after it) and hands it to
 * `opened`; answers request helpers that act as its admin.
 */
export function useAdminApp(backend: Backend, opened: (suite: AdminApp) => void) {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await createTestApp(backend);
    admin = await createAdmin(app);
    opened({ app, admin, user: await registerUser(app) });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app.close(), SETUP_TIMEOUT_MS);

  const as = (token: string | undefined) => ({
    request: (method: string, path: string, body?: unknown) =>
      app.request(method, path, { token, body }),
  });
  const adminRequest = (method: string, path: string, body?: unknown) =>
    as(admin.token).request(method, path, body);
  /** The admin routes through the typed client, as the suite's admin. */
  const adminApi = () => app.client(admin.token).admin;

  async function createVenue(name = `Venue ${Math.random().toString(36).slice(2)}`) {
    const response = await answer(
      adminApi().venues.$post({ json: { venue_name: name, address: "2 Admin Road" } }),
    );
    expect(response.status).toBe(201);
    return bodyAt(response, 201).venue.venue_id;
  }

  async function createEvent(title = "Admin test event") {
    const response = await answer(adminApi().events.$post({ json: { title } }));
    expect(response.status).toBe(201);
    return bodyAt(response, 201).event.event_id;
  }

  async function createShow(eventId: number, venueId: number, startsInHours = 72) {
    const response = await answer(
      adminApi().shows.$post({
        json: { event_id: eventId, venue_id: venueId, ...futureWindow(startsInHours), price: 30 },
      }),
    );
    expect(response.status).toBe(201);
    return bodyAt(response, 201).show.show_id;
  }

  return { as, adminRequest, adminApi, createVenue, createEvent, createShow };
}

import { afterAll, beforeAll } from "bun:test";
import type { BookingStatus } from "../../src/db/schema";
import { ok } from "./answers";
import { createAdmin, createShowFixture, type TestUser } from "./fixtures";
import { answer, createTestApp, query, SETUP_TIMEOUT_MS, sql, type TestApp } from "./harness";
import type { Backend } from "./services";

/** What the booking suites (test/bookings/) share: a client of the routes and row readers. */

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface SeatRef {
  seat_id: number;
  seat_row: string;
  seat_number: number;
}

export const bySeatId = <T extends { seat_id: number }>(seats: T[]) =>
  [...seats].sort((a, b) => a.seat_id - b.seat_id);

export const keyHeader = (key: string) => ({ "Idempotency-Key": key });

type Headers = Record<string, string>;
type HistoryQuery = { page?: string; limit?: string; status?: BookingStatus };

/**
 * The booking routes as one buyer (or admin) calls them, through the typed client; `lock` and
 * the `…Unchecked` calls send what the types would refuse (bad input), unchecked.
 */
export function bookingClient(app: TestApp) {
  const api = (user: TestUser, headers?: Headers) => app.client(user.token, headers).bookings;
  const booking = (bookingId: number | string) => ({ booking_id: String(bookingId) });
  return {
    lock: (user: TestUser, body: unknown, headers?: Headers) =>
      app.request("POST", "/api/v1/bookings/lock", { token: user.token, body, headers }),
    hold: (user: TestUser, showId: number, seatIds: number[], headers?: Headers) =>
      answer(
        api(user, headers).lock.$post({ json: { show_id: showId, seat_ids: seatIds }, header: {} }),
      ),
    pay: (
      user: TestUser,
      bookingId: number,
      amount: number,
      outcome?: "success" | "decline",
      headers?: Headers,
    ) =>
      answer(
        api(user, headers).payments.simulate.$post({
          json: { booking_id: bookingId, amount, ...(outcome ? { outcome } : {}) },
          header: {},
        }),
      ),
    payUnchecked: (user: TestUser, bookingId: number, amount: unknown, outcome?: string) =>
      app.request("POST", "/api/v1/bookings/payments/simulate", {
        token: user.token,
        body: { booking_id: bookingId, amount, ...(outcome ? { outcome } : {}) },
      }),
    confirm: (
      user: TestUser,
      bookingId: number | string,
      body?: { booking_id?: number },
      headers?: Headers,
    ) =>
      answer(
        api(user, headers)[":booking_id"].confirm.$post({
          param: booking(bookingId),
          json: body ?? {},
          header: {},
        }),
      ),
    confirmUnchecked: (user: TestUser, bookingId: number, body: unknown) =>
      app.request("POST", `/api/v1/bookings/${bookingId}/confirm`, { token: user.token, body }),
    cancel: (user: TestUser, bookingId: number | string, headers?: Headers) =>
      answer(
        api(user, headers)[":booking_id"].cancel.$post({ param: booking(bookingId), header: {} }),
      ),
    get: (user: TestUser, bookingId: number | string, headers?: Headers) =>
      answer(api(user, headers)[":booking_id"].$get({ param: booking(bookingId) })),
    history: (user: TestUser, query: HistoryQuery = {}, headers?: Headers) =>
      answer(app.client(user.token, headers).user.bookings.$get({ query })),
    historyUnchecked: (user: TestUser, search: string) =>
      app.request("GET", `/api/v1/user/bookings${search}`, { token: user.token }),
    /** A show as the catalogue answers it. */
    show: (showId: number) =>
      answer(app.client().shows[":show_id"].$get({ param: { show_id: String(showId) } })),
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
      return held.booking_id;
    },
  };
}

export const seatRefs = (map: Map<number, SeatRef>, seatIds: number[]) =>
  bySeatId(
    seatIds.map((id) => {
      const seat = map.get(id);
      if (!seat) throw new Error(`seat ${id} is not on the map`);
      return { seat_id: seat.seat_id, seat_row: seat.seat_row, seat_number: seat.seat_number };
    }),
  );

export const statusesOf = (map: Map<number, { status: string }>, seatIds: number[]) =>
  seatIds.map((id) => map.get(id)?.status);

export async function bookingRow(app: TestApp, bookingId: number) {
  const [row] = await query<{ status: string; user_id: number }>(
    app,
    sql`select status::text as status, user_id from bookings where booking_id = ${bookingId}`,
  );
  return row;
}

export const showSeatRows = (app: TestApp, showId: number, seatIds: number[]) =>
  query<{ seat_id: number; status: string; booking_id: number | null }>(
    app,
    sql`select seat_id, status::text as status, booking_id from show_seats
        where show_id = ${showId} and seat_id in ${seatIds} order by seat_id`,
  );

export const paymentRows = (app: TestApp, bookingId: number) =>
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

export async function bookingCount(app: TestApp, userId: number) {
  const [row] = await query<{ count: number }>(
    app,
    sql`select count(*)::int as count from bookings where user_id = ${userId}`,
  );
  return row?.count;
}

export async function heldSeatCount(app: TestApp, showIds: number[]) {
  const [row] = await query<{ count: number }>(
    app,
    sql`select count(*)::int as count from show_seats
        where show_id in ${showIds} and status <> 'AVAILABLE'`,
  );
  return row?.count;
}

export const startShowNow = (app: TestApp, showId: number) =>
  query(
    app,
    sql`update shows set start_time = now() - interval '1 hour', end_time = now() + interval '1 hour'
        where show_id = ${showId}`,
  );

export type BookingClient = ReturnType<typeof bookingClient>;

/** The app of one booking suite, with an admin and a client of the booking routes. */
export interface BookingApp {
  app: TestApp;
  admin: TestUser;
  client: BookingClient;
}

/**
 * Opens an app on `backend` (with `env` on top of the test defaults) for the surrounding
 * describe, closed after it, and hands it to `opened`; answers a show fixture maker for it.
 */
export function useBookingApp(
  backend: Backend,
  opened: (suite: BookingApp) => void,
  env: Record<string, string> = {},
) {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await createTestApp(backend, env);
    admin = await createAdmin(app);
    opened({ app, admin, client: bookingClient(app) });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app.close(), SETUP_TIMEOUT_MS);

  return {
    fixture: (options?: Parameters<typeof createShowFixture>[2]) =>
      createShowFixture(app, admin.token, options),
  };
}

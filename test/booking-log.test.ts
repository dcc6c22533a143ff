import { afterAll, beforeAll, expect, test } from "bun:test";
import { expireLapsedHolds } from "../src/jobs/cleanup";
import { createLogger } from "../src/lib/logger";
import { BOOKING_EVENTS } from "../src/modules/booking/booking-log";
import { expectError, ok } from "./support/answers";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  lapseHolds,
  registerUser,
  type ShowFixture,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, query, sql, type TestApp } from "./support/harness";
import { bookingInvariantViolations } from "./support/invariants";
import { describeEachBackend } from "./support/services";

/**
 * The booking log replayed transition by transition: each request carries its own
 * X-Request-Id, and the log must name the event, the actor (null for the system) and that id,
 * with the money's amounts and transaction ids, in order. After each story the invariant
 * checker, which the concurrency suite runs after every race, must find the log and the
 * booking in agreement.
 */

interface AuditedEntry {
  event: string;
  at: string;
  actor: { user_id: number; role: string } | null;
  request_id: string | null;
  details: Record<string, unknown> | null;
}

const silent = createLogger("silent");
let sequence = 0;
const requestId = (what: string) => `${what}-${++sequence}`;

describeEachBackend("booking log (%s)", (backend) => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await createTestApp(backend, { WAITLIST_OFFER_TTL_SECONDS: "60" });
    admin = await createAdmin(app);
  }, 60_000);
  afterAll(() => app.close());

  const post = (user: TestUser, path: string, body: unknown, id: string) =>
    app.request("POST", `/api/v1${path}`, {
      token: user.token,
      body,
      headers: { "X-Request-Id": id },
    });
  const hold = (user: TestUser, show: ShowFixture, seatIds: number[], id: string) =>
    post(user, "/bookings/lock", { show_id: show.show_id, seat_ids: seatIds }, id);
  const pay = (
    user: TestUser,
    booking: { booking_id: number; amount: number },
    id: string,
    outcome: "success" | "decline" = "success",
  ) =>
    post(
      user,
      "/bookings/payments/simulate",
      { booking_id: booking.booking_id, amount: booking.amount, outcome },
      id,
    );
  const act = (user: TestUser, bookingId: number, action: "confirm" | "cancel", id: string) =>
    post(user, `/bookings/${bookingId}/${action}`, {}, id);

  const auditLog = async (bookingId: number): Promise<AuditedEntry[]> => {
    const answer = ok(
      await app.request("GET", `/api/v1/admin/bookings/${bookingId}/log`, { token: admin.token }),
    );
    expect(answer.booking_id).toBe(bookingId);
    return answer.log;
  };
  /** The log without its times, which are checked for order separately. */
  const story = async (bookingId: number) => {
    const log = await auditLog(bookingId);
    const times = log.map((entry) => Date.parse(entry.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    return log.map(({ at: _at, ...entry }) => entry);
  };

  /** Makes a PENDING hold run out, as time would: the booking and its seats (and Redis lock). */
  const lapse = async (bookingId: number, showId: number) => {
    const [lockToken] = await lapseHolds(app, [bookingId]);
    const seats = await query<{ seat_id: number }>(
      app,
      sql`select seat_id from booking_seats where booking_id = ${bookingId}`,
    );
    await app.runtime.shared.locks.release(
      showId,
      seats.map((seat) => seat.seat_id),
      lockToken as string,
    );
  };

  test("hold, declined payment, payment, confirm and the buyer's cancel, each with who and which request", async () => {
    const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 4 });
    const buyer = await registerUser(app);
    const me = { user_id: buyer.user_id, role: "user" };
    const [first, second] = show.seat_ids as [number, number];
    const booking = ok(await hold(buyer, show, [second, first], "r-hold"));
    const declined = await pay(buyer, booking, "r-decline", "decline");
    expectError(declined, 402, "PAYMENT_FAILED");
    const paid = ok(await pay(buyer, booking, "r-pay"));
    ok(await act(buyer, booking.booking_id, "confirm", "r-confirm"));
    const cancelled = ok(await act(buyer, booking.booking_id, "cancel", "r-cancel"));

    expect(await story(booking.booking_id)).toEqual([
      {
        event: "HELD",
        actor: me,
        request_id: "r-hold",
        details: {
          seat_ids: [first, second],
          amount: 51,
          expires_at: expect.any(String),
        },
      },
      {
        event: "PAYMENT_DECLINED",
        actor: me,
        request_id: "r-decline",
        details: { amount: 51, transaction_id: declined.body.details.transaction_id },
      },
      {
        event: "PAID",
        actor: me,
        request_id: "r-pay",
        details: { amount: 51, transaction_id: paid.transaction_id },
      },
      { event: "CONFIRMED", actor: me, request_id: "r-confirm", details: null },
      { event: "CANCELLED", actor: me, request_id: "r-cancel", details: null },
      {
        event: "REFUNDED",
        actor: me,
        request_id: "r-cancel",
        details: {
          amount: 51,
          transaction_id: cancelled.refund.transaction_id,
          payment_transaction_id: paid.transaction_id,
        },
      },
    ]);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("the buyer's own booking read shows the same entries, without who or the details", async () => {
    const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 1 });
    const buyer = await registerUser(app);
    const booking = ok(await hold(buyer, show, show.seat_ids, requestId("hold")));
    ok(await pay(buyer, booking, requestId("pay")));

    const read = ok(
      await app.request("GET", `/api/v1/bookings/${booking.booking_id}`, { token: buyer.token }),
    ).booking;
    const full = await auditLog(booking.booking_id);
    expect(read.log).toEqual(full.map(({ event, at }) => ({ event, at })));
    expect(read.log.map((entry: { event: string }) => entry.event)).toEqual(["HELD", "PAID"]);
    // The lists stay as they were: the log is for the booking read on its own.
    const list = ok(await app.request("GET", "/api/v1/user/bookings", { token: buyer.token }));
    expect(list.bookings[0].log).toBeUndefined();
    // The full log is for admins only.
    const refused = await app.request("GET", `/api/v1/admin/bookings/${booking.booking_id}/log`, {
      token: buyer.token,
    });
    expectError(refused, 403, "FORBIDDEN");
    expectError(
      await app.request("GET", "/api/v1/admin/bookings/2000000000/log", { token: admin.token }),
      404,
      "NOT_FOUND",
    );
  });

  test("an admin's cancel and a forced show deletion name the admin", async () => {
    const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 2 });
    const [first, second] = (await createUsersDirect(app, 2)) as [TestUser, TestUser];
    const [s1, s2] = show.seat_ids as [number, number];
    const cancelledByAdmin = ok(await hold(first, show, [s1], requestId("hold")));
    ok(await act(admin, cancelledByAdmin.booking_id, "cancel", "r-admin-cancel"));
    const removed = ok(await hold(second, show, [s2], requestId("hold")));
    const paid = ok(await pay(second, removed, requestId("pay")));
    ok(await act(second, removed.booking_id, "confirm", requestId("confirm")));

    const deletion = await app.request("DELETE", `/api/v1/admin/shows/${show.show_id}?force=true`, {
      token: admin.token,
      headers: { "X-Request-Id": "r-delete-show" },
    });
    expect(deletion.status).toBe(204);

    const byAdmin = { user_id: admin.user_id, role: "admin" };
    expect((await story(cancelledByAdmin.booking_id)).slice(1)).toEqual([
      { event: "CANCELLED", actor: byAdmin, request_id: "r-admin-cancel", details: null },
    ]);
    const [refund] = await query<{ refund_transaction_id: string }>(
      app,
      sql`select refund_transaction_id from payments where booking_id = ${removed.booking_id}`,
    );
    expect((await story(removed.booking_id)).slice(3)).toEqual([
      { event: "CANCELLED", actor: byAdmin, request_id: "r-delete-show", details: null },
      {
        event: "REFUNDED",
        actor: byAdmin,
        request_id: "r-delete-show",
        details: {
          amount: 25.5,
          transaction_id: refund?.refund_transaction_id,
          payment_transaction_id: paid.transaction_id,
        },
      },
    ]);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("expiries are the system's: by the cleanup job, by a hold that reclaims, by a late confirm", async () => {
    const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 3 });
    const [a, b, c, d] = (await createUsersDirect(app, 4)) as TestUser[] as [
      TestUser,
      TestUser,
      TestUser,
      TestUser,
    ];
    const [s1, s2, s3] = show.seat_ids as [number, number, number];
    // A paid hold the cleanup job expires (and refunds): no request, no actor.
    const byCleanup = ok(await hold(a, show, [s1], requestId("hold")));
    const charge = ok(await pay(a, byCleanup, requestId("pay")));
    await lapse(byCleanup.booking_id, show.show_id);
    await expireLapsedHolds({ ...app.runtime.cleanup, logger: silent });
    // A lapsed hold reclaimed by another buyer's hold of its seat: in that hold's request.
    const reclaimed = ok(await hold(b, show, [s2], requestId("hold")));
    await lapse(reclaimed.booking_id, show.show_id);
    const reclaimer = ok(await hold(c, show, [s2], "r-reclaim"));
    // A paid hold whose confirm comes too late: expired (and refunded) by that confirm.
    const late = ok(await hold(d, show, [s3], requestId("hold")));
    ok(await pay(d, late, requestId("pay")));
    await lapse(late.booking_id, show.show_id);
    expectError(await act(d, late.booking_id, "confirm", "r-late-confirm"), 410, "HOLD_EXPIRED");

    const refundOf = async (bookingId: number) =>
      (
        await query<{ refund_transaction_id: string; transaction_id: string }>(
          app,
          sql`select refund_transaction_id, transaction_id from payments where booking_id = ${bookingId}`,
        )
      )[0];
    const cleanupRefund = await refundOf(byCleanup.booking_id);
    expect(cleanupRefund?.transaction_id).toBe(charge.transaction_id);
    expect((await story(byCleanup.booking_id)).slice(2)).toEqual([
      { event: "EXPIRED", actor: null, request_id: null, details: null },
      {
        event: "REFUNDED",
        actor: null,
        request_id: null,
        details: {
          amount: 25.5,
          transaction_id: cleanupRefund?.refund_transaction_id,
          payment_transaction_id: charge.transaction_id,
        },
      },
    ]);
    expect((await story(reclaimed.booking_id)).slice(1)).toEqual([
      { event: "EXPIRED", actor: null, request_id: "r-reclaim", details: null },
    ]);
    expect((await story(reclaimer.booking_id)).map((entry) => entry.event)).toEqual(["HELD"]);
    const lateRefund = await refundOf(late.booking_id);
    expect((await story(late.booking_id)).slice(2)).toEqual([
      { event: "EXPIRED", actor: null, request_id: "r-late-confirm", details: null },
      {
        event: "REFUNDED",
        actor: null,
        request_id: "r-late-confirm",
        details: {
          amount: 25.5,
          transaction_id: lateRefund?.refund_transaction_id,
          payment_transaction_id: lateRefund?.transaction_id,
        },
      },
    ]);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("a seat freed by a cancel is OFFERED to the waitlist by the system, in the cancel's request", async () => {
    const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 1 });
    const [buyer, waiter] = (await createUsersDirect(app, 2)) as [TestUser, TestUser];
    const seat = show.seat_ids[0] as number;
    const sold = ok(await hold(buyer, show, [seat], requestId("hold")));
    ok(await post(waiter, `/shows/${show.show_id}/waitlist`, { seats_wanted: 1 }, "r-join"), 201);
    ok(await act(buyer, sold.booking_id, "cancel", "r-cancel-for-waiter"));

    const [offer] = await query<{ booking_id: number }>(
      app,
      sql`select booking_id from bookings where show_id = ${show.show_id} and user_id = ${waiter.user_id}`,
    );
    expect(await story(offer?.booking_id as number)).toEqual([
      {
        event: "OFFERED",
        actor: null,
        request_id: "r-cancel-for-waiter",
        details: { seat_ids: [seat], amount: 25.5, expires_at: expect.any(String) },
      },
    ]);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("the OpenAPI document describes both reads of the log", async () => {
    const doc = ok(await app.request("GET", "/api/v1/openapi.json"));
    const answer = (path: string) =>
      doc.paths[path].get.responses["200"].content["application/json"].schema.properties;
    expect(answer("/api/v1/bookings/{booking_id}").booking.$ref).toBe(
      "#/components/schemas/BookingWithLog",
    );
    expect(answer("/api/v1/admin/bookings/{booking_id}/log").log.items.$ref).toBe(
      "#/components/schemas/AuditedBookingLogEntry",
    );
    const { BookingWithLog, BookingLogEntry, AuditedBookingLogEntry } = doc.components.schemas;
    // The Booking of every list, and its log.
    expect(BookingWithLog.allOf[0].$ref).toBe("#/components/schemas/Booking");
    expect(BookingWithLog.allOf[1].properties.log.items.$ref).toBe(
      "#/components/schemas/BookingLogEntry",
    );
    expect(Object.keys(BookingLogEntry.properties).sort()).toEqual(["at", "event"]);
    expect(Object.keys(AuditedBookingLogEntry.properties).sort()).toEqual(
      ["actor", "at", "details", "event", "request_id"].sort(),
    );
    // Every event the replays above produce, and only those.
    expect(AuditedBookingLogEntry.properties.event.enum).toEqual([...BOOKING_EVENTS]);
  });

  test("the log is append-only: the database refuses to change, delete or truncate it", async () => {
    const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 1 });
    const buyer = await registerUser(app);
    const booking = ok(await hold(buyer, show, show.seat_ids, requestId("hold")));
    const before = await auditLog(booking.booking_id);

    const attempts = [
      sql`update booking_log set event = 'CONFIRMED' where booking_id = ${booking.booking_id}`,
      sql`delete from booking_log where booking_id = ${booking.booking_id}`,
      sql`truncate booking_log`,
    ];
    for (const attempt of attempts) {
      const outcome = await query(app, attempt).then(
        () => "done",
        (error: Error) => String(error.cause ?? error),
      );
      expect(outcome).toMatch(/booking_log is append-only: (UPDATE|DELETE|TRUNCATE) refused/);
    }
    expect(await auditLog(booking.booking_id)).toEqual(before);
  });

  test("the invariant checker notices a booking whose status changed without its log", async () => {
    const show = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 1 });
    const buyer = await registerUser(app);
    const booking = ok(await hold(buyer, show, show.seat_ids, requestId("hold")));
    ok(await pay(buyer, booking, requestId("pay")));
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);

    // Behind the application's back: confirmed (seats and all) but never logged, and a second
    // charge that the log never heard of.
    await query(
      app,
      sql`update bookings set status = 'CONFIRMED' where booking_id = ${booking.booking_id}`,
    );
    await query(
      app,
      sql`update show_seats set status = 'BOOKED' where booking_id = ${booking.booking_id}`,
    );
    expect(await bookingInvariantViolations(app, show.show_id)).toContain(
      `booking ${booking.booking_id} is CONFIRMED but its log says PENDING`,
    );
    await query(
      app,
      sql`insert into booking_log (booking_id, event) values (${booking.booking_id}, 'CONFIRMED')`,
    );
    await query(
      app,
      sql`insert into payments (booking_id, amount_cents, status, transaction_id)
          values (${booking.booking_id}, 100, 'DECLINED', 'txn_unlogged')`,
    );
    const violations = await bookingInvariantViolations(app, show.show_id);
    expect(violations.filter((violation) => violation.includes("log"))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^booking ${booking.booking_id} log has money .* but its payments .*txn_unlogged`,
        ),
      ),
    ]);
  });
});

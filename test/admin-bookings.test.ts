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
import { createTestApp, type TestApp } from "./support/harness";
import { describeEachBackend } from "./support/services";

/** Setup builds an app and its bookings through the API: generous on a busy machine. */
const SETUP_TIMEOUT_MS = 60_000;
const LIST = "/api/v1/admin/bookings";
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface ListedBooking {
  booking_id: number;
  user_id: number;
  status: string;
  show_id: number;
  amount: number;
  created_at: string;
  expires_at: string;
  seats: { seat_id: number; seat_row: string; seat_number: number }[];
  show: { show_id: number; price: number; event: { event_id: number } };
}

describeEachBackend("admin bookings list (%s)", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let showX: ShowFixture;
  let showY: ShowFixture;
  /** Booking ids by name: confirmed (alice, X), held (alice, Y), cancelled (bob, X), lapsed (bob, Y). */
  const ids = { confirmed: 0, held: 0, cancelled: 0, lapsed: 0 };

  const list = (search = "", token = admin.token) =>
    app.request("GET", `${LIST}${search}`, { token });
  const idsOf = (body: { bookings: ListedBooking[] }) =>
    body.bookings.map((booking) => booking.booking_id);
  const hold = async (user: TestUser, showId: number, seatIds: number[]) =>
    ok(await holdSeats(app, user, showId, seatIds)) as { booking_id: number; amount: number };

  beforeAll(async () => {
    app = await createTestApp(backend);
    admin = await createAdmin(app);
    alice = await registerUser(app);
    bob = await registerUser(app);
    showX = await createShowFixture(app, admin.token, { price: 12.5 });
    showY = await createShowFixture(app, admin.token, { price: 30, startsInHours: 72 });
    const [x0, x1, x2] = showX.seat_ids as [number, number, number];
    const [y0, y1] = showY.seat_ids as [number, number];

    const confirmed = await hold(alice, showX.show_id, [x0]);
    await payAndConfirm(app, alice, confirmed);
    ids.confirmed = confirmed.booking_id;
    ids.held = (await hold(alice, showY.show_id, [y0])).booking_id;
    ids.cancelled = (await hold(bob, showX.show_id, [x1, x2])).booking_id;
    ok(
      await app.request("POST", `/api/v1/bookings/${ids.cancelled}/cancel`, {
        token: bob.token,
        body: {},
      }),
    );
    ids.lapsed = (await hold(bob, showY.show_id, [y1])).booking_id;
    // The hold ran out a minute ago; whether or not the cleanup job ran, it reads as EXPIRED.
    await lapseHolds(app, [ids.lapsed]);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await app?.close();
  });

  test("every booking, newest first, in the user history's Booking shape", async () => {
    const body = ok(await list());
    expect({ page: body.page, limit: body.limit, total: body.total }).toEqual({
      page: 1,
      limit: 20,
      total: 4,
    });
    expect(idsOf(body)).toEqual([ids.lapsed, ids.cancelled, ids.held, ids.confirmed]);
    const byId = new Map<number, ListedBooking>(
      body.bookings.map((booking: ListedBooking) => [booking.booking_id, booking]),
    );
    expect(byId.get(ids.confirmed)).toMatchObject({
      user_id: alice.user_id,
      status: "CONFIRMED",
      show_id: showX.show_id,
      amount: 12.5,
      seats: [{ seat_id: showX.seat_ids[0] }],
      show: { show_id: showX.show_id, price: 12.5, event: { event_id: showX.event_id } },
    });
    expect(byId.get(ids.cancelled)).toMatchObject({
      user_id: bob.user_id,
      status: "CANCELLED",
      amount: 25,
      seats: [{ seat_id: showX.seat_ids[1] }, { seat_id: showX.seat_ids[2] }],
    });
    expect(byId.get(ids.held)?.status).toBe("PENDING");
    expect(byId.get(ids.lapsed)?.status).toBe("EXPIRED");
    for (const booking of body.bookings as ListedBooking[]) {
      expect(booking.created_at).toMatch(ISO_UTC);
      expect(booking.expires_at).toMatch(ISO_UTC);
    }

    // The same booking reads the same in its owner's history.
    const history = ok(
      await app.request("GET", "/api/v1/user/bookings", { token: alice.token }),
    ) as { bookings: ListedBooking[] };
    expect(history.bookings.find((b) => b.booking_id === ids.confirmed)).toEqual(
      byId.get(ids.confirmed) as ListedBooking,
    );
  });

  test("filters by show, user and status, alone and combined", async () => {
    expect(idsOf(ok(await list(`?show_id=${showX.show_id}`)))).toEqual([
      ids.cancelled,
      ids.confirmed,
    ]);
    expect(idsOf(ok(await list(`?show_id=${showY.show_id}`)))).toEqual([ids.lapsed, ids.held]);
    expect(idsOf(ok(await list(`?user_id=${bob.user_id}`)))).toEqual([ids.lapsed, ids.cancelled]);
    expect(idsOf(ok(await list("?status=CONFIRMED")))).toEqual([ids.confirmed]);
    expect(idsOf(ok(await list("?status=PENDING")))).toEqual([ids.held]);
    expect(idsOf(ok(await list("?status=CANCELLED")))).toEqual([ids.cancelled]);
    // A lapsed hold is EXPIRED even if the cleanup job has not marked it yet.
    expect(idsOf(ok(await list("?status=EXPIRED")))).toEqual([ids.lapsed]);
    expect(
      idsOf(ok(await list(`?show_id=${showX.show_id}&user_id=${bob.user_id}&status=CANCELLED`))),
    ).toEqual([ids.cancelled]);

    const none = ok(await list(`?show_id=${showY.show_id}&status=CANCELLED`));
    expect(none).toEqual({ bookings: [], page: 1, limit: 20, total: 0 });
    // Unknown ids are an empty page, not an error.
    expect(ok(await list("?show_id=2147483647")).total).toBe(0);
    expect(ok(await list("?user_id=2147483647")).total).toBe(0);
  });

  test("pagination envelope: pages of `limit`, total across pages, past the end empty", async () => {
    const first = ok(await list("?limit=3"));
    expect({ page: first.page, limit: first.limit, total: first.total }).toEqual({
      page: 1,
      limit: 3,
      total: 4,
    });
    expect(idsOf(first)).toEqual([ids.lapsed, ids.cancelled, ids.held]);
    const second = ok(await list("?limit=3&page=2"));
    expect({ page: second.page, total: second.total, ids: idsOf(second) }).toEqual({
      page: 2,
      total: 4,
      ids: [ids.confirmed],
    });
    expect(ok(await list("?limit=3&page=3"))).toEqual({
      bookings: [],
      page: 3,
      limit: 3,
      total: 4,
    });
    // Filters and pages combine.
    const bobs = ok(await list(`?user_id=${bob.user_id}&limit=1&page=2`));
    expect({ total: bobs.total, ids: idsOf(bobs) }).toEqual({ total: 2, ids: [ids.cancelled] });
  });

  test("anonymous → 401, a plain user → 403", async () => {
    expectError(await app.request("GET", LIST), 401, "UNAUTHENTICATED");
    expectError(await list("", alice.token), 403, "FORBIDDEN");
    expectError(await list(`?user_id=${alice.user_id}`, alice.token), 403, "FORBIDDEN");
  });

  test("bad filters and pages → 400 VALIDATION_ERROR naming the field", async () => {
    for (const [search, field] of [
      ["?show_id=abc", "show_id"],
      ["?show_id=0", "show_id"],
      ["?show_id=1.5", "show_id"],
      ["?show_id=99999999999", "show_id"],
      ["?user_id=-4", "user_id"],
      ["?status=DONE", "status"],
      ["?status=confirmed", "status"],
      ["?page=0", "page"],
      ["?limit=101", "limit"],
    ] as const) {
      const response = await list(search);
      expectError(response, 400, "VALIDATION_ERROR");
      expect(Object.keys(response.body.details ?? {})).toEqual([field]);
    }
  });

  test("the OpenAPI document describes the route and its filters", async () => {
    const doc = ok(await app.request("GET", "/api/v1/openapi.json"));
    const operation = doc.paths["/api/v1/admin/bookings"]?.get;
    expect(operation).toBeDefined();
    expect(operation.parameters.map((p: { name: string }) => p.name).sort()).toEqual(
      ["limit", "page", "show_id", "user_id", "status"].sort(),
    );
    for (const parameter of operation.parameters) expect(parameter.in).toBe("query");
  });
});

import { describe, expect, test } from "bun:test";
import {
  ADMIN,
  bookingsAndPayments,
  count,
  futureWindow,
  insertBooking,
  insertPaidBooking,
  snapshot,
  useAdminApp,
} from "../support/admin-api";
import { ok } from "../support/answers";
import {
  createShowFixture,
  holdSeats,
  moveShowToThePast,
  type TestUser,
} from "../support/fixtures";
import { query, sql, type TestApp } from "../support/harness";
import { describeEachBackend } from "../support/services";

describeEachBackend("admin API on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  const { adminRequest, createVenue, createEvent } = useAdminApp(backend, (opened) => {
    ({ app, admin, user } = opened);
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
        await count(
          app,
          sql`select count(*) as n from seats
              where venue_id = ${fixture.venue_id} and deleted_at is null`,
        ),
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

import { describe, expect, test } from "bun:test";
import {
  bookingsAndPayments,
  count,
  futureWindow,
  insertBooking,
  insertPaidBooking,
  snapshot,
  softDeleted,
  useAdminApp,
} from "../support/admin-api";
import { bodyAt, ok } from "../support/answers";
import {
  createShowFixture,
  holdSeats,
  moveShowToThePast,
  type TestUser,
} from "../support/fixtures";
import { answer, query, sql, type TestApp } from "../support/harness";
import { describeEachBackend } from "../support/services";

describeEachBackend("admin API on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  const { adminApi, createVenue, createEvent } = useAdminApp(backend, (opened) => {
    ({ app, admin, user } = opened);
  });
  const showParam = (showId: number) => ({ param: { show_id: String(showId) } });
  const addRows = (venueId: number, rows: { seat_row: string; count: number }[]) =>
    answer(
      adminApi().venues[":venue_id"].seats.$post({
        param: { venue_id: String(venueId) },
        json: { rows },
      }),
    );

  describe("shows", () => {
    test("create makes exactly one AVAILABLE show_seats row per venue seat", async () => {
      const venueId = await createVenue();
      const layout = await addRows(venueId, [
        { seat_row: "A", count: 6 },
        { seat_row: "B", count: 4 },
      ]);
      const eventId = await createEvent("Show CRUD event");
      const window = futureWindow(50);
      const created = await answer(
        adminApi().shows.$post({
          json: { event_id: eventId, venue_id: venueId, ...window, price: 49.5 },
        }),
      );
      expect(created.status).toBe(201);
      const show = bodyAt(created, 201).show;
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
      const venueSeatIds = bodyAt(layout, 201)
        .seats.map((seat) => seat.seat_id)
        .sort((a, b) => a - b);
      expect(rows).toEqual(
        venueSeatIds.map((seat_id) => ({ seat_id, status: "AVAILABLE", booking_id: null })),
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
      const created = await answer(
        adminApi().shows.$post({
          json: { event_id: eventId, venue_id: venueId, ...futureWindow(), price: 0 },
        }),
      );
      expect(created.status).toBe(201);
      const { show } = bodyAt(created, 201);
      expect(show.total_seats).toBe(0);
      expect(show.price).toBe(0);
      expect(
        await count(app, sql`select count(*) as n from show_seats where show_id = ${show.show_id}`),
      ).toBe(0);
    });

    test("update replaces the fields sent; timestamps with offsets are stored in UTC", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const { param } = showParam(fixture.show_id);
      const original = bodyAt(
        await answer(app.client().shows[":show_id"].$get({ param })),
        200,
      ).show;
      const show = adminApi().shows[":show_id"];

      const priced = await answer(show.$put({ param, json: { price: 12.34 } }));
      expect(priced.status).toBe(200);
      expect(bodyAt(priced, 200).show).toEqual({ ...original, price: 12.34 });

      const moved = await answer(
        show.$put({
          param,
          json: { start_time: "2099-06-01T20:00:00+02:00", end_time: "2099-06-01T23:30:00+02:00" },
        }),
      );
      expect(moved.status).toBe(200);
      const movedShow = bodyAt(moved, 200).show;
      expect(movedShow.start_time).toBe("2099-06-01T18:00:00.000Z");
      expect(movedShow.end_time).toBe("2099-06-01T21:30:00.000Z");
      expect(movedShow.price).toBe(12.34);

      const otherEvent = await createEvent("Moved event");
      const reassigned = await answer(show.$put({ param, json: { event_id: otherEvent } }));
      expect(reassigned.status).toBe(200);
      expect(bodyAt(reassigned, 200).show.event.event_id).toBe(otherEvent);
      expect(bodyAt(reassigned, 200).show.event.title).toBe("Moved event");
    });

    test("moving a show to another venue rebuilds its show_seats; refused once booked", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const newVenue = await createVenue();
      const layout = await addRows(newVenue, [{ seat_row: "K", count: 3 }]);
      const newSeatIds = bodyAt(layout, 201)
        .seats.map((seat) => seat.seat_id)
        .sort((a, b) => a - b);

      const { param } = showParam(fixture.show_id);
      const show = adminApi().shows[":show_id"];
      const moved = await answer(show.$put({ param, json: { venue_id: newVenue } }));
      expect(moved.status).toBe(200);
      expect(bodyAt(moved, 200).show.venue.venue_id).toBe(newVenue);
      expect(bodyAt(moved, 200).show.total_seats).toBe(3);
      const rows = await query<{ seat_id: number }>(
        app,
        sql`select seat_id from show_seats where show_id = ${fixture.show_id} order by seat_id`,
      );
      expect(rows.map((row) => row.seat_id)).toEqual(newSeatIds);

      await insertBooking(app, user.user_id, fixture.show_id, [newSeatIds[0] as number]);
      const before = await snapshot(app);
      const refused = await answer(show.$put({ param, json: { venue_id: fixture.venue_id } }));
      expect(refused.status).toBe(409);
      expect(bodyAt(refused, 409).code).toBe("CONFLICT");
      expect(await snapshot(app)).toBe(before);
    });

    test("delete → 204: the show is marked deleted and its show_seats are gone", async () => {
      const fixture = await createShowFixture(app, admin.token);
      // Leaves the show's times in the API's short cache, as a sale's traffic would.
      expect((await holdSeats(app, user, fixture.show_id, [2_000_000_000])).status).toBe(400);
      const { param } = showParam(fixture.show_id);
      const deleted = await answer(adminApi().shows[":show_id"].$delete({ param, query: {} }));
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe("");
      expect(await softDeleted(app, "shows", fixture.show_id)).toBe(true);
      expect(
        await count(
          app,
          sql`select count(*) as n from show_seats where show_id = ${fixture.show_id}`,
        ),
      ).toBe(0);
      const publicView = await answer(app.client().shows[":show_id"].$get({ param }));
      expect(publicView.status).toBe(404);
      expect(bodyAt(publicView, 404).code).toBe("NOT_FOUND");
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
      const venueDeleted = await answer(
        adminApi().venues[":venue_id"].$delete({ param: { venue_id: String(fixture.venue_id) } }),
      );
      expect(venueDeleted.status).toBe(204);
    });

    test("delete with an active booking → 409; ?force=true → 204, cancelled and refunded, history kept", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const [first, second] = fixture.seat_ids as [number, number];
      const pending = await insertBooking(app, user.user_id, fixture.show_id, [first], "PENDING");
      const confirmed = await insertPaidBooking(app, user.user_id, fixture.show_id, [second]);

      const { param } = showParam(fixture.show_id);
      const show = adminApi().shows[":show_id"];
      for (const query of [{}, { force: "false" as const }]) {
        const before = await snapshot(app);
        const refused = await answer(show.$delete({ param, query }));
        expect(refused.status).toBe(409);
        expect(bodyAt(refused, 409).code).toBe("CONFLICT");
        expect(await snapshot(app)).toBe(before);
      }
      const [stillPending] = await query<{ status: string }>(
        app,
        sql`select status from bookings where booking_id = ${pending}`,
      );
      expect(stillPending?.status).toBe("PENDING");

      const forced = await answer(show.$delete({ param, query: { force: "true" } }));
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
        await answer(app.client(user.token).user.bookings.$get({ query: { limit: "100" } })),
      );
      const ofShow = history.bookings.filter((booking) => booking.show.show_id === fixture.show_id);
      expect(ofShow.map((booking) => booking.status)).toEqual(["CANCELLED", "CANCELLED"]);
      // The show itself is gone for everyone else.
      const catalogue = app.client().shows;
      expect((await answer(catalogue[":show_id"].$get({ param }))).status).toBe(404);
      expect((await app.request("GET", `/api/v1/shows/${fixture.show_id}/seats`)).status).toBe(404);
      const hold = await holdSeats(app, user, fixture.show_id, [first]);
      expect(hold.status).toBe(404);
      const search = ok(await answer(catalogue.search.$get({ query: { limit: "100" } })));
      expect(search.shows.map((listed) => listed.show_id)).not.toContain(fixture.show_id);
      expect((await answer(show.$put({ param, json: { price: 1 } }))).status).toBe(404);
      expect((await answer(show.$delete({ param, query: {} }))).status).toBe(404);
      // Its venue can go now, and the deleted show keeps pointing at it.
      const venue = await answer(
        adminApi().venues[":venue_id"].$delete({ param: { venue_id: String(fixture.venue_id) } }),
      );
      expect(venue.status).toBe(204);
      expect(await bookingsAndPayments(app, fixture.show_id)).toHaveLength(2);
    });

    test("a show that has taken place is no exception: its active bookings make it 409 without ?force", async () => {
      const fixture = await createShowFixture(app, admin.token);
      await insertPaidBooking(app, user.user_id, fixture.show_id, [fixture.seat_ids[0] as number]);
      await moveShowToThePast(app, fixture.show_id);
      const routes = adminApi();
      for (const remove of [
        () => routes.shows[":show_id"].$delete({ ...showParam(fixture.show_id), query: {} }),
        () => routes.events[":event_id"].$delete({ param: { event_id: String(fixture.event_id) } }),
      ]) {
        const before = await snapshot(app);
        const refused = await answer(remove());
        expect(refused.status).toBe(409);
        expect(bodyAt(refused, 409).code).toBe("CONFLICT");
        expect(await snapshot(app)).toBe(before);
      }
    });

    test("?force=true on a show that has taken place calls it off: cancelled and refunded", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const confirmed = await insertPaidBooking(app, user.user_id, fixture.show_id, [
        fixture.seat_ids[0] as number,
      ]);
      await moveShowToThePast(app, fixture.show_id);
      const forced = await answer(
        adminApi().shows[":show_id"].$delete({
          ...showParam(fixture.show_id),
          query: { force: "true" },
        }),
      );
      expect(forced.status).toBe(204);
      expect(await bookingsAndPayments(app, fixture.show_id)).toEqual([
        { booking_id: confirmed, status: "CANCELLED", payment: "REFUNDED" },
      ]);
    });

    test("?force=true on a show without bookings also deletes it", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const forced = await answer(
        adminApi().shows[":show_id"].$delete({
          ...showParam(fixture.show_id),
          query: { force: "true" },
        }),
      );
      expect(forced.status).toBe(204);
      expect(await softDeleted(app, "shows", fixture.show_id)).toBe(true);
    });
  });
});

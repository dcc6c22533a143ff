import { describe, expect, test } from "bun:test";
import { count, insertBooking, snapshot, softDeleted, useAdminApp } from "../support/admin-api";
import { bodyAt, ok } from "../support/answers";
import { createShowFixture, type TestUser } from "../support/fixtures";
import { answer, query, sql, type TestApp } from "../support/harness";
import { describeEachBackend } from "../support/services";

describeEachBackend("admin API on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  const { adminApi } = useAdminApp(backend, (opened) => {
    ({ app, admin, user } = opened);
  });

  describe("events", () => {
    test("create, update, delete", async () => {
      const events = adminApi().events;
      const created = await answer(
        events.$post({ json: { title: " Crud Event ", description: "All about CRUD" } }),
      );
      expect(created.status).toBe(201);
      const event = bodyAt(created, 201).event;
      const param = { event_id: String(event.event_id) };
      expect(Object.keys(event).sort()).toEqual(
        ["created_at", "description", "event_id", "title"].sort(),
      );
      expect(event.title).toBe("Crud Event");
      expect(event.description).toBe("All about CRUD");
      expect(Number.isInteger(event.event_id)).toBe(true);

      const noDescription = await answer(events.$post({ json: { title: "Bare" } }));
      expect(noDescription.status).toBe(201);
      expect(bodyAt(noDescription, 201).event.description).toBeNull();

      const updated = await answer(
        events[":event_id"].$put({ param, json: { description: null } }),
      );
      expect(updated.status).toBe(200);
      expect(bodyAt(updated, 200).event).toEqual({ ...event, description: null });
      const renamed = await answer(events[":event_id"].$put({ param, json: { title: "Renamed" } }));
      expect(renamed.status).toBe(200);
      expect(bodyAt(renamed, 200).event).toEqual({
        ...event,
        title: "Renamed",
        description: null,
      });

      const deleted = await answer(events[":event_id"].$delete({ param }));
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe("");
      expect(await softDeleted(app, "events", event.event_id)).toBe(true);
      const gone = await answer(events[":event_id"].$put({ param, json: { title: "x" } }));
      expect(gone.status).toBe(404);
      expect(bodyAt(gone, 404).code).toBe("NOT_FOUND");
    });

    test("deleting an event with booking history retires it and its shows; refused while bookings are active", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const bookingId = await insertBooking(app, user.user_id, fixture.show_id, [
        fixture.seat_ids[0] as number,
      ]);
      const before = await snapshot(app);
      const event = adminApi().events[":event_id"];
      const param = { event_id: String(fixture.event_id) };
      const refused = await answer(event.$delete({ param }));
      expect(refused.status).toBe(409);
      expect(bodyAt(refused, 409).code).toBe("CONFLICT");
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
      const deleted = await answer(event.$delete({ param }));
      expect(deleted.status).toBe(204);
      // Out of the catalog and of the admin routes...
      const catalogue = app.client();
      expect((await answer(catalogue.events[":event_id"].$get({ param }))).status).toBe(404);
      const showParam = { show_id: String(fixture.show_id) };
      expect((await answer(catalogue.shows[":show_id"].$get({ param: showParam }))).status).toBe(
        404,
      );
      const listed = ok(await answer(catalogue.events.$get({ query: { limit: "100" } })));
      expect(listed.events.map((listedEvent) => listedEvent.event_id)).not.toContain(
        fixture.event_id,
      );
      expect((await answer(event.$put({ param, json: { title: "Back" } }))).status).toBe(404);
      expect((await answer(event.$delete({ param }))).status).toBe(404);
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
        await count(
          app,
          sql`select count(*) as n from seats
              where venue_id = ${fixture.venue_id} and deleted_at is null`,
        ),
      ).toBe(10);
    });

    test("an event whose shows never had a booking is marked deleted with them, not erased", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const deleted = await answer(
        adminApi().events[":event_id"].$delete({ param: { event_id: String(fixture.event_id) } }),
      );
      expect(deleted.status).toBe(204);
      expect(
        await count(
          app,
          sql`select count(*) as n from events e join shows sh on sh.event_id = e.event_id
              where e.event_id = ${fixture.event_id} and e.deleted_at is not null
                and sh.deleted_at is not null`,
        ),
      ).toBe(1);
      const showParam = { show_id: String(fixture.show_id) };
      expect((await answer(app.client().shows[":show_id"].$get({ param: showParam }))).status).toBe(
        404,
      );
    });
  });
});

import { describe, expect, test } from "bun:test";
import { ADMIN, count, insertBooking, snapshot, useAdminApp } from "../support/admin-api";
import { ok } from "../support/answers";
import { createShowFixture, type TestUser } from "../support/fixtures";
import { query, sql, type TestApp } from "../support/harness";
import { describeEachBackend } from "../support/services";

describeEachBackend("admin API on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  const { adminRequest } = useAdminApp(backend, (opened) => {
    ({ app, admin, user } = opened);
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
        await count(
          app,
          sql`select count(*) as n from seats
              where venue_id = ${fixture.venue_id} and deleted_at is null`,
        ),
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
});

import { describe, expect, test } from "bun:test";
import { ADMIN, count, futureWindow, snapshot, useAdminApp } from "../support/admin-api";
import { expectPagingBounds, ok } from "../support/answers";
import { createShowFixture, type TestUser } from "../support/fixtures";
import { query, sql, type TestApp } from "../support/harness";
import { describeEachBackend } from "../support/services";

describeEachBackend("admin API on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  const { adminRequest, createVenue } = useAdminApp(backend, (opened) => {
    ({ app, admin } = opened);
  });

  describe("venues", () => {
    test("create, read, update, delete", async () => {
      const created = await adminRequest("POST", `${ADMIN}/venues`, {
        venue_name: "  Crud Hall  ",
        address: "10 Crud Lane",
      });
      expect(created.status).toBe(201);
      const venue = created.body.venue;
      expect(Object.keys(venue).sort()).toEqual(
        ["address", "created_at", "venue_id", "venue_name"].sort(),
      );
      expect(Number.isInteger(venue.venue_id)).toBe(true);
      expect(venue.venue_id).toBeGreaterThan(0);
      expect(venue.venue_name).toBe("Crud Hall");
      expect(venue.address).toBe("10 Crud Lane");
      expect(new Date(venue.created_at).toISOString()).toBe(venue.created_at);

      const total = await count(
        app,
        sql`select count(*) as n from venues where deleted_at is null`,
      );
      const lastPage = await adminRequest("GET", `${ADMIN}/venues?limit=1&page=${total}`);
      expect(lastPage.status).toBe(200);
      expect(lastPage.body.venues).toEqual([venue]);

      const read = await adminRequest("GET", `${ADMIN}/venues/${venue.venue_id}`);
      expect(read.status).toBe(200);
      expect(read.body.venue).toEqual({ ...venue, total_seats: 0, seats: [] });

      const updated = await adminRequest("PUT", `${ADMIN}/venues/${venue.venue_id}`, {
        address: "11 Crud Lane",
      });
      expect(updated.status).toBe(200);
      expect(updated.body.venue).toEqual({ ...venue, address: "11 Crud Lane" });
      const [stored] = await query<{ venue_name: string; address: string }>(
        app,
        sql`select venue_name, address from venues where venue_id = ${venue.venue_id}`,
      );
      expect(stored).toEqual({ venue_name: "Crud Hall", address: "11 Crud Lane" });

      const deleted = await adminRequest("DELETE", `${ADMIN}/venues/${venue.venue_id}`);
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe("");
      expect(
        await count(
          app,
          sql`select count(*) as n from venues
              where venue_id = ${venue.venue_id} and deleted_at is not null`,
        ),
      ).toBe(1);
      expect(ok(await adminRequest("GET", `${ADMIN}/venues`)).venues).not.toContainEqual(
        expect.objectContaining({ venue_id: venue.venue_id }),
      );
      const gone = await adminRequest("GET", `${ADMIN}/venues/${venue.venue_id}`);
      expect(gone.status).toBe(404);
      expect(gone.body.code).toBe("NOT_FOUND");
      const again = await adminRequest("DELETE", `${ADMIN}/venues/${venue.venue_id}`);
      expect(again.status).toBe(404);
      const renamed = await adminRequest("PUT", `${ADMIN}/venues/${venue.venue_id}`, {
        address: "12 Crud Lane",
      });
      expect(renamed.status).toBe(404);
    });

    test("the list pages like every list: {venues, page, limit, total}, oldest first, deleted ones left out", async () => {
      for (let made = 0; made < 3; made++) await createVenue();
      const ids = (
        await query<{ venue_id: number }>(
          app,
          sql`select venue_id from venues where deleted_at is null order by venue_id`,
        )
      ).map((row) => Number(row.venue_id));
      const page = async (search: string) => {
        const response = await adminRequest("GET", `${ADMIN}/venues${search}`);
        expect(response.status).toBe(200);
        const { venues, ...envelope } = response.body;
        return { ids: venues.map((venue: { venue_id: number }) => venue.venue_id), envelope };
      };
      expect(await page("?limit=2")).toEqual({
        ids: ids.slice(0, 2),
        envelope: { page: 1, limit: 2, total: ids.length },
      });
      expect(await page("?limit=2&page=2")).toEqual({
        ids: ids.slice(2, 4),
        envelope: { page: 2, limit: 2, total: ids.length },
      });
      const beyond = Math.ceil(ids.length / 2) + 1;
      expect(await page(`?limit=2&page=${beyond}`)).toEqual({
        ids: [],
        envelope: { page: beyond, limit: 2, total: ids.length },
      });
      expect((await page("")).envelope).toEqual({ page: 1, limit: 20, total: ids.length });
    });

    test("page and limit out of bounds are 400 VALIDATION_ERROR naming the field", async () => {
      await expectPagingBounds((query) => adminRequest("GET", `${ADMIN}/venues?${query}`));
    });

    test("a venue with seats but no shows can be deleted; it takes no more seats or shows", async () => {
      const venueId = await createVenue();
      await adminRequest("POST", `${ADMIN}/venues/${venueId}/seats`, {
        rows: [{ seat_row: "A", count: 3 }],
      });
      const deleted = await adminRequest("DELETE", `${ADMIN}/venues/${venueId}`);
      expect(deleted.status).toBe(204);
      expect(
        await count(app, sql`select count(*) as n from seats where venue_id = ${venueId}`),
      ).toBe(3);
      const eventId = ok(await adminRequest("POST", `${ADMIN}/events`, { title: "Nowhere" }), 201)
        .event.event_id;
      const before = await snapshot(app);
      const moreSeats = await adminRequest("POST", `${ADMIN}/venues/${venueId}/seats`, {
        rows: [{ seat_row: "B", count: 1 }],
      });
      expect(moreSeats.status).toBe(404);
      const show = await adminRequest("POST", `${ADMIN}/shows`, {
        event_id: eventId,
        venue_id: venueId,
        ...futureWindow(),
        price: 10,
      });
      expect(show.status).toBe(404);
      expect(await snapshot(app)).toBe(before);
    });

    test("a venue with shows cannot be deleted (409)", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const before = await snapshot(app);
      const response = await adminRequest("DELETE", `${ADMIN}/venues/${fixture.venue_id}`);
      expect(response.status).toBe(409);
      expect(response.body.code).toBe("CONFLICT");
      expect(await snapshot(app)).toBe(before);
    });
  });
});

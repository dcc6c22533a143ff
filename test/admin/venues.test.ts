import { describe, expect, test } from "bun:test";
import {
  ADMIN,
  count,
  futureWindow,
  snapshot,
  softDeleted,
  useAdminApp,
} from "../support/admin-api";
import { bodyAt, expectPagingBounds, ok } from "../support/answers";
import { createShowFixture, type TestUser } from "../support/fixtures";
import { answer, query, sql, type TestApp } from "../support/harness";
import { describeEachBackend } from "../support/services";

describeEachBackend("admin API on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  const { adminRequest, adminApi, createVenue } = useAdminApp(backend, (opened) => {
    ({ app, admin } = opened);
  });

  describe("venues", () => {
    test("create, read, update, delete", async () => {
      const venues = adminApi().venues;
      const created = await answer(
        venues.$post({ json: { venue_name: "  Crud Hall  ", address: "10 Crud Lane" } }),
      );
      expect(created.status).toBe(201);
      const venue = bodyAt(created, 201).venue;
      const param = { venue_id: String(venue.venue_id) };
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
      const lastPage = await answer(venues.$get({ query: { limit: "1", page: String(total) } }));
      expect(lastPage.status).toBe(200);
      expect(bodyAt(lastPage, 200).venues).toEqual([venue]);

      const read = await answer(venues[":venue_id"].$get({ param }));
      expect(read.status).toBe(200);
      expect(bodyAt(read, 200).venue).toEqual({ ...venue, total_seats: 0, seats: [] });

      const updated = await answer(
        venues[":venue_id"].$put({ param, json: { address: "11 Crud Lane" } }),
      );
      expect(updated.status).toBe(200);
      expect(bodyAt(updated, 200).venue).toEqual({ ...venue, address: "11 Crud Lane" });
      const [stored] = await query<{ venue_name: string; address: string }>(
        app,
        sql`select venue_name, address from venues where venue_id = ${venue.venue_id}`,
      );
      expect(stored).toEqual({ venue_name: "Crud Hall", address: "11 Crud Lane" });

      const deleted = await answer(venues[":venue_id"].$delete({ param }));
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe("");
      expect(await softDeleted(app, "venues", venue.venue_id)).toBe(true);
      expect(ok(await answer(venues.$get({ query: {} }))).venues).not.toContainEqual(
        expect.objectContaining({ venue_id: venue.venue_id }),
      );
      const gone = await answer(venues[":venue_id"].$get({ param }));
      expect(gone.status).toBe(404);
      expect(bodyAt(gone, 404).code).toBe("NOT_FOUND");
      const again = await answer(venues[":venue_id"].$delete({ param }));
      expect(again.status).toBe(404);
      const renamed = await answer(
        venues[":venue_id"].$put({ param, json: { address: "12 Crud Lane" } }),
      );
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
      const page = async (query: { limit?: string; page?: string }) => {
        const response = await answer(adminApi().venues.$get({ query }));
        expect(response.status).toBe(200);
        const { venues, ...envelope } = bodyAt(response, 200);
        return { ids: venues.map((venue) => venue.venue_id), envelope };
      };
      expect(await page({ limit: "2" })).toEqual({
        ids: ids.slice(0, 2),
        envelope: { page: 1, limit: 2, total: ids.length },
      });
      expect(await page({ limit: "2", page: "2" })).toEqual({
        ids: ids.slice(2, 4),
        envelope: { page: 2, limit: 2, total: ids.length },
      });
      const beyond = Math.ceil(ids.length / 2) + 1;
      expect(await page({ limit: "2", page: String(beyond) })).toEqual({
        ids: [],
        envelope: { page: beyond, limit: 2, total: ids.length },
      });
      expect((await page({})).envelope).toEqual({ page: 1, limit: 20, total: ids.length });
    });

    test("page and limit out of bounds are 400 VALIDATION_ERROR naming the field", async () => {
      await expectPagingBounds((query) => adminRequest("GET", `${ADMIN}/venues?${query}`));
    });

    test("a venue with seats but no shows can be deleted; it takes no more seats or shows", async () => {
      const venueId = await createVenue();
      const venue = adminApi().venues[":venue_id"];
      const param = { venue_id: String(venueId) };
      await venue.seats.$post({ param, json: { rows: [{ seat_row: "A", count: 3 }] } });
      const deleted = await answer(venue.$delete({ param }));
      expect(deleted.status).toBe(204);
      expect(
        await count(app, sql`select count(*) as n from seats where venue_id = ${venueId}`),
      ).toBe(3);
      const eventId = ok(await answer(adminApi().events.$post({ json: { title: "Nowhere" } })), 201)
        .event.event_id;
      const before = await snapshot(app);
      const moreSeats = await answer(
        venue.seats.$post({ param, json: { rows: [{ seat_row: "B", count: 1 }] } }),
      );
      expect(moreSeats.status).toBe(404);
      const show = await answer(
        adminApi().shows.$post({
          json: { event_id: eventId, venue_id: venueId, ...futureWindow(), price: 10 },
        }),
      );
      expect(show.status).toBe(404);
      expect(await snapshot(app)).toBe(before);
    });

    test("a venue with shows cannot be deleted (409)", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const before = await snapshot(app);
      const response = await answer(
        adminApi().venues[":venue_id"].$delete({ param: { venue_id: String(fixture.venue_id) } }),
      );
      expect(response.status).toBe(409);
      expect(bodyAt(response, 409).code).toBe("CONFLICT");
      expect(await snapshot(app)).toBe(before);
    });
  });
});

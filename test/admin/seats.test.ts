import { describe, expect, test } from "bun:test";
import type { InferRequestType } from "hono/client";
import {
  ADMIN,
  count,
  insertBooking,
  snapshot,
  softDeleted,
  useAdminApp,
} from "../support/admin-api";
import { bodyAt } from "../support/answers";
import { createShowFixture, type TestUser } from "../support/fixtures";
import { type ApiClient, answer, MAX_ID, query, sql, type TestApp } from "../support/harness";
import { describeEachBackend } from "../support/services";

type SeatLayout = InferRequestType<
  ApiClient["admin"]["venues"][":venue_id"]["seats"]["$post"]
>["json"];

describeEachBackend("admin API on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  const { adminRequest, adminApi, createVenue, createShow } = useAdminApp(backend, (opened) => {
    ({ app, admin, user } = opened);
  });

  /** A new venue laid out with `layout` through the typed client, and a reader of the venue. */
  async function laidOutVenue(layout: SeatLayout) {
    const venueId = await createVenue();
    const venue = adminApi().venues[":venue_id"];
    const param = { venue_id: String(venueId) };
    const response = await answer(venue.seats.$post({ param, json: layout }));
    return { venueId, response, read: () => answer(venue.$get({ param })) };
  }

  describe("seat layout", () => {
    test("rows adding more than 10,000 seats in one call → 400 VALIDATION_ERROR, nothing added", async () => {
      const { venueId, response } = await laidOutVenue({
        rows: Array.from({ length: 11 }, (_, row) => ({
          seat_row: `R${row + 1}`,
          count: 1000,
        })),
      });
      expect({ status: response.status, body: response.body }).toEqual({
        status: 400,
        body: {
          code: "VALIDATION_ERROR",
          message: expect.any(String),
          details: { rows: "At most 10000 seats a call: these rows add 11000" },
        },
      });
      expect(
        await count(app, sql`select count(*) as n from seats where venue_id = ${venueId}`),
      ).toBe(0);
    });

    test("rows make A1..A20, start_number shifts the numbering", async () => {
      const { venueId, response, read } = await laidOutVenue({
        rows: [
          { seat_row: "A", count: 20 },
          { seat_row: "B", count: 3, start_number: 10 },
        ],
      });
      expect(response.status).toBe(201);
      const layout = bodyAt(response, 201);
      expect(layout.venue_id).toBe(venueId);
      expect(layout.created).toBe(23);
      const labels = layout.seats.map((seat) => `${seat.seat_row}${seat.seat_number}`);
      expect(labels).toEqual([
        ...Array.from({ length: 20 }, (_, i) => `A${i + 1}`),
        "B10",
        "B11",
        "B12",
      ]);
      for (const seat of layout.seats) {
        expect(Object.keys(seat).sort()).toEqual(["seat_id", "seat_number", "seat_row"]);
      }

      const stored = await query<{ seat_id: number; seat_row: string; seat_number: number }>(
        app,
        sql`select seat_id, seat_row, seat_number from seats where venue_id = ${venueId}
            order by seat_row, seat_number`,
      );
      expect(stored.map((seat) => `${seat.seat_row}${seat.seat_number}`)).toEqual(labels);
      expect(stored.map((seat) => seat.seat_id).sort((a, b) => a - b)).toEqual(
        layout.seats.map((seat) => seat.seat_id).sort((a, b) => a - b),
      );

      const venue = await read();
      expect(venue.status).toBe(200);
      expect(bodyAt(venue, 200).venue.total_seats).toBe(23);
      expect(bodyAt(venue, 200).venue.seats).toEqual(layout.seats);
    });

    test("explicit seats are created as given", async () => {
      const { venueId, response, read } = await laidOutVenue({
        seats: [
          { seat_row: "C", seat_number: 7 },
          { seat_row: "AA", seat_number: 1 },
          { seat_row: "C", seat_number: 2 },
        ],
      });
      expect(response.status).toBe(201);
      expect(bodyAt(response, 201).created).toBe(3);
      const stored = await query<{ seat_row: string; seat_number: number }>(
        app,
        sql`select seat_row, seat_number from seats where venue_id = ${venueId}
            order by seat_row, seat_number`,
      );
      expect(stored).toEqual([
        { seat_row: "AA", seat_number: 1 },
        { seat_row: "C", seat_number: 2 },
        { seat_row: "C", seat_number: 7 },
      ]);
      // The layout lists single-letter rows before double-letter ones.
      expect(
        bodyAt(await read(), 200).venue.seats.map((seat) => `${seat.seat_row}${seat.seat_number}`),
      ).toEqual(["C2", "C7", "AA1"]);
    });

    test("duplicate seats → 409 and nothing is inserted", async () => {
      const venueId = await createVenue();
      const first = await adminRequest("POST", `${ADMIN}/venues/${venueId}/seats`, {
        rows: [{ seat_row: "A", count: 5 }],
      });
      expect(first.status).toBe(201);
      const seatCount = () =>
        count(app, sql`select count(*) as n from seats where venue_id = ${venueId}`);

      const bodies = [
        // an existing seat next to new ones
        {
          seats: [
            { seat_row: "D", seat_number: 1 },
            { seat_row: "A", seat_number: 5 },
          ],
        },
        // rows overlapping existing seats
        { rows: [{ seat_row: "A", count: 8 }] },
        // the same seat twice in one request
        {
          seats: [
            { seat_row: "E", seat_number: 1 },
            { seat_row: "E", seat_number: 1 },
          ],
        },
        // two rows that overlap each other
        {
          rows: [
            { seat_row: "F", count: 3 },
            { seat_row: "F", count: 2, start_number: 3 },
          ],
        },
      ];
      for (const body of bodies) {
        const before = await snapshot(app);
        const response = await adminRequest("POST", `${ADMIN}/venues/${venueId}/seats`, body);
        expect({ body, status: response.status }).toEqual({ body, status: 409 });
        expect(response.body.code).toBe("CONFLICT");
        expect(await seatCount()).toBe(5);
        expect(await snapshot(app)).toBe(before);
      }
      // The same seat row/number in another venue is fine.
      const other = await createVenue();
      const elsewhere = await adminRequest("POST", `${ADMIN}/venues/${other}/seats`, {
        rows: [{ seat_row: "A", count: 5 }],
      });
      expect(elsewhere.status).toBe(201);
    });

    test("delete seats; seats of another venue → 400 with details.invalid_seats", async () => {
      const venueId = await createVenue();
      const otherId = await createVenue();
      const mine = await adminRequest("POST", `${ADMIN}/venues/${venueId}/seats`, {
        rows: [{ seat_row: "A", count: 4 }],
      });
      const theirs = await adminRequest("POST", `${ADMIN}/venues/${otherId}/seats`, {
        rows: [{ seat_row: "A", count: 1 }],
      });
      const myIds: number[] = mine.body.seats.map((seat: { seat_id: number }) => seat.seat_id);
      const theirId: number = theirs.body.seats[0].seat_id;

      const before = await snapshot(app);
      const refused = await adminRequest("DELETE", `${ADMIN}/venues/${venueId}/seats`, {
        seat_ids: [myIds[0], theirId, MAX_ID],
      });
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe("VALIDATION_ERROR");
      expect(refused.body.details.invalid_seats).toEqual([theirId, MAX_ID]);
      expect(await snapshot(app)).toBe(before);

      const deleted = await adminRequest("DELETE", `${ADMIN}/venues/${venueId}/seats`, {
        seat_ids: [myIds[0], myIds[1], myIds[0]],
      });
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe("");
      const left = await query<{ seat_id: number }>(
        app,
        sql`select seat_id from seats where venue_id = ${venueId} and deleted_at is null
            order by seat_id`,
      );
      expect(left.map((seat) => seat.seat_id)).toEqual(myIds.slice(2).sort((a, b) => a - b));
      expect(await softDeleted(app, "seats", theirId)).toBe(false);
    });

    test("seats added to a venue with shows get show_seats rows for those shows", async () => {
      const fixture = await createShowFixture(app, admin.token); // rows A, B × 5
      const second = await createShow(fixture.event_id, fixture.venue_id, 96);
      const unrelated = await createShowFixture(app, admin.token);
      const unrelatedBefore = await count(
        app,
        sql`select count(*) as n from show_seats where show_id = ${unrelated.show_id}`,
      );

      const added = await adminRequest("POST", `${ADMIN}/venues/${fixture.venue_id}/seats`, {
        rows: [{ seat_row: "C", count: 4 }],
      });
      expect(added.status).toBe(201);
      const newIds: number[] = added.body.seats.map((seat: { seat_id: number }) => seat.seat_id);

      for (const showId of [fixture.show_id, second]) {
        const rows = await query<{ seat_id: number; status: string; booking_id: number | null }>(
          app,
          sql`select seat_id, status, booking_id from show_seats
              where show_id = ${showId} and seat_id in ${newIds} order by seat_id`,
        );
        expect(rows).toEqual(
          [...newIds]
            .sort((a, b) => a - b)
            .map((seat_id) => ({ seat_id, status: "AVAILABLE", booking_id: null })),
        );
        expect(
          await count(app, sql`select count(*) as n from show_seats where show_id = ${showId}`),
        ).toBe(14);
        const show = await app.request("GET", `/api/v1/shows/${showId}`);
        expect(show.body.show.total_seats).toBe(14);
        expect(show.body.show.available_seats).toBe(14);
      }
      expect(
        await count(
          app,
          sql`select count(*) as n from show_seats where show_id = ${unrelated.show_id}`,
        ),
      ).toBe(unrelatedBefore);
      expect(
        await count(app, sql`select count(*) as n from show_seats where seat_id in ${newIds}`),
      ).toBe(8);
    });

    test("deleting seats held by PENDING or CONFIRMED bookings → 409, nothing deleted", async () => {
      const fixture = await createShowFixture(app, admin.token);
      const [pendingSeat, bookedSeat, freeSeat] = fixture.seat_ids as [number, number, number];
      await insertBooking(app, user.user_id, fixture.show_id, [pendingSeat], "PENDING");
      await insertBooking(app, user.user_id, fixture.show_id, [bookedSeat], "CONFIRMED");

      for (const seatIds of [[pendingSeat], [freeSeat, bookedSeat]]) {
        const before = await snapshot(app);
        const response = await adminRequest("DELETE", `${ADMIN}/venues/${fixture.venue_id}/seats`, {
          seat_ids: seatIds,
        });
        expect(response.status).toBe(409);
        expect(response.body.code).toBe("CONFLICT");
        expect(await snapshot(app)).toBe(before);
      }

      const free = await adminRequest("DELETE", `${ADMIN}/venues/${fixture.venue_id}/seats`, {
        seat_ids: [freeSeat],
      });
      expect(free.status).toBe(204);
      expect(
        await count(app, sql`select count(*) as n from show_seats where seat_id = ${freeSeat}`),
      ).toBe(0);
    });
  });
});

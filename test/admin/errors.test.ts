import { beforeAll, describe, expect, test } from "bun:test";
import {
  ADMIN,
  expectValidationError,
  futureWindow,
  HOUR,
  snapshot,
  softDeleted,
  useAdminApp,
} from "../support/admin-api";
import { createShowFixture, type TestUser } from "../support/fixtures";
import { MAX_ID, SETUP_TIMEOUT_MS, type TestApp } from "../support/harness";
import { describeEachBackend } from "../support/services";

describeEachBackend("admin API on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  const { adminRequest } = useAdminApp(backend, (opened) => {
    ({ app, admin } = opened);
  });

  describe("validation", () => {
    let venueId: number;
    let eventId: number;
    let showId: number;
    let seatId: number;

    beforeAll(async () => {
      const fixture = await createShowFixture(app, admin.token);
      venueId = fixture.venue_id;
      eventId = fixture.event_id;
      showId = fixture.show_id;
      seatId = fixture.seat_ids[0] as number;
    }, SETUP_TIMEOUT_MS);

    const validShow = () => ({
      event_id: eventId,
      venue_id: venueId,
      ...futureWindow(),
      price: 20,
    });

    interface ValidationCase {
      name: string;
      method: string;
      path: () => string;
      body: () => unknown;
      fields: string[];
    }

    const cases: ValidationCase[] = [
      // venues
      {
        name: "venue without venue_name",
        method: "POST",
        path: () => `${ADMIN}/venues`,
        body: () => ({ address: "x" }),
        fields: ["venue_name"],
      },
      {
        name: "venue with empty venue_name",
        method: "POST",
        path: () => `${ADMIN}/venues`,
        body: () => ({ venue_name: "", address: "x" }),
        fields: ["venue_name"],
      },
      {
        name: "venue with blank venue_name",
        method: "POST",
        path: () => `${ADMIN}/venues`,
        body: () => ({ venue_name: "   ", address: "x" }),
        fields: ["venue_name"],
      },
      {
        name: "venue with a NUL character in venue_name and address",
        method: "POST",
        path: () => `${ADMIN}/venues`,
        body: () => ({ venue_name: "Hall\u0000", address: "1 Main St\u0000" }),
        fields: ["venue_name", "address"],
      },
      {
        name: "event with a NUL character in title and description",
        method: "POST",
        path: () => `${ADMIN}/events`,
        body: () => ({ title: "Gig\u0000", description: "\u0000" }),
        fields: ["title", "description"],
      },
      {
        name: "venue with numeric venue_name and no address",
        method: "POST",
        path: () => `${ADMIN}/venues`,
        body: () => ({ venue_name: 42 }),
        fields: ["venue_name", "address"],
      },
      {
        name: "venue with an unknown field",
        method: "POST",
        path: () => `${ADMIN}/venues`,
        body: () => ({ venue_name: "Hall", address: "x", capacity: 100 }),
        fields: ["capacity"],
      },
      {
        name: "venue update with empty body",
        method: "PUT",
        path: () => `${ADMIN}/venues/${venueId}`,
        body: () => ({}),
        fields: ["(root)"],
      },
      {
        name: "venue update with empty venue_name",
        method: "PUT",
        path: () => `${ADMIN}/venues/${venueId}`,
        body: () => ({ venue_name: "" }),
        fields: ["venue_name"],
      },
      {
        name: "venue update with an unknown field",
        method: "PUT",
        path: () => `${ADMIN}/venues/${venueId}`,
        body: () => ({ venue_id: 3 }),
        fields: ["venue_id"],
      },
      // seats
      {
        name: "row with count 0",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ rows: [{ seat_row: "Q", count: 0 }] }),
        fields: ["rows.0.count"],
      },
      {
        name: "row with negative count",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ rows: [{ seat_row: "Q", count: -3 }] }),
        fields: ["rows.0.count"],
      },
      {
        name: "row with string count",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ rows: [{ seat_row: "Q", count: "20" }] }),
        fields: ["rows.0.count"],
      },
      {
        name: "row with fractional count (second row)",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({
          rows: [
            { seat_row: "Q", count: 2 },
            { seat_row: "R", count: 1.5 },
          ],
        }),
        fields: ["rows.1.count"],
      },
      {
        name: "row with too long seat_row",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ rows: [{ seat_row: "ABCDEFGHIJK", count: 2 }] }),
        fields: ["rows.0.seat_row"],
      },
      {
        name: "explicit seat with too long seat_row",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ seats: [{ seat_row: "X".repeat(11), seat_number: 1 }] }),
        fields: ["seats.0.seat_row"],
      },
      {
        name: "explicit seat with seat_number 0",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ seats: [{ seat_row: "Q", seat_number: 0 }] }),
        fields: ["seats.0.seat_number"],
      },
      {
        name: "both rows and seats",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({
          rows: [{ seat_row: "Q", count: 2 }],
          seats: [{ seat_row: "R", seat_number: 1 }],
        }),
        fields: ["(root)"],
      },
      {
        name: "neither rows nor seats",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({}),
        fields: ["(root)"],
      },
      {
        name: "empty rows",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ rows: [] }),
        fields: ["rows"],
      },
      {
        name: "unknown field inside a row",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ rows: [{ seat_row: "Q", count: 2, colour: "red" }] }),
        fields: ["rows.0.colour"],
      },
      {
        name: "layout over 10000 seats",
        method: "POST",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({
          rows: Array.from({ length: 11 }, (_, i) => ({ seat_row: `L${i}`, count: 1000 })),
        }),
        fields: ["rows"],
      },
      {
        name: "seat delete with empty seat_ids",
        method: "DELETE",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ seat_ids: [] }),
        fields: ["seat_ids"],
      },
      {
        name: "seat delete with string id",
        method: "DELETE",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ seat_ids: [String(seatId)] }),
        fields: ["seat_ids.0"],
      },
      {
        name: "seat delete with id 0 and 2^31",
        method: "DELETE",
        path: () => `${ADMIN}/venues/${venueId}/seats`,
        body: () => ({ seat_ids: [seatId, 0, 2 ** 31] }),
        fields: ["seat_ids.1", "seat_ids.2"],
      },
      // events
      {
        name: "event without title",
        method: "POST",
        path: () => `${ADMIN}/events`,
        body: () => ({ description: "no title" }),
        fields: ["title"],
      },
      {
        name: "event with empty title",
        method: "POST",
        path: () => `${ADMIN}/events`,
        body: () => ({ title: "" }),
        fields: ["title"],
      },
      {
        name: "event with numeric description and unknown field",
        method: "POST",
        path: () => `${ADMIN}/events`,
        body: () => ({ title: "T", description: 5, venue_id: 1 }),
        fields: ["description", "venue_id"],
      },
      {
        name: "event update with empty body",
        method: "PUT",
        path: () => `${ADMIN}/events/${eventId}`,
        body: () => ({}),
        fields: ["(root)"],
      },
      // shows
      {
        name: "show ending before it starts",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => {
          const { start_time, end_time } = futureWindow();
          return { ...validShow(), start_time: end_time, end_time: start_time };
        },
        fields: ["end_time"],
      },
      {
        name: "show ending when it starts",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), end_time: validShow().start_time }),
        fields: ["end_time"],
      },
      {
        name: "price with three decimals",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), price: 10.005 }),
        fields: ["price"],
      },
      {
        name: "negative price",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), price: -1 }),
        fields: ["price"],
      },
      {
        name: "price as a string",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), price: "10.00" }),
        fields: ["price"],
      },
      {
        name: 'event_id "7" as a string',
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), event_id: String(eventId) }),
        fields: ["event_id"],
      },
      {
        name: "event_id 0",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), event_id: 0 }),
        fields: ["event_id"],
      },
      {
        name: "event_id 2^31",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), event_id: 2 ** 31 }),
        fields: ["event_id"],
      },
      {
        name: "event_id 1.5 and venue_id -1",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), event_id: 1.5, venue_id: -1 }),
        fields: ["event_id", "venue_id"],
      },
      ...[
        "not a date",
        "2026-12-01",
        "2026-12-01T19:30:00",
        "2026-13-01T19:30:00Z",
        "2026-02-30T19:30:00Z",
        "",
        1_767_225_600_000,
        null,
      ].map(
        (start_time): ValidationCase => ({
          name: `start_time ${JSON.stringify(start_time)}`,
          method: "POST",
          path: () => `${ADMIN}/shows`,
          body: () => ({ ...validShow(), start_time }),
          fields: ["start_time"],
        }),
      ),
      {
        name: "show without end_time",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => {
          const { end_time: _, ...rest } = validShow();
          return rest;
        },
        fields: ["end_time"],
      },
      {
        name: "show with an unknown field",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({ ...validShow(), capacity: 10 }),
        fields: ["capacity"],
      },
      {
        name: "show with every field wrong",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({
          event_id: "7",
          venue_id: 0,
          start_time: "tomorrow",
          end_time: "later",
          price: -0.001,
        }),
        fields: ["event_id", "venue_id", "start_time", "end_time", "price"],
      },
      {
        name: "show in a year PostgreSQL cannot store",
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: () => ({
          ...validShow(),
          start_time: "0000-01-01T00:00:00Z",
          end_time: "+010000-01-01T00:00:00Z",
        }),
        fields: ["start_time", "end_time"],
      },
      {
        name: "show update with empty body",
        method: "PUT",
        path: () => `${ADMIN}/shows/${showId}`,
        body: () => ({}),
        fields: ["(root)"],
      },
      {
        name: "show update moving the end before the current start",
        method: "PUT",
        path: () => `${ADMIN}/shows/${showId}`,
        body: () => ({ end_time: new Date(Date.now() + HOUR).toISOString() }),
        fields: ["end_time"],
      },
      {
        name: "show update moving the start after the current end",
        method: "PUT",
        path: () => `${ADMIN}/shows/${showId}`,
        body: () => ({ start_time: new Date(Date.now() + 1000 * HOUR).toISOString() }),
        fields: ["end_time"],
      },
      {
        name: "show update with three-decimal price",
        method: "PUT",
        path: () => `${ADMIN}/shows/${showId}`,
        body: () => ({ price: 1.234 }),
        fields: ["price"],
      },
      {
        name: 'show update with event_id "7"',
        method: "PUT",
        path: () => `${ADMIN}/shows/${showId}`,
        body: () => ({ event_id: "7" }),
        fields: ["event_id"],
      },
      {
        name: "show update with an unknown field",
        method: "PUT",
        path: () => `${ADMIN}/shows/${showId}`,
        body: () => ({ show_id: 1 }),
        fields: ["show_id"],
      },
    ];

    for (const c of cases) {
      test(`${c.method} ${c.name} → 400 naming ${c.fields.join(", ")}`, async () => {
        const before = await snapshot(app);
        const response = await adminRequest(c.method, c.path(), c.body());
        expectValidationError(response, ...c.fields);
        expect(await snapshot(app)).toBe(before);
      });
    }

    test("malformed JSON and non-object bodies → 400 VALIDATION_ERROR", async () => {
      const before = await snapshot(app);
      const headers = { "Content-Type": "application/json" };
      const malformed = await app.request("POST", `${ADMIN}/venues`, {
        token: admin.token,
        headers,
        rawBody: '{"venue_name": "Hall",',
      });
      expectValidationError(malformed);
      const array = await adminRequest("POST", `${ADMIN}/events`, [{ title: "x" }]);
      expectValidationError(array);
      const noBody = await app.request("POST", `${ADMIN}/events`, { token: admin.token });
      expectValidationError(noBody);
      expect(await snapshot(app)).toBe(before);
    });

    const paramRoutes = [
      { method: "GET", path: (id: string) => `${ADMIN}/venues/${id}`, param: "venue_id" },
      {
        method: "PUT",
        path: (id: string) => `${ADMIN}/venues/${id}`,
        param: "venue_id",
        body: { venue_name: "Renamed" },
      },
      { method: "DELETE", path: (id: string) => `${ADMIN}/venues/${id}`, param: "venue_id" },
      {
        method: "POST",
        path: (id: string) => `${ADMIN}/venues/${id}/seats`,
        param: "venue_id",
        body: { rows: [{ seat_row: "P", count: 1 }] },
      },
      {
        method: "DELETE",
        path: (id: string) => `${ADMIN}/venues/${id}/seats`,
        param: "venue_id",
        body: { seat_ids: [1] },
      },
      {
        method: "PUT",
        path: (id: string) => `${ADMIN}/events/${id}`,
        param: "event_id",
        body: { title: "Renamed" },
      },
      { method: "DELETE", path: (id: string) => `${ADMIN}/events/${id}`, param: "event_id" },
      {
        method: "PUT",
        path: (id: string) => `${ADMIN}/shows/${id}`,
        param: "show_id",
        body: { price: 5 },
      },
      { method: "DELETE", path: (id: string) => `${ADMIN}/shows/${id}`, param: "show_id" },
    ];
    const badIds = ["abc", "-4", "1.5", "99999999999", "0", String(2 ** 31)];

    for (const route of paramRoutes) {
      test(`${route.method} ${route.path(`:${route.param}`)} with bad ids → 400`, async () => {
        const before = await snapshot(app);
        for (const id of badIds) {
          const response = await adminRequest(route.method, route.path(id), route.body);
          expect({ id, status: response.status }).toEqual({ id, status: 400 });
          expect(response.body.code).toBe("VALIDATION_ERROR");
          expect(Object.keys(response.body.details)).toContain(route.param);
        }
        expect(await snapshot(app)).toBe(before);
      });

      test(`${route.method} ${route.path(`:${route.param}`)} with an unknown id → 404`, async () => {
        const before = await snapshot(app);
        const response = await adminRequest(route.method, route.path(String(MAX_ID)), route.body);
        expect(response.status).toBe(404);
        expect(response.body.code).toBe("NOT_FOUND");
        const noun = { venue_id: "Venue", event_id: "Event", show_id: "Show" }[route.param];
        expect(response.body.message).toBe(`${noun} not found`);
        expect(await snapshot(app)).toBe(before);
      });
    }

    test("a show for an unknown event or venue → 404 and nothing is created", async () => {
      const before = await snapshot(app);
      const noEvent = await adminRequest("POST", `${ADMIN}/shows`, {
        ...validShow(),
        event_id: MAX_ID,
      });
      expect(noEvent.status).toBe(404);
      expect(noEvent.body.code).toBe("NOT_FOUND");
      expect(noEvent.body.message).toBe("Event not found");
      const noVenue = await adminRequest("POST", `${ADMIN}/shows`, {
        ...validShow(),
        venue_id: MAX_ID,
      });
      expect(noVenue.status).toBe(404);
      expect(noVenue.body.code).toBe("NOT_FOUND");
      expect(noVenue.body.message).toBe("Venue not found");
      const moveToNowhere = await adminRequest("PUT", `${ADMIN}/shows/${showId}`, {
        venue_id: MAX_ID,
      });
      expect(moveToNowhere.status).toBe(404);
      expect(moveToNowhere.body.code).toBe("NOT_FOUND");
      expect(await snapshot(app)).toBe(before);
    });

    test("?force accepts only true/false", async () => {
      const response = await adminRequest("DELETE", `${ADMIN}/shows/${showId}?force=yes`);
      expectValidationError(response, "force");
      expect(await softDeleted(app, "shows", showId)).toBe(false);
    });
  });
});

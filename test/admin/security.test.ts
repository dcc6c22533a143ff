import { beforeAll, describe, expect, test } from "bun:test";
import { ADMIN, futureWindow, snapshot, useAdminApp } from "../support/admin-api";
import {
  createShowFixture,
  registerUser,
  type ShowFixture,
  type TestUser,
} from "../support/fixtures";
import { query, SETUP_TIMEOUT_MS, sql, type TestApp } from "../support/harness";
import { describeEachBackend } from "../support/services";

describeEachBackend("admin API on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  const { as, adminRequest, createVenue } = useAdminApp(backend, (opened) => {
    ({ app, admin, user } = opened);
  });

  describe("access control", () => {
    let fixture: ShowFixture;
    let spareVenueId: number;

    interface RouteCase {
      method: string;
      path: (f: ShowFixture) => string;
      body?: (f: ShowFixture) => unknown;
      /** What an admin gets for the same request (proves the request would change things). */
      adminStatus: number;
    }

    // Ordered so that replaying the table as an admin succeeds step by step.
    const routes: RouteCase[] = [
      { method: "GET", path: () => `${ADMIN}/venues`, adminStatus: 200 },
      {
        method: "POST",
        path: () => `${ADMIN}/venues`,
        body: () => ({ venue_name: "Intruder Hall", address: "nowhere" }),
        adminStatus: 201,
      },
      { method: "GET", path: (f) => `${ADMIN}/venues/${f.venue_id}`, adminStatus: 200 },
      {
        method: "PUT",
        path: (f) => `${ADMIN}/venues/${f.venue_id}`,
        body: () => ({ venue_name: "Hijacked" }),
        adminStatus: 200,
      },
      { method: "DELETE", path: () => `${ADMIN}/venues/${spareVenueId}`, adminStatus: 204 },
      {
        method: "POST",
        path: (f) => `${ADMIN}/venues/${f.venue_id}/seats`,
        body: () => ({ rows: [{ seat_row: "Z", count: 3 }] }),
        adminStatus: 201,
      },
      {
        method: "DELETE",
        path: (f) => `${ADMIN}/venues/${f.venue_id}/seats`,
        body: (f) => ({ seat_ids: [f.seat_ids[0]] }),
        adminStatus: 204,
      },
      {
        method: "POST",
        path: () => `${ADMIN}/events`,
        body: () => ({ title: "Intruder event" }),
        adminStatus: 201,
      },
      {
        method: "PUT",
        path: (f) => `${ADMIN}/events/${f.event_id}`,
        body: () => ({ title: "Hijacked" }),
        adminStatus: 200,
      },
      {
        method: "POST",
        path: () => `${ADMIN}/shows`,
        body: (f) => ({
          event_id: f.event_id,
          venue_id: f.venue_id,
          ...futureWindow(100),
          price: 1,
        }),
        adminStatus: 201,
      },
      {
        method: "PUT",
        path: (f) => `${ADMIN}/shows/${f.show_id}`,
        body: () => ({ price: 0.01 }),
        adminStatus: 200,
      },
      { method: "DELETE", path: (f) => `${ADMIN}/shows/${f.show_id}`, adminStatus: 204 },
      { method: "DELETE", path: (f) => `${ADMIN}/events/${f.event_id}`, adminStatus: 204 },
    ];

    beforeAll(async () => {
      fixture = await createShowFixture(app, admin.token);
      spareVenueId = await createVenue("Spare venue");
    }, SETUP_TIMEOUT_MS);

    const anonymousCallers: { name: string; headers: Record<string, string> }[] = [
      { name: "no Authorization header", headers: {} },
      { name: "a malformed bearer token", headers: { Authorization: "Bearer not-a-jwt" } },
      { name: "a non-bearer scheme", headers: { Authorization: "Basic YWRtaW46YWRtaW4=" } },
      { name: "an empty bearer", headers: { Authorization: "Bearer " } },
    ];

    for (const route of routes) {
      const template = route.path({
        venue_id: 1,
        event_id: 1,
        show_id: 1,
        seat_ids: [1],
        price: 0,
      });
      const label = `${route.method} ${template.replace(/\/(1|undefined)(?=\/|$)/, "/:id")}`;

      test(`${label} refuses anonymous callers with 401 and changes nothing`, async () => {
        for (const caller of anonymousCallers) {
          const before = await snapshot(app);
          const response = await app.request(route.method, route.path(fixture), {
            headers: caller.headers,
            body: route.body?.(fixture),
          });
          expect({ caller: caller.name, status: response.status }).toEqual({
            caller: caller.name,
            status: 401,
          });
          expect(response.body.code).toBe("UNAUTHENTICATED");
          expect(typeof response.body.message).toBe("string");
          expect(await snapshot(app)).toBe(before);
        }
      });

      test(`${label} refuses plain users with 403 and changes nothing`, async () => {
        const before = await snapshot(app);
        const response = await as(user.token).request(
          route.method,
          route.path(fixture),
          route.body?.(fixture),
        );
        expect(response.status).toBe(403);
        expect(response.body.code).toBe("FORBIDDEN");
        expect(await snapshot(app)).toBe(before);
      });
    }

    test("authorisation is checked before validation: bad bodies still get 401/403", async () => {
      const bad = { venue_name: "", unknown: true };
      const anonymous = await app.request("POST", `${ADMIN}/venues`, { body: bad });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.code).toBe("UNAUTHENTICATED");
      const plain = await as(user.token).request("POST", `${ADMIN}/venues`, bad);
      expect(plain.status).toBe(403);
      expect(plain.body.code).toBe("FORBIDDEN");
      const badPath = await as(user.token).request("DELETE", `${ADMIN}/shows/abc`);
      expect(badPath.status).toBe(403);
    });

    test("a token of a deleted user is refused with 401", async () => {
      const ghost = await registerUser(app);
      await query(app, sql`delete from users where user_id = ${ghost.user_id}`);
      const response = await as(ghost.token).request("GET", `${ADMIN}/venues`);
      expect(response.status).toBe(401);
      expect(response.body.code).toBe("UNAUTHENTICATED");
    });

    // Runs last in this block: the same requests do change things for an admin.
    test("the same requests succeed for an admin", async () => {
      for (const route of routes) {
        const before = await snapshot(app);
        const response = await adminRequest(
          route.method,
          route.path(fixture),
          route.body?.(fixture),
        );
        expect({
          route: `${route.method} ${route.path(fixture)}`,
          status: response.status,
        }).toEqual({ route: `${route.method} ${route.path(fixture)}`, status: route.adminStatus });
        if (route.method !== "GET") expect(await snapshot(app)).not.toBe(before);
      }
    });
  });
});

/**
 * Authorization matrix: every route of the generated OpenAPI document × every kind of caller.
 *
 * The routes come from `GET /api/v1/openapi.json` (paths × methods), so a route added later is
 * covered without touching this file; `security` says whether it needs a token and the `Admin`
 * tag whether it is admin-only. A route the rules below cannot classify fails the suite.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { sign } from "hono/jwt";
import {
  createAdmin,
  createShowFixture,
  registerUser,
  type ShowFixture,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, query, sql, TEST_JWT_SECRET, type TestApp } from "./support/harness";
import { describeEachBackend } from "./support/services";

const OPENAPI_PATH = "/api/v1/openapi.json";
const OTHER_SECRET = "another-secret-that-is-also-at-least-32-characters";

const IDENTITIES = [
  "anonymous",
  "revoked token",
  "expired token",
  "other secret",
  "alg none",
  "other user",
  "user",
  "admin",
] as const;
type Identity = (typeof IDENTITIES)[number];
/** Callers that must never get past authentication. */
const UNAUTHENTICATED: Identity[] = [
  "anonymous",
  "revoked token",
  "expired token",
  "other secret",
  "alg none",
];

interface Route {
  method: string;
  /** The OpenAPI template, e.g. `/api/v1/bookings/{booking_id}/confirm`. */
  path: string;
  key: string;
  /** undefined: the document's `security` is something these rules do not know. */
  access: "public" | "user" | "admin" | undefined;
  hasBody: boolean;
  pathParams: string[];
}

/**
 * Routes scoped to one booking: its owner may act, any other user gets 404 NOT_FOUND (never
 * revealing that the booking exists). Admins may read and cancel any booking.
 */
const OWNED_BOOKING_ROUTES = new Set([
  "POST /api/v1/bookings/payments/simulate",
  "POST /api/v1/bookings/{booking_id}/confirm",
  "POST /api/v1/bookings/{booking_id}/cancel",
  "GET /api/v1/bookings/{booking_id}",
]);

/**
 * Answers that carry a token (every auth route) or a user's own data (every route that needs a
 * token), errors included, must not be kept by any cache.
 */
const isPrivate = (route: Route) =>
  route.access !== "public" || route.path.startsWith("/api/v1/auth/");
const cachingFailure = (response: CallResult) =>
  response.headers.get("Cache-Control") === "no-store"
    ? undefined
    : `Cache-Control: ${response.headers.get("Cache-Control")}`;

type Expectation =
  | { kind: "exact"; status: number; code: string }
  | { kind: "allowed" } // anything but 401 / 403 (the route's own checks may still say no)
  | { kind: "status"; status: number };

function classify(operation: Record<string, unknown>): Route["access"] {
  const security = operation.security as Record<string, unknown>[] | undefined;
  const tags = (operation.tags as string[] | undefined) ?? [];
  const schemes = (security ?? []).flatMap((entry) => Object.keys(entry));
  if (schemes.length === 0) return tags.includes("Admin") ? undefined : "public";
  if (schemes.some((scheme) => scheme !== "bearerAuth")) return undefined;
  return tags.includes("Admin") ? "admin" : "user";
}

/** The expectation for one cell; undefined when no rule covers the route. */
function expectationFor(route: Route, identity: Identity): Expectation | undefined {
  if (route.access === undefined) return undefined;
  if (route.access === "public") return { kind: "allowed" };
  if (UNAUTHENTICATED.includes(identity)) {
    return { kind: "exact", status: 401, code: "UNAUTHENTICATED" };
  }
  if (route.access === "admin") {
    return identity === "admin"
      ? { kind: "allowed" }
      : { kind: "exact", status: 403, code: "FORBIDDEN" };
  }
  // Authenticated, non-admin routes.
  const bookingScoped =
    route.pathParams.includes("booking_id") || route.path.startsWith("/api/v1/bookings/payments");
  if (bookingScoped && !OWNED_BOOKING_ROUTES.has(route.key)) return undefined;
  if (OWNED_BOOKING_ROUTES.has(route.key)) {
    if (identity === "other user") return { kind: "exact", status: 404, code: "NOT_FOUND" };
    if (identity === "admin" && route.key === "GET /api/v1/bookings/{booking_id}") {
      return { kind: "status", status: 200 };
    }
  }
  return { kind: "allowed" };
}

interface Session extends TestUser {
  role: "user" | "admin";
}

interface CallResult {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: error bodies are arbitrary JSON
  body: any;
  text: string;
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const nowSeconds = () => Math.floor(Date.now() / 1000);

describeEachBackend("authorization matrix on %s", (backend) => {
  let app: TestApp;
  const routes: Route[] = [];
  const sessions = {} as Record<"user" | "other user" | "admin", Session>;
  let revokedToken: string;
  /** Data that user and booking routes act on. */
  let fixture: ShowFixture;
  /** Separate data for admin routes, whose PUT / DELETE cells may change or remove it. */
  let adminFixture: ShowFixture;
  let bookingId: number;
  let nextSeat = 1;

  /** Sends one request straight to the in-process app; event streams are cancelled at once. */
  async function call(
    method: string,
    path: string,
    options: { token?: string; body?: string } = {},
  ): Promise<CallResult> {
    const headers = new Headers();
    if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
    if (options.body !== undefined) headers.set("Content-Type", "application/json");
    const controller = new AbortController();
    const response = await app.runtime.app.request(path, {
      method,
      headers,
      body: options.body,
      signal: controller.signal,
    });
    if (response.headers.get("Content-Type")?.includes("text/event-stream")) {
      await response.body?.cancel();
      controller.abort();
      return { status: response.status, headers: response.headers, body: undefined, text: "" };
    }
    const text = await response.text();
    const isJson = response.headers.get("Content-Type")?.includes("application/json");
    return {
      status: response.status,
      headers: response.headers,
      body: isJson ? JSON.parse(text) : text,
      text,
    };
  }

  async function tokenVersion(userId: number): Promise<number> {
    const [row] = await query<{ v: number }>(
      app,
      sql`select token_version as v from users where user_id = ${userId}`,
    );
    return Number(row?.v);
  }

  /** Claims exactly like the API's, for the admin: only the named defect makes them invalid. */
  async function adminClaims(expiresIn = 3600) {
    const admin = sessions.admin;
    const iat = nowSeconds() - (expiresIn < 0 ? 7200 : 0);
    return {
      sub: admin.user_id,
      ver: await tokenVersion(admin.user_id),
      role: "admin",
      iat,
      exp: nowSeconds() + expiresIn,
    };
  }

  async function tokenFor(identity: Identity): Promise<string | undefined> {
    switch (identity) {
      case "anonymous":
        return undefined;
      case "revoked token":
        return revokedToken;
      case "expired token":
        return sign(await adminClaims(-60), TEST_JWT_SECRET, "HS256");
      case "other secret":
        return sign(await adminClaims(), OTHER_SECRET, "HS256");
      case "alg none":
        return `${base64url({ alg: "none", typ: "JWT" })}.${base64url(await adminClaims())}.`;
      default:
        return sessions[identity].token;
    }
  }

  /** Logs a session in again (after a logout cell revoked its token). */
  async function relogin(session: Session): Promise<void> {
    const response = await call("POST", "/api/v1/auth/login", {
      body: JSON.stringify({ email: session.email, password: session.password }),
    });
    expect(response.status).toBe(200);
    session.token = response.body.token;
  }

  function fillPath(route: Route): string {
    const data = route.access === "admin" ? adminFixture : fixture;
    const values: Record<string, number | string> = {
      booking_id: bookingId,
      show_id: data.show_id,
      event_id: data.event_id,
      venue_id: data.venue_id,
      asset: "swagger-ui.css",
    };
    return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = values[name];
      if (value === undefined) throw new Error(`no value to fill {${name}} of ${route.key}`);
      return String(value);
    });
  }

  /** A minimal valid body, so validation never masks the authorization answer. */
  function bodyFor(route: Route): string | undefined {
    if (!route.hasBody) return undefined;
    const start = Date.now() + 72 * 3_600_000;
    const bodies: Record<string, () => unknown> = {
      "POST /api/v1/auth/register": () => ({
        email: `matrix-${Math.random().toString(36).slice(2)}@example.com`,
        password: "password-123",
      }),
      "POST /api/v1/auth/login": () => ({
        email: sessions.user.email,
        password: sessions.user.password,
      }),
      "POST /api/v1/bookings/lock": () => ({
        show_id: fixture.show_id,
        seat_ids: [fixture.seat_ids[nextSeat++ % fixture.seat_ids.length]],
      }),
      "POST /api/v1/bookings/payments/simulate": () => ({
        booking_id: bookingId,
        amount: fixture.price,
      }),
      "POST /api/v1/bookings/{booking_id}/confirm": () => ({}),
      "POST /api/v1/admin/venues": () => ({ venue_name: "Matrix hall", address: "1 Matrix Way" }),
      "PUT /api/v1/admin/venues/{venue_id}": () => ({ address: "2 Matrix Way" }),
      "POST /api/v1/admin/venues/{venue_id}/seats": () => ({
        rows: [{ seat_row: `M${nextSeat++}`, count: 2 }],
      }),
      "DELETE /api/v1/admin/venues/{venue_id}/seats": () => ({
        seats: [{ seat_row: "Z", seat_number: 99 }],
      }),
      "POST /api/v1/admin/events": () => ({ title: "Matrix event" }),
      "PUT /api/v1/admin/events/{event_id}": () => ({ title: "Matrix event, renamed" }),
      "POST /api/v1/admin/shows": () => ({
        event_id: adminFixture.event_id,
        venue_id: adminFixture.venue_id,
        start_time: new Date(start).toISOString(),
        end_time: new Date(start + 3_600_000).toISOString(),
        price: 10,
      }),
      "PUT /api/v1/admin/shows/{show_id}": () => ({ price: 11 }),
    };
    return JSON.stringify(bodies[route.key]?.() ?? {});
  }

  beforeAll(async () => {
    app = await createTestApp(backend);
    const doc = await call("GET", OPENAPI_PATH);
    expect(doc.status).toBe(200);
    for (const [path, operations] of Object.entries<Record<string, Record<string, unknown>>>(
      doc.body.paths,
    )) {
      for (const [method, operation] of Object.entries(operations)) {
        const parameters = (operation.parameters as { in: string; name: string }[]) ?? [];
        routes.push({
          method: method.toUpperCase(),
          path,
          key: `${method.toUpperCase()} ${path}`,
          access: classify(operation),
          hasBody: operation.requestBody !== undefined,
          pathParams: parameters.filter((p) => p.in === "path").map((p) => p.name),
        });
      }
    }

    const admin = await createAdmin(app);
    sessions.admin = { ...admin, role: "admin" };
    sessions.user = { ...(await registerUser(app)), role: "user" };
    sessions["other user"] = { ...(await registerUser(app)), role: "user" };
    const revoked = await registerUser(app);
    revokedToken = revoked.token;
    expect((await call("POST", "/api/v1/auth/logout", { token: revokedToken })).status).toBe(204);

    fixture = await createShowFixture(app, admin.token, { rows: ["A", "B", "C"], perRow: 10 });
    adminFixture = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 4 });
    const hold = await call("POST", "/api/v1/bookings/lock", {
      token: sessions.user.token,
      body: JSON.stringify({ show_id: fixture.show_id, seat_ids: [fixture.seat_ids[0]] }),
    });
    expect(hold.status).toBe(200);
    bookingId = hold.body.booking_id;
  });
  afterAll(() => app.close());

  test("the document lists the routes this suite relies on, and every route has a rule", () => {
    expect(routes.length).toBeGreaterThan(30);
    for (const key of OWNED_BOOKING_ROUTES) expect(routes.map((r) => r.key)).toContain(key);
    const unruled = routes
      .filter((route) => IDENTITIES.some((identity) => !expectationFor(route, identity)))
      .map((route) => route.key);
    expect(unruled).toEqual([]);
  });

  test("the forged tokens fail only because of their defect", async () => {
    // The same claims, correctly signed and unexpired, are accepted: each 401 below is earned.
    const good = await sign(await adminClaims(), TEST_JWT_SECRET, "HS256");
    const me = await call("GET", "/api/v1/auth/me", { token: good });
    expect(me.status).toBe(200);
    expect(me.body.user.role).toBe("admin");
  });

  test("every route × every identity answers as expected", async () => {
    const failures: string[] = [];
    let cells = 0;
    for (const route of routes) {
      for (const identity of IDENTITIES) {
        const expected = expectationFor(route, identity);
        if (!expected) {
          failures.push(`${route.key} × ${identity}: no expectation rule`);
          continue;
        }
        const response = await call(route.method, fillPath(route), {
          token: await tokenFor(identity),
          body: bodyFor(route),
        });
        cells++;
        if (process.env.MATRIX_DUMP)
          console.log(route.key, identity, response.status, response.body?.code ?? "");
        const cell = `${route.key} × ${identity} → ${response.status} ${response.text.slice(0, 120)}`;
        if (expected.kind === "allowed") {
          if (response.status === 401 || response.status === 403) failures.push(cell);
        } else if (response.status !== expected.status) {
          failures.push(`${cell} (expected ${expected.status})`);
        } else if (expected.kind === "exact") {
          if (response.body?.code !== expected.code || typeof response.body?.message !== "string") {
            failures.push(`${cell} (expected code ${expected.code})`);
          }
        }
        if (response.status >= 500) failures.push(`${cell} (5xx)`);
        const caching = isPrivate(route) ? cachingFailure(response) : undefined;
        if (caching) failures.push(`${cell} (${caching})`);
        if (route.key === "POST /api/v1/auth/logout" && response.status === 204) {
          if (identity === "user" || identity === "other user" || identity === "admin") {
            await relogin(sessions[identity]);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(cells).toBe(routes.length * IDENTITIES.length);
  });

  test("the other user's cells left the booking untouched; its owner and an admin can act", async () => {
    const [row] = await query<{ status: string; user_id: number }>(
      app,
      sql`select status, user_id from bookings where booking_id = ${bookingId}`,
    );
    // The owner paid, confirmed and cancelled it during the matrix.
    expect(row).toEqual({ status: "CANCELLED", user_id: sessions.user.user_id });
  });

  test("an admin may cancel another user's booking; another user may not", async () => {
    const hold = await call("POST", "/api/v1/bookings/lock", {
      token: sessions.user.token,
      body: JSON.stringify({ show_id: fixture.show_id, seat_ids: [fixture.seat_ids.at(-1)] }),
    });
    expect(hold.status).toBe(200);
    const path = `/api/v1/bookings/${hold.body.booking_id}/cancel`;
    const other = await call("POST", path, { token: sessions["other user"].token });
    expect({ status: other.status, code: other.body.code }).toEqual({
      status: 404,
      code: "NOT_FOUND",
    });
    expect((await call("POST", path, { token: sessions.admin.token })).status).toBe(200);
  });

  test("authentication and authorization come before validation", async () => {
    const failures: string[] = [];
    for (const route of routes.filter((r) => r.access !== "public")) {
      // A path id that fails validation, and bodies that are malformed or empty.
      const badPath = route.path.replace(/\{\w+\}/g, "not-an-id");
      const bodies = route.hasBody ? ["{not json", "{}", "[]"] : [undefined];
      for (const body of bodies) {
        for (const path of [badPath, fillPath(route)]) {
          const anonymous = await call(route.method, path, { body });
          if (anonymous.status !== 401 || anonymous.body?.code !== "UNAUTHENTICATED") {
            failures.push(`${route.key} anonymous ${path} ${body}: ${anonymous.status}`);
          }
          const caching = cachingFailure(anonymous);
          if (caching) failures.push(`${route.key} anonymous ${path} ${body}: ${caching}`);
          if (route.access === "admin") {
            const user = await call(route.method, path, { body, token: sessions.user.token });
            if (user.status !== 403 || user.body?.code !== "FORBIDDEN") {
              failures.push(`${route.key} user ${path} ${body}: ${user.status}`);
            }
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });
});

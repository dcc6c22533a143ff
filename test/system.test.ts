import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { execRows } from "../src/db/client";
import { createHealthCheck, type HealthReport } from "../src/modules/system/health";
import { expectError } from "./support/answers";
import { createTestApp, type TestApp } from "./support/harness";
import { describeEachBackend, redisUrl } from "./support/services";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SANE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Every route the app has mounted, as OpenAPI "METHOD /path/{param}" keys. */
function mountedOperations(app: TestApp): string[] {
  const operations = app.runtime.app.routes
    .filter((route) => route.method !== "ALL")
    .map(
      (route) => `${route.method.toLowerCase()} ${route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`,
    );
  return [...new Set(operations)].sort();
}

const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "options", "head"];

describeEachBackend("system on %s", (backend) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(backend);
  });
  afterAll(() => app.close());

  describe("health", () => {
    test("GET /health is 200 {status:OK, timestamp}", async () => {
      const before = Date.now();
      const response = await app.request("GET", "/health");
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(["status", "timestamp"]);
      expect(response.body.status).toBe("OK");
      expect(response.body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const stamp = Date.parse(response.body.timestamp);
      expect(stamp).toBeGreaterThanOrEqual(before - 1000);
      expect(stamp).toBeLessThanOrEqual(Date.now() + 1000);
    });

    test("GET /health touches no dependency: it answers while readiness is degraded", async () => {
      const services = app.runtime.services;
      const original = services.health;
      let probed = false;
      services.health = async () => {
        probed = true;
        return { status: "UNAVAILABLE", checks: { database: "down" } };
      };
      try {
        expect((await app.request("GET", "/health")).status).toBe(200);
        expect(probed).toBe(false);
      } finally {
        services.health = original;
      }
    });

    test("GET /health/ready is 200 with the database, its schema and Redis checked", async () => {
      const response = await app.request("GET", "/health/ready");
      expect(response.status).toBe(200);
      const expectedRedis = backend === "postgres" && redisUrl ? "ok" : "embedded";
      expect(response.body).toEqual({
        status: "OK",
        checks: { database: "ok", schema: "ok", redis: expectedRedis },
      });
    });

    describe("the schema version", () => {
      const db = () => app.runtime.shared.database.db;
      const latest = async () => {
        const rows = await execRows<{ created_at: string }>(
          db(),
          sql`select max(created_at)::text as created_at from drizzle.__drizzle_migrations`,
        );
        return BigInt(rows[0]?.created_at as string);
      };

      test("a missing migration makes readiness 503 UNAVAILABLE with schema behind", async () => {
        const last = await latest();
        const [removed] = await execRows<{ hash: string }>(
          db(),
          sql`delete from drizzle.__drizzle_migrations where created_at = ${last} returning hash`,
        );
        try {
          const response = await app.request("GET", "/health/ready");
          expect(response.status).toBe(503);
          expect(response.body.status).toBe("UNAVAILABLE");
          expect(response.body.checks).toMatchObject({ database: "ok", schema: "behind" });
        } finally {
          await db().execute(
            sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${removed?.hash}, ${last})`,
          );
        }
        expect((await app.request("GET", "/health/ready")).status).toBe(200);
      });

      test("a migration this release does not know keeps it serving: 200 DEGRADED, schema ahead", async () => {
        const unknown = (await latest()) + 1n;
        await db().execute(
          sql`insert into drizzle.__drizzle_migrations (hash, created_at) values ('newer', ${unknown})`,
        );
        try {
          const response = await app.request("GET", "/health/ready");
          expect(response.status).toBe(200);
          expect(response.body.status).toBe("DEGRADED");
          expect(response.body.checks).toMatchObject({ database: "ok", schema: "ahead" });
        } finally {
          await db().execute(
            sql`delete from drizzle.__drizzle_migrations where created_at = ${unknown}`,
          );
        }
      });
    });

    test("GET /health/ready answers the report: 503 only when UNAVAILABLE", async () => {
      const services = app.runtime.services;
      const original = services.health;
      try {
        const reports: Array<[HealthReport, number]> = [
          [{ status: "DEGRADED", checks: { database: "ok", redis: "degraded" } }, 200],
          [{ status: "UNAVAILABLE", checks: { database: "down", redis: "ok" } }, 503],
        ];
        for (const [report, status] of reports) {
          services.health = async () => report;
          const response = await app.request("GET", "/health/ready");
          expect({ status: response.status, body: response.body }).toEqual({
            status,
            body: report,
          });
        }
      } finally {
        services.health = original;
      }
    });
  });

  describe("OpenAPI document and docs UI", () => {
    // biome-ignore lint/suspicious/noExplicitAny: the document is arbitrary JSON
    const openapi = async (): Promise<any> => {
      const response = await app.request("GET", "/api/v1/openapi.json");
      expect({
        status: response.status,
        text: response.status === 200 ? "" : response.text,
      }).toEqual({ status: 200, text: "" });
      expect(response.headers.get("Content-Type")).toContain("application/json");
      return response.body;
    };

    test("is OpenAPI 3.1 with a title and version", async () => {
      const doc = await openapi();
      expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
      expect(doc.info.title).toEqual(expect.any(String));
      expect(doc.info.version).toEqual(expect.any(String));
    });

    test("lists the contract's routes that are mounted", async () => {
      const doc = await openapi();
      const expected: Record<string, string[]> = {
        "/health": ["get"],
        "/health/ready": ["get"],
        "/api/v1/auth/register": ["post"],
        "/api/v1/auth/login": ["post"],
        "/api/v1/auth/me": ["get"],
        "/api/v1/auth/logout": ["post"],
        "/api/v1/shows": ["get"],
        "/api/v1/shows/search": ["get"],
        "/api/v1/shows/{show_id}": ["get"],
        "/api/v1/shows/{show_id}/seats": ["get"],
        "/api/v1/events": ["get"],
        "/api/v1/events/{event_id}": ["get"],
        "/api/v1/admin/venues": ["post"],
        "/api/v1/admin/venues/{venue_id}": ["put", "delete"],
        "/api/v1/admin/venues/{venue_id}/seats": ["post", "delete"],
        "/api/v1/admin/events": ["post"],
        "/api/v1/admin/events/{event_id}": ["put", "delete"],
        "/api/v1/admin/shows": ["post"],
        "/api/v1/admin/shows/{show_id}": ["put", "delete"],
        "/api-docs": ["get"],
        "/api/v1/openapi.json": ["get"],
      };
      const missing: string[] = [];
      for (const [path, methods] of Object.entries(expected)) {
        for (const method of methods) {
          if (!doc.paths?.[path]?.[method]) missing.push(`${method} ${path}`);
        }
      }
      expect(missing).toEqual([]);
    });

    test("documents every route the app has mounted, and nothing that is not mounted", async () => {
      const doc = await openapi();
      const documented: string[] = [];
      for (const [path, item] of Object.entries(doc.paths as Record<string, object>)) {
        for (const method of Object.keys(item)) {
          if (HTTP_METHODS.includes(method)) documented.push(`${method} ${path}`);
        }
      }
      const mounted = mountedOperations(app);
      expect(mounted.length).toBeGreaterThan(15);
      expect(documented.sort()).toEqual(mounted);
    });

    test("has the bearerAuth scheme, and protected operations use it", async () => {
      const doc = await openapi();
      expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
        type: "http",
        scheme: "bearer",
        bearerFormat: "JWT",
      });
      for (const [path, method] of [
        ["/api/v1/auth/me", "get"],
        ["/api/v1/auth/logout", "post"],
        ["/api/v1/admin/venues", "post"],
        ["/api/v1/admin/shows/{show_id}", "delete"],
      ] as const) {
        expect(doc.paths[path][method].security).toEqual([{ bearerAuth: [] }]);
      }
      expect(doc.paths["/api/v1/auth/login"].post.security).toEqual([]);
      expect(doc.paths["/health"].get.security).toEqual([]);
    });

    test("error responses name the catalogue codes the route answers", async () => {
      const doc = await openapi();
      const conflict = doc.paths["/api/v1/auth/register"].post.responses["409"];
      expect(conflict.content["application/json"].schema.$ref).toBe(
        "#/components/schemas/EmailTakenError",
      );
      const emailTaken = doc.components.schemas.EmailTakenError;
      expect(emailTaken.required).toEqual(["message", "code"]);
      expect(emailTaken.properties.code.enum).toEqual(["EMAIL_TAKEN"]);
      const login = doc.paths["/api/v1/auth/login"].post.responses;
      expect(login["429"].content["application/json"].schema.$ref).toBe(
        "#/components/schemas/RateLimitedError",
      );
      expect(Object.keys(login["429"].headers)).toEqual(
        expect.arrayContaining(["Retry-After", "RateLimit-Limit", "X-Request-Id", "Cache-Control"]),
      );
      expect(login["413"].content["application/json"].schema.$ref).toBe(
        "#/components/schemas/PayloadTooLargeError",
      );
    });

    test("every operation has a unique operationId; the document names its server", async () => {
      const doc = await openapi();
      const ids = Object.values(
        doc.paths as Record<string, Record<string, { operationId?: string }>>,
      )
        .flatMap((item) => Object.values(item))
        .map((operation) => operation.operationId);
      expect(ids).not.toContain(undefined);
      expect(new Set(ids).size).toBe(ids.length);
      expect(doc.servers).toEqual([expect.objectContaining({ url: "/" })]);
    });

    test("GET /api-docs serves the Swagger UI page pointing at the document", async () => {
      const response = await app.request("GET", "/api-docs");
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Type")).toContain("text/html");
      expect(response.text.toLowerCase()).toContain("<html");
      expect(response.text).not.toMatch(/(https?:)?\/\/[a-z]/i);
      expect(response.headers.get("Content-Security-Policy")).toContain("default-src 'self'");
      const initializer = await app.request("GET", "/api-docs/swagger-initializer.js");
      expect(initializer.text).toContain('"url":"/api/v1/openapi.json"');
      expect(initializer.text).toContain('"persistAuthorization":false');
    });

    test("the page's assets come from the installed swagger-ui-dist, unknown names are 404", async () => {
      const installed = await Bun.file(
        Bun.fileURLToPath(import.meta.resolve("swagger-ui-dist/swagger-ui-bundle.js")),
      ).text();
      const bundle = await app.request("GET", "/api-docs/swagger-ui-bundle.js");
      expect(bundle.status).toBe(200);
      expect(bundle.headers.get("Content-Type")).toContain("javascript");
      expect(bundle.text).toBe(installed);
      for (const name of ["package.json", "..%2Fpackage.json", "swagger-ui.js.map"]) {
        expectError(await app.request("GET", `/api-docs/${name}`), 404, "NOT_FOUND");
      }
    });
  });

  describe("X-Request-Id", () => {
    const sane = ["abc", "A-Z_a.z-0.9", "x".repeat(128), "0", "req-2026-12-01.1"];
    test.each(sane)("a sane caller id %p is echoed", async (id) => {
      const response = await app.request("GET", "/health", { headers: { "X-Request-Id": id } });
      expect(response.status).toBe(200);
      expect(response.headers.get("X-Request-Id")).toBe(id);
    });

    const insane = [
      "has spaces",
      "a=b",
      "x".repeat(129),
      "semi;colon",
      "slash/slash",
      "ünïcødé",
      "<script>",
      'quote"d',
    ];
    test.each(insane)("an insane caller id %p is replaced by a generated one", async (id) => {
      const response = await app.request("GET", "/health", { headers: { "X-Request-Id": id } });
      expect(response.status).toBe(200);
      const echoed = response.headers.get("X-Request-Id");
      expect(echoed).not.toBe(id);
      expect(echoed).toMatch(UUID);
    });

    test("without a caller id one is generated, different per request", async () => {
      const first = await app.request("GET", "/health");
      const second = await app.request("GET", "/health");
      expect(first.headers.get("X-Request-Id")).toMatch(UUID);
      expect(second.headers.get("X-Request-Id")).toMatch(UUID);
      expect(first.headers.get("X-Request-Id")).not.toBe(second.headers.get("X-Request-Id"));
    });

    test("an empty caller id is replaced", async () => {
      const response = await app.request("GET", "/health", { headers: { "X-Request-Id": "" } });
      expect(response.headers.get("X-Request-Id")).toMatch(UUID);
    });

    test("error responses carry it too", async () => {
      const cases: Array<[string, string, Parameters<TestApp["request"]>[2], number]> = [
        ["GET", "/no/such/route", {}, 404],
        ["GET", "/api/v1/auth/me", {}, 401],
        ["GET", "/api/v1/shows/abc", {}, 400],
        ["GET", "/api/v1/shows/999999", {}, 404],
        [
          "POST",
          "/api/v1/auth/register",
          { rawBody: "{nope", headers: { "Content-Type": "application/json" } },
          400,
        ],
        [
          "POST",
          "/api/v1/auth/register",
          { rawBody: "x".repeat(70_000), headers: { "Content-Type": "application/json" } },
          413,
        ],
      ];
      for (const [method, path, options, status] of cases) {
        const id = `err-${status}-${path.length}`;
        const response = await app.request(method, path, {
          ...options,
          headers: { ...options?.headers, "X-Request-Id": id },
        });
        expect({ path, status: response.status }).toEqual({ path, status });
        expect(response.headers.get("X-Request-Id")).toBe(id);
        const generated = await app.request(method, path, {
          ...options,
          headers: { ...options?.headers, "X-Request-Id": "not sane" },
        });
        expect(generated.headers.get("X-Request-Id")).toMatch(SANE_ID);
        expect(generated.headers.get("X-Request-Id")).not.toBe("not sane");
      }
    });
  });

  describe("request bodies", () => {
    const json = { "Content-Type": "application/json" };

    test("malformed JSON is 400 VALIDATION_ERROR", async () => {
      for (const rawBody of ["{bad", '{"email": "a@b.co",}', "", "{", "'single'"]) {
        const response = await app.request("POST", "/api/v1/auth/register", {
          rawBody,
          headers: json,
        });
        expectError(response, 400, "VALIDATION_ERROR");
      }
    });

    test("a body over 64 KiB is 413 PAYLOAD_TOO_LARGE, with or without Content-Length", async () => {
      const big = JSON.stringify({
        email: "big@example.com",
        password: "password-123",
        name: "x".repeat(64 * 1024),
      });
      expect(big.length).toBeGreaterThan(64 * 1024);
      const withoutLength = await app.request("POST", "/api/v1/auth/register", {
        rawBody: big,
        headers: json,
      });
      expectError(withoutLength, 413, "PAYLOAD_TOO_LARGE");
      const withLength = await app.request("POST", "/api/v1/auth/register", {
        rawBody: big,
        headers: { ...json, "Content-Length": String(Buffer.byteLength(big)) },
      });
      expectError(withLength, 413, "PAYLOAD_TOO_LARGE");
      // Oversized and malformed: the size limit answers first.
      const malformed = await app.request("POST", "/api/v1/auth/login", {
        rawBody: `{${" ".repeat(70_000)}`,
        headers: json,
      });
      expectError(malformed, 413, "PAYLOAD_TOO_LARGE");
      // Nothing was created by the oversized registration.
      const login = await app.request("POST", "/api/v1/auth/login", {
        body: { email: "big@example.com", password: "password-123" },
      });
      expectError(login, 401, "INVALID_CREDENTIALS");
    });

    test("a body just under the limit is not refused for its size", async () => {
      const body = JSON.stringify({
        email: "not-an-email",
        password: "password-123",
        name: "x".repeat(60 * 1024),
      });
      expect(body.length).toBeLessThan(64 * 1024);
      const response = await app.request("POST", "/api/v1/auth/register", {
        rawBody: body,
        headers: json,
      });
      // Validation (not the size limit) answers.
      expectError(response, 400, "VALIDATION_ERROR");
      expect(response.body.details.email).toEqual(expect.any(String));
    });

    test("a JSON route given another media type is 415 UNSUPPORTED_MEDIA_TYPE, never 500", async () => {
      const body = '{"email":"media@example.com","password":"password-123"}';
      const variants: Record<string, string>[] = [
        { "Content-Type": "text/plain" },
        { "Content-Type": "application/x-www-form-urlencoded" },
        {}, // a string body without a type is sent as text/plain
      ];
      for (const headers of variants) {
        const response = await app.request("POST", "/api/v1/auth/register", {
          rawBody: body,
          headers,
        });
        expectError(response, 415, "UNSUPPORTED_MEDIA_TYPE");
      }
      const ok = await app.request("POST", "/api/v1/auth/register", {
        rawBody: body,
        headers: { "Content-Type": "application/json; charset=utf-8" },
      });
      expect(ok.status).toBe(201);
    });
  });

  describe("unknown routes", () => {
    test("an unknown route is 404 NOT_FOUND in the error shape", async () => {
      for (const [method, path] of [
        ["GET", "/nope"],
        ["GET", "/api/v1/nope"],
        ["POST", "/api/v1/shows/1/nope"],
        ["DELETE", "/health"],
      ] as const) {
        const response = await app.request(method, path);
        expectError(response, 404, "NOT_FOUND");
      }
    });
  });

  describe("errors never leak internals", () => {
    test("a thrown error becomes 500 INTERNAL without SQL, secrets or a stack", async () => {
      const catalog = app.runtime.services.catalog;
      const original = catalog.getShow;
      catalog.getShow = async () => {
        throw new Error(`select secret from pg_shadow -- ${app.config.JWT_SECRET}`);
      };
      try {
        const response = await app.request("GET", "/api/v1/shows/1", {
          headers: { "X-Request-Id": "boom-1" },
        });
        expectError(response, 500, "INTERNAL");
        expect(response.body.details).toBeUndefined();
        expect(response.headers.get("X-Request-Id")).toBe("boom-1");
        const text = response.text.toLowerCase();
        expect(text).not.toContain("select");
        expect(text).not.toContain("pg_shadow");
        expect(text).not.toContain(app.config.JWT_SECRET.toLowerCase());
        expect(text).not.toMatch(/\bat .*[:(]/);
        expect(text).not.toContain(".ts");
        expect(text).not.toContain("error:");
      } finally {
        catalog.getShow = original;
      }
      // The route works again once the fault is gone.
      expectError(await app.request("GET", "/api/v1/shows/1"), 404, "NOT_FOUND");
    });

    test("a non-Error throw is 500 INTERNAL too", async () => {
      const catalog = app.runtime.services.catalog;
      const original = catalog.getShow;
      catalog.getShow = async () => {
        throw { sql: "select * from users", password: "hunter2" };
      };
      try {
        const response = await app.request("GET", "/api/v1/shows/1", {
          headers: { "X-Request-Id": "boom-2" },
        });
        expectError(response, 500, "INTERNAL");
        expect(response.headers.get("X-Request-Id")).toBe("boom-2");
        expect(response.text).not.toContain("hunter2");
        expect(response.text).not.toContain("select");
      } finally {
        catalog.getShow = original;
      }
    });
  });
});

describe("CORS", () => {
  let app: TestApp;
  const allowed = "https://tickets.example";
  beforeAll(async () => {
    app = await createTestApp("embedded", {
      CORS_ORIGINS: `${allowed}, https://admin.example`,
    });
  });
  afterAll(() => app.close());

  const preflight = (origin: string) =>
    app.request("OPTIONS", "/api/v1/auth/login", {
      headers: {
        Origin: origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,authorization",
      },
    });

  test("a preflight from an allowed origin gets Access-Control-Allow-Origin", async () => {
    for (const origin of [allowed, "https://admin.example"]) {
      const response = await preflight(origin);
      expect(response.status).toBe(204);
      expect(response.headers.get("Access-Control-Allow-Origin")).toBe(origin);
      expect(response.headers.get("Access-Control-Allow-Methods")).toContain("POST");
      const allowHeaders = response.headers.get("Access-Control-Allow-Headers")?.toLowerCase();
      expect(allowHeaders).toContain("authorization");
      expect(allowHeaders).toContain("idempotency-key");
    }
  });

  test("a preflight from another origin gets no Access-Control-Allow-Origin", async () => {
    for (const origin of ["https://evil.example", "https://tickets.example.evil.com", "null"]) {
      const response = await preflight(origin);
      expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
    }
  });

  test("simple requests: allowed origin gets the header and X-Request-Id is exposed", async () => {
    const response = await app.request("GET", "/health", { headers: { Origin: allowed } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(allowed);
    expect(response.headers.get("Access-Control-Expose-Headers")).toContain("X-Request-Id");
    const other = await app.request("GET", "/health", {
      headers: { Origin: "https://evil.example" },
    });
    expect(other.status).toBe(200);
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  test("the default configuration allows any origin", async () => {
    const open = await createTestApp("embedded");
    try {
      const response = await open.request("OPTIONS", "/api/v1/shows", {
        headers: { Origin: "https://anyone.example", "Access-Control-Request-Method": "GET" },
      });
      expect(response.status).toBe(204);
      expect(response.headers.get("Access-Control-Allow-Origin")).toBe("*");
    } finally {
      await open.close();
    }
  });
});

describe("createHealthCheck", () => {
  const refused = async (): Promise<never> => {
    throw new Error("connection refused");
  };

  test("a required probe that throws or outlives the deadline is down: UNAVAILABLE", async () => {
    const check = createHealthCheck(
      {
        required: { database: refused, slow: () => new Promise(() => {}) },
        optional: { redis: async () => "ok" },
      },
      50,
    );
    const started = performance.now();
    const report = await check();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(report).toEqual({
      status: "UNAVAILABLE",
      checks: { database: "down", slow: "down", redis: "ok" },
    });
  });

  test("an optional probe that fails is degraded: DEGRADED, not UNAVAILABLE", async () => {
    const check = createHealthCheck(
      {
        required: { database: async () => "ok" },
        optional: { redis: refused, hung: () => new Promise(() => {}) },
      },
      50,
    );
    expect(await check()).toEqual({
      status: "DEGRADED",
      checks: { database: "ok", redis: "degraded", hung: "degraded" },
    });
  });

  test("a schema behind makes it UNAVAILABLE, a schema ahead DEGRADED", async () => {
    const withSchema = (schema: "behind" | "ahead") =>
      createHealthCheck({ required: { database: async () => "ok", schema: async () => schema } });
    expect((await withSchema("behind")()).status).toBe("UNAVAILABLE");
    expect((await withSchema("ahead")()).status).toBe("DEGRADED");
  });

  test("ok and embedded probes are healthy", async () => {
    const check = createHealthCheck({
      required: { database: async () => "ok" },
      optional: { redis: async () => "embedded" },
    });
    expect(await check()).toEqual({
      status: "OK",
      checks: { database: "ok", redis: "embedded" },
    });
  });
});

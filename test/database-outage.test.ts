import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { isDatabaseUnavailable } from "../src/db/errors";
import { createTestApp, type TestApp } from "./support/harness";
import { hasPostgres } from "./support/services";

// A lost PostgreSQL connection is a real-server condition: PGlite lives in the process.
describe.skipIf(!hasPostgres)("when PostgreSQL is unreachable", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp("postgres");
    await app.runtime.shared.database.close();
  });
  afterAll(() => app.close());

  test("requests that need it answer 503 UNAVAILABLE with Retry-After, never 500", async () => {
    const response = await app.request("GET", "/api/v1/shows");
    expect(response.status).toBe(503);
    expect(response.body.code).toBe("UNAVAILABLE");
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(response.text).not.toContain("CONNECTION");
  });

  test("liveness stays up while readiness reports the database down", async () => {
    expect((await app.request("GET", "/health")).status).toBe(200);
    const ready = await app.request("GET", "/health/ready");
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database).toBe("down");
  });
});

describe("which database errors mean 'unavailable'", () => {
  const wrapped = (cause: Error & { code?: string }) =>
    new Error("Failed query: select 1", { cause });

  test("lost sockets and server-side interruptions are 503s, whatever their code looks like", () => {
    const epipe = Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
    expect(isDatabaseUnavailable(wrapped(epipe))).toBe(true);
    const terminated = Object.assign(new Error("terminating connection"), { code: "57P01" });
    expect(isDatabaseUnavailable(wrapped(terminated))).toBe(true);
    const lockTimeout = Object.assign(new Error("lock timeout"), { code: "55P03" });
    expect(isDatabaseUnavailable(wrapped(lockTimeout))).toBe(true);
  });

  test("errors about the request itself are not", () => {
    const duplicate = Object.assign(new Error("duplicate key"), { code: "23505" });
    expect(isDatabaseUnavailable(wrapped(duplicate))).toBe(false);
    expect(isDatabaseUnavailable(new Error("something else"))).toBe(false);
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "./support/harness";
import { backends } from "./support/services";

// A lost PostgreSQL connection is a real-server condition: PGlite lives in the process.
if (backends.includes("postgres")) {
  describe("when PostgreSQL is unreachable", () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp("postgres");
      await app.runtime.database.close();
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
}

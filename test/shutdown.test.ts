import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "./support/harness";
import { startApi } from "./support/processes";
import { hasPostgres } from "./support/services";

// A real API process on real PostgreSQL: SIGTERM is about processes and sockets.
describe.skipIf(!hasPostgres)("graceful shutdown of the API", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp("postgres");
  });
  afterAll(() => app.close());

  test("SIGTERM during in-flight requests lets them complete, then the process exits 0", async () => {
    const api = await startApi(app, { BCRYPT_COST: "10" });
    const base = api.baseUrl;
    try {
      const credentials = { email: "leaving@example.com", password: "leaving-password-1" };
      const registered = await fetch(`${base}/api/v1/auth/register`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(credentials),
      });
      expect(registered.status).toBe(201);

      // Cost-10 logins keep the server busy for a while; SIGTERM arrives in the middle.
      const inFlight = Array.from({ length: 8 }, () =>
        fetch(`${base}/api/v1/auth/login`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(credentials),
        }).then((response) => response.status),
      );
      await Bun.sleep(50);
      const exited = api.stop("SIGTERM");

      expect(await Promise.all(inFlight)).toEqual(Array(8).fill(200));
      expect(await exited).toBe(0);
      // And it no longer accepts connections.
      expect(
        await fetch(`${base}/health`).then(
          () => "answered",
          () => "refused",
        ),
      ).toBe("refused");
    } finally {
      api.process.kill("SIGKILL");
    }
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "./support/harness";

describe("password hashing off the main thread", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp("embedded", { BCRYPT_COST: "10" });
  });
  afterAll(() => app.close());

  test("requests are answered while a storm of cost-10 logins is being hashed", async () => {
    const email = "storm@example.com";
    const password = "storm-password-1";
    expect(
      (await app.request("POST", "/api/v1/auth/register", { body: { email, password } })).status,
    ).toBe(201);

    let loginsDone = 0;
    const storm = Array.from({ length: 12 }, () =>
      app.request("POST", "/api/v1/auth/login", { body: { email, password } }).then((response) => {
        loginsDone++;
        return response;
      }),
    );
    // Twelve cost-10 compares take the pool well over a second; the event loop stays free.
    const health = await app.request("GET", "/health");
    expect(health.status).toBe(200);
    expect(loginsDone).toBeLessThan(12);

    const results = await Promise.all(storm);
    expect(results.every((response) => response.status === 200)).toBe(true);
    expect(results[0]?.body.user.email).toBe(email);
  });

  test("hashes are standard bcrypt at the configured cost", async () => {
    const hash = await app.runtime.services.auth.hashPassword("some-password");
    expect(hash).toMatch(/^\$2[aby]\$10\$/);
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUsersDirect, holdSeats, type TestUser } from "./support/fixtures";
import { createTestApp, type TestApp } from "./support/harness";
import { describeEachBackend, hasPostgresAndRedis } from "./support/services";

const limited = {
  RATE_LIMIT_ENABLED: "1",
  RATE_LIMIT_PER_MINUTE: "3",
  BOOKING_RATE_LIMIT_PER_MINUTE: "2",
};

describeEachBackend("rate limits on %s", (backend) => {
  let app: TestApp;
  let users: TestUser[];

  beforeAll(async () => {
    app = await createTestApp(backend, limited);
    users = await createUsersDirect(app, 4);
  });
  afterAll(() => app.close());

  const me = (user: TestUser, target = app) =>
    target.request("GET", "/api/v1/auth/me", { token: user.token });

  test("the request over the limit gets 429 RATE_LIMITED with Retry-After and RateLimit-* headers", async () => {
    const [user] = users as [TestUser];
    const allowed = [await me(user), await me(user), await me(user)];
    for (const [index, response] of allowed.entries()) {
      expect(response.status).toBe(200);
      expect(response.headers.get("RateLimit-Limit")).toBe("3");
      expect(response.headers.get("RateLimit-Remaining")).toBe(String(2 - index));
    }
    const refused = await me(user);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe("RATE_LIMITED");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(Number(refused.headers.get("Retry-After"))).toBeLessThanOrEqual(60);
    expect(refused.headers.get("RateLimit-Remaining")).toBe("0");
    expect(Number(refused.headers.get("RateLimit-Reset"))).toBeGreaterThan(0);
  });

  test("limits are per user, and health checks are never limited", async () => {
    const [, second] = users as [TestUser, TestUser];
    expect((await me(second)).status).toBe(200);
    for (let i = 0; i < 6; i++) expect((await app.request("GET", "/health")).status).toBe(200);
  });

  test("booking routes have their own, lower limit", async () => {
    const [, , third] = users as [TestUser, TestUser, TestUser];
    const lock = () => holdSeats(app, third, 999, [1]);
    expect((await lock()).status).toBe(404);
    expect((await lock()).status).toBe(404);
    const refused = await lock();
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe("RATE_LIMITED");
    // Refused by the booking limiter (2), while the general budget (3) was not yet spent.
    expect(refused.headers.get("RateLimit-Limit")).toBe("2");
  });

  test("a forged token is counted by IP, not as the user it names", async () => {
    const forged =
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjEsInZlciI6MH0.c2lnbmF0dXJlLWZyb20tYW5vdGhlci1rZXk";
    const responses = [];
    for (let i = 0; i < 4; i++) {
      responses.push(await app.request("GET", "/api/v1/shows", { token: forged }));
    }
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 429]);
  });
});

describe.skipIf(!hasPostgresAndRedis)("rate limits across instances", () => {
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    first = await createTestApp("postgres", limited);
    second = await createTestApp("postgres", limited, { sameDataAs: first });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  test("two app instances share one count through Redis", async () => {
    const [user] = (await createUsersDirect(first, 1)) as [TestUser];
    const statuses = [];
    for (const target of [first, second, first, second]) {
      statuses.push((await target.request("GET", "/api/v1/auth/me", { token: user.token })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

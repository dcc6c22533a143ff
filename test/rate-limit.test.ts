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

describeEachBackend("the client IP behind trusted proxies on %s", (backend) => {
  /** TRUST_PROXY → its app; each with the general limit of 3 a minute. */
  const apps = new Map<string, TestApp>();
  beforeAll(async () => {
    for (const hops of ["0", "1", "2"]) {
      apps.set(hops, await createTestApp(backend, { ...limited, TRUST_PROXY: hops }));
    }
  });
  afterAll(async () => {
    for (const app of apps.values()) await app.close();
  });

  const behind = (hops: string) => apps.get(hops) as TestApp;
  const browse = (app: TestApp, forwardedFor: string) =>
    app.request("GET", "/api/v1/shows", { headers: { "X-Forwarded-For": forwardedFor } });

  test("a forged leftmost X-Forwarded-For entry does not escape the limit: 150 parallel wrong-password logins", async () => {
    // One proxy in front appends the address it saw (203.0.113.9); the rest is the client's.
    const responses = await Promise.all(
      Array.from({ length: 150 }, (_, index) =>
        behind("1").request("POST", "/api/v1/auth/login", {
          headers: { "X-Forwarded-For": `198.51.${index >> 8}.${index & 255}, 203.0.113.9` },
          body: { email: `guess${index}@example.com`, password: "wrong-password" },
        }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(147);
  });

  test("the address the trusted proxy added is the client: each has its own budget", async () => {
    const statuses = [];
    for (const client of ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]) {
      statuses.push((await browse(behind("1"), `10.0.0.1, ${client}`)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
  });

  test("with two trusted hops the entry second from the right is the client", async () => {
    const app = behind("2");
    // The outer proxy saw 192.0.2.50; the inner one appended the outer proxy's address.
    const sameClient = [];
    for (const forged of ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"]) {
      sameClient.push((await browse(app, `${forged}, 192.0.2.50, 10.0.0.2`)).status);
    }
    expect(sameClient).toEqual([200, 200, 200, 429]);
    // Fewer entries than hops: every entry came from a trusted proxy; the leftmost is used.
    expect((await browse(app, "192.0.2.60")).status).toBe(200);
  });

  test("with TRUST_PROXY off the header is ignored: forged entries share the connection's budget", async () => {
    const statuses = [];
    for (const forged of ["192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14"]) {
      statuses.push((await browse(behind("0"), forged)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
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

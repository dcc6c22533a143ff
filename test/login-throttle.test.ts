import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { PasswordHasher } from "../src/infra/password-hasher";
import { AppError } from "../src/lib/errors";
import { expectError } from "./support/answers";
import { createTestApp, type TestApp, type TestResponse } from "./support/harness";
import { describeEachBackend, redisUrl } from "./support/services";

const FAILURES = 3;
/**
 * The per-IP limit is lower than the guesses below, and every guess comes from an address of
 * its own: only the per-account throttle can refuse them.
 */
const throttled = {
  RATE_LIMIT_ENABLED: "1",
  RATE_LIMIT_PER_MINUTE: "5",
  TRUST_PROXY: "1",
  LOGIN_FAILURES_PER_EMAIL: String(FAILURES),
  LOGIN_FAILURE_WINDOW_SECONDS: "60",
};

let addresses = 0;
/** POST /auth/login from an IP address no other request of this file used. */
const loginFrom = (app: TestApp, email: string, password: string) =>
  app.request("POST", "/api/v1/auth/login", {
    body: { email, password },
    headers: {
      "X-Forwarded-For": `10.${addresses >> 16}.${(addresses >> 8) & 255}.${addresses++ & 255}`,
    },
  });

let emails = 0;
const unknownEmail = () => `nobody-${Date.now().toString(36)}-${emails++}@example.com`;

/** An account made through the service, so that the per-IP limit is not spent on it. */
async function account(app: TestApp) {
  const email = `throttled-${Date.now().toString(36)}-${emails++}@example.com`;
  const password = "the-right-password";
  await app.runtime.services.auth.register({ email, password });
  return { email, password };
}

function expectThrottled(response: TestResponse) {
  expectError(response, 429, "RATE_LIMITED");
  const retryAfter = Number(response.headers.get("Retry-After"));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(response.headers.get("RateLimit-Limit")).toBe(String(FAILURES));
  expect(response.headers.get("RateLimit-Remaining")).toBe("0");
  expect(response.headers.get("Cache-Control")).toBe("no-store");
}

describeEachBackend("per-account login throttle on %s", (backend) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(backend, throttled);
  });
  afterAll(() => app.close());

  test("a guess from many addresses at one account is refused after the allowed failures, even with the right password", async () => {
    const victim = await account(app);
    const statuses = [];
    for (let guess = 0; guess < FAILURES; guess++) {
      statuses.push((await loginFrom(app, victim.email, `guess-${guess}-password`)).status);
    }
    expect(statuses).toEqual(Array(FAILURES).fill(401));
    expectThrottled(await loginFrom(app, victim.email, "another-guess-password"));
    expectThrottled(await loginFrom(app, victim.email, victim.password));
    // Other accounts are not affected.
    const bystander = await account(app);
    expect((await loginFrom(app, bystander.email, bystander.password)).status).toBe(200);
  });

  test("the email is counted in any letter case", async () => {
    const victim = await account(app);
    for (const email of [victim.email, victim.email.toUpperCase(), ` ${victim.email} `]) {
      expectError(await loginFrom(app, email, "wrong-password"), 401, "INVALID_CREDENTIALS");
    }
    expectThrottled(await loginFrom(app, victim.email.toUpperCase(), victim.password));
  });

  test("unknown and known emails get the same answers", async () => {
    const victim = await account(app);
    const answers = async (email: string) => {
      const seen = [];
      for (let guess = 0; guess <= FAILURES; guess++) {
        const response = await loginFrom(app, email, "wrong-password");
        seen.push({ status: response.status, body: response.body });
      }
      return seen;
    };
    expect(await answers(unknownEmail())).toEqual(await answers(victim.email));
  });

  test("a successful login starts the count afresh", async () => {
    const user = await account(app);
    for (let guess = 1; guess < FAILURES; guess++) {
      expect((await loginFrom(app, user.email, "wrong-password")).status).toBe(401);
    }
    expect((await loginFrom(app, user.email, user.password)).status).toBe(200);
    const statuses = [];
    for (let guess = 0; guess <= FAILURES; guess++) {
      statuses.push((await loginFrom(app, user.email, "wrong-password")).status);
    }
    expect(statuses).toEqual([...Array(FAILURES).fill(401), 429]);
  });

  test("an attempt that failed for another reason than its password is not counted", async () => {
    const user = await account(app);
    const broken = spyOn(PasswordHasher.prototype, "verify").mockRejectedValue(
      new Error("hashing is down"),
    );
    try {
      for (let attempt = 0; attempt <= FAILURES; attempt++) {
        expectError(await loginFrom(app, user.email, user.password), 500, "INTERNAL");
      }
    } finally {
      broken.mockRestore();
    }
    expect((await loginFrom(app, user.email, user.password)).status).toBe(200);
  });

  test("a login refused because the password threads are busy is not counted", async () => {
    const user = await account(app);
    const busy = spyOn(PasswordHasher.prototype, "verify").mockRejectedValue(
      new AppError("UNAVAILABLE", { retryAfterSeconds: 2 }),
    );
    try {
      for (let attempt = 0; attempt <= FAILURES; attempt++) {
        const answer = await loginFrom(app, user.email, "wrong-password");
        expectError(answer, 503, "UNAVAILABLE");
        expect(answer.headers.get("Retry-After")).toBe("2");
      }
    } finally {
      busy.mockRestore();
    }
    expect((await loginFrom(app, user.email, user.password)).status).toBe(200);
  });

  test("parallel guesses at one account: exactly the allowed number is checked", async () => {
    const victim = await account(app);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, guess) => loginFrom(app, victim.email, `parallel-${guess}`)),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([...Array(FAILURES).fill(401), ...Array(20 - FAILURES).fill(429)]);
  });
});

describe.skipIf(!redisUrl)("per-account login throttle across instances", () => {
  let first: TestApp;
  let second: TestApp;
  beforeAll(async () => {
    first = await createTestApp("postgres", throttled);
    second = await createTestApp("postgres", throttled, { sameDataAs: first });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  test("failures on either instance count against the account, and a success on one resets both", async () => {
    const victim = await account(first);
    const instances = [first, second, first];
    for (const instance of instances.slice(0, FAILURES - 1)) {
      expect((await loginFrom(instance, victim.email, "wrong-password")).status).toBe(401);
    }
    expect((await loginFrom(second, victim.email, victim.password)).status).toBe(200);
    const statuses = [];
    for (let guess = 0; guess <= FAILURES; guess++) {
      const instance = guess % 2 === 0 ? first : second;
      statuses.push((await loginFrom(instance, victim.email, "wrong-password")).status);
    }
    expect(statuses).toEqual([...Array(FAILURES).fill(401), 429]);
  });
});

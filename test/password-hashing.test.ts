import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import bcrypt from "bcryptjs";
import { PasswordHasher } from "../src/infra/password-hasher";
import { expectError } from "./support/answers";
import { createTestApp, query, sql, type TestApp } from "./support/harness";

describe("password hashing off the main thread", () => {
  let app: TestApp;
  beforeAll(async () => {
    // Every login of the storm is hashed, however slow a loaded machine makes the compares.
    app = await createTestApp("embedded", { BCRYPT_COST: "10", PASSWORD_QUEUE_WAIT_MS: "60000" });
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

describe("the decoy hash unknown emails are compared against", () => {
  test("one that failed is started again by the next login, not kept failing", async () => {
    const app = await createTestApp("embedded", { BCRYPT_COST: "4" });
    const hash = spyOn(PasswordHasher.prototype, "hash").mockImplementationOnce(() =>
      Promise.reject(new Error("password worker failed")),
    );
    try {
      const unknown = { email: "nobody@example.com", password: "whatever-it-is" };
      // The first login's decoy hash fails (a crashed worker): that login fails with it...
      expect((await app.request("POST", "/api/v1/auth/login", { body: unknown })).status).toBe(500);
      // ...and the next unknown email gets the usual answer, as known emails do.
      const next = await app.request("POST", "/api/v1/auth/login", { body: unknown });
      expect({ status: next.status, code: next.body.code }).toEqual({
        status: 401,
        code: "INVALID_CREDENTIALS",
      });
    } finally {
      hash.mockRestore();
      await app.close();
    }
  });
});

describe("closing while a password hash runs", () => {
  test("a login's background decoy hash, cut short by the close, is no unhandled rejection", async () => {
    const app = await createTestApp("embedded", { BCRYPT_COST: "10", PASSWORD_WORKERS: "2" });
    const unheard: unknown[] = [];
    const listen = (reason: unknown) => unheard.push(reason);
    process.on("unhandledRejection", listen);
    try {
      // An account whose hash is cheap to check: the login answers within milliseconds while
      // the cost-10 decoy hash it started on the other worker is still running.
      const body = { email: "closing@example.com", password: "closing-password-1" };
      await query(
        app,
        sql`insert into users (email, password_hash)
            values (${body.email}, ${bcrypt.hashSync(body.password, 4)})`,
      );
      expect((await app.request("POST", "/api/v1/auth/login", { body })).status).toBe(200);
      await app.close();
      await Bun.sleep(50);
      expect(unheard.map(String)).toEqual([]);
    } finally {
      process.off("unhandledRejection", listen);
    }
  });
});

describe("the password pool's bound", () => {
  const email = "bound@example.com";
  const password = "bound-password-1";

  /** An app with one password thread and the given bound, one account, and its decoy hash done. */
  async function boundedApp(env: Record<string, string>): Promise<TestApp> {
    const app = await createTestApp("embedded", { PASSWORD_WORKERS: "1", ...env });
    await query(
      app,
      sql`insert into users (email, password_hash)
          values (${email}, ${bcrypt.hashSync(password, Number(env.BCRYPT_COST))})`,
    );
    // The first login also starts the decoy hash: let it finish before the storm.
    expect((await login(app)).status).toBe(200);
    return app;
  }

  const login = (app: TestApp) =>
    app.request("POST", "/api/v1/auth/login", { body: { email, password } });

  /** Every login at once; each answer with the order it came in. */
  async function storm(app: TestApp, logins: number) {
    let answered = 0;
    return Promise.all(
      Array.from({ length: logins }, () =>
        login(app).then((response) => ({ ...response, order: answered++ })),
      ),
    );
  }

  test("logins beyond the queue are answered 503 at once; the queued ones succeed", async () => {
    const app = await boundedApp({ BCRYPT_COST: "10", PASSWORD_QUEUE_LIMIT: "2" });
    try {
      const answers = await storm(app, 12);
      const refused = answers.filter((answer) => answer.status === 503);
      const succeeded = answers.filter((answer) => answer.status === 200);
      // One compare runs, two wait; the other nine are refused.
      expect({ refused: refused.length, succeeded: succeeded.length }).toEqual({
        refused: 9,
        succeeded: 3,
      });
      for (const answer of refused) {
        expectError(answer, 503, "UNAVAILABLE");
        expect(answer.headers.get("Retry-After")).toBe("2");
      }
      // Refused without waiting for a compare: every refusal came before the first success.
      expect(Math.max(...refused.map((answer) => answer.order))).toBeLessThan(
        Math.min(...succeeded.map((answer) => answer.order)),
      );
      expect(succeeded[0]?.body.user.email).toBe(email);
    } finally {
      await app.close();
    }
  });

  test("a login that waits longer than the bound is answered 503 then, not later", async () => {
    const waitMs = 300;
    const app = await boundedApp({
      BCRYPT_COST: "10",
      PASSWORD_QUEUE_LIMIT: "1000",
      PASSWORD_QUEUE_WAIT_MS: String(waitMs),
    });
    try {
      const startedAt = performance.now();
      // Thirty cost-10 compares on one thread take seconds; the wait bound cuts that short.
      const answers = await storm(app, 30);
      const elapsed = performance.now() - startedAt;
      const statuses = new Set(answers.map((answer) => answer.status));
      expect([...statuses].sort()).toEqual([200, 503]);
      for (const answer of answers.filter((answer) => answer.status === 503)) {
        expectError(answer, 503, "UNAVAILABLE");
        expect(answer.headers.get("Retry-After")).toBe("1");
      }
      // The wait bound, then at most the compares that started within it (cost-10 compares
      // take ~100 ms here; a few seconds of slack for a loaded machine).
      expect(elapsed).toBeLessThan(waitMs + 3000);
      // The account is not locked out by the refusals: the next login goes through.
      expect((await login(app)).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe("a password thread that cannot start", () => {
  test("fails the hashes it was given, one start each, and is not restarted by itself", async () => {
    const RealWorker = globalThis.Worker;
    let started = 0;
    /** A thread whose script fails to load: it reports an error soon after it is created. */
    class UnloadableWorker {
      onmessage: ((event: MessageEvent) => void) | null = null;
      onerror: ((event: ErrorEvent) => void) | null = null;
      constructor() {
        started++;
        setTimeout(() => this.onerror?.({ message: "cannot load" } as ErrorEvent), 1);
      }
      postMessage() {}
      terminate() {}
      unref() {}
    }
    globalThis.Worker = UnloadableWorker as unknown as typeof Worker;
    const hasher = new PasswordHasher({ cost: 4, size: 1, queueLimit: 4, maxWaitMs: 5000 });
    try {
      const results = await Promise.allSettled(["a", "b", "c"].map((word) => hasher.hash(word)));
      expect(results.map((result) => result.status)).toEqual(["rejected", "rejected", "rejected"]);
      await Bun.sleep(100);
      expect(started).toBe(3);
    } finally {
      hasher.close();
      globalThis.Worker = RealWorker;
    }
  });
});

describe("a login the password pool has no room for", () => {
  test("is refused before anything is read: the pool says so up front", async () => {
    const hasher = new PasswordHasher({ cost: 12, size: 1, queueLimit: 1, maxWaitMs: 5000 });
    try {
      expect(() => hasher.refuseWhenFull()).not.toThrow();
      const running = hasher.hash("first");
      const waiting = hasher.hash("second");
      expect(() => hasher.refuseWhenFull()).toThrow(
        expect.objectContaining({ code: "UNAVAILABLE" }),
      );
      await Promise.all([running, waiting]);
      expect(() => hasher.refuseWhenFull()).not.toThrow();
    } finally {
      hasher.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { PasswordHasher } from "../src/infra/password-hasher";
import { createTestApp, query, sql, type TestApp } from "./support/harness";
import { waitUntil } from "./support/processes";
import {
  policyOf,
  SCHED_OTHER,
  sharedThreadsAtIdle,
  type ThreadPolicy,
  threadPolicies,
  workersAllIdle,
} from "./support/thread-policies";

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

// Scheduling policies are a Linux notion; CI runs on Linux.
describe.if(process.platform === "linux")("password workers at idle priority", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp("embedded", {
      PASSWORD_WORKERS: "3",
      PASSWORD_WORKER_PRIORITY: "idle",
    });
  });
  afterAll(() => app.close());

  test("each worker thread runs under SCHED_IDLE, the threads the process shares do not", async () => {
    await waitUntil(
      async () => workersAllIdle(threadPolicies(), 3),
      () => `this process's threads: ${JSON.stringify(threadPolicies())}`,
    );
    expect(policyOf("/proc/thread-self/stat").policy).toBe(SCHED_OTHER);
    expect(sharedThreadsAtIdle(threadPolicies())).toEqual([]);
    // Hashing still works from the idle threads.
    const hash = await app.runtime.services.auth.hashPassword("idle-password");
    expect(hash).toMatch(/^\$2[aby]\$04\$/);
  });

  test("the GC's shared helper threads stay at normal priority in a fresh process", async () => {
    // Run where no collection has happened yet, so the helpers are made after the workers.
    const script = `
      import { PasswordHasher } from ${JSON.stringify(`${import.meta.dir}/../src/infra/password-hasher.ts`)};
      import { threadPolicies } from ${JSON.stringify(`${import.meta.dir}/support/thread-policies.ts`)};
      const hasher = new PasswordHasher({ cost: 4, size: 2, priority: "idle" });
      await Promise.all(Array.from({ length: 200 }, (_, i) => hasher.hash("pw" + i)));
      Bun.gc(true);
      console.log(JSON.stringify(threadPolicies()));
      process.exit(0);`;
    const file = join(tmpdir(), `evently-idle-threads-${process.pid}.ts`);
    await Bun.write(file, script);
    const child = Bun.spawn([process.execPath, file], { stdout: "pipe", stderr: "inherit" });
    const threads: ThreadPolicy[] = JSON.parse(await new Response(child.stdout).text());
    expect(await child.exited).toBe(0);
    rmSync(file);
    expect(workersAllIdle(threads, 2)).toBe(true);
    expect(threads.some((thread) => thread.name === "HeapHelper")).toBe(true);
    expect(sharedThreadsAtIdle(threads)).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { createTestApp, type TestApp } from "./support/harness";
import { waitUntil } from "./support/processes";

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

/** Nice values of this process's threads (field 19 of /proc/self/task/<tid>/stat). */
function threadNiceValues(): number[] {
  return readdirSync("/proc/self/task").map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    // The command name may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[16]);
  });
}

// Thread priorities are a Linux notion (/proc/thread-self); CI runs on Linux.
describe.if(process.platform === "linux")("password workers at background priority", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp("embedded", { PASSWORD_WORKERS: "3", PASSWORD_WORKER_NICE: "7" });
  });
  afterAll(() => app.close());

  test("each worker thread, and only they, run with PASSWORD_WORKER_NICE", async () => {
    await waitUntil(
      async () => threadNiceValues().filter((nice) => nice === 7).length === 3,
      () => `nice values of this process's threads: ${threadNiceValues().join(", ")}`,
    );
    const mainThread = readFileSync("/proc/thread-self/stat", "utf8");
    expect(Number(mainThread.slice(mainThread.lastIndexOf(")") + 2).split(" ")[16])).toBe(0);
    // Hashing still works from the niced threads.
    const hash = await app.runtime.services.auth.hashPassword("niced-password");
    expect(hash).toMatch(/^\$2[aby]\$04\$/);
  });
});

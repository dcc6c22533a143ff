import { describe, expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");

/** Suites that need real services, by file: without them each must be listed as skipped. */
const SERVICE_SUITES: Record<string, string[]> = {
  "test/database-client.test.ts": ["PostgreSQL pool sessions"],
  "test/database-outage.test.ts": ["when PostgreSQL is unreachable"],
  "test/shutdown.test.ts": ["graceful shutdown of the API"],
  "test/fault-injection.test.ts": ["fault injection"],
  "test/load-balancer.test.ts": ["behind HAProxy"],
};

describe("a run without PostgreSQL and Redis", () => {
  test("lists the suites that need them as skipped instead of leaving them out", async () => {
    const run = Bun.spawn(["bun", "test", ...Object.keys(SERVICE_SUITES)], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: "", REDIS_URL: "", REQUIRE_SERVICES: "" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr] = await Promise.all([
      new Response(run.stdout).text(),
      new Response(run.stderr).text(),
    ]);
    const report = `${stdout}${stderr}`;
    expect(await run.exited).toBe(0);
    for (const suite of Object.values(SERVICE_SUITES).flat()) {
      expect(report).toContain(`(skip) ${suite} > `);
    }
    expect(report).toMatch(/\n\s*0 fail\n/);
  });
});

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dataDir = mkdtempSync(join(tmpdir(), "evently-create-admin-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `bun run admin:create` with these arguments, on an embedded database of its own. */
function createAdmin(...args: string[]) {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    DATA_DIR: dataDir,
    JWT_SECRET: "create-admin-test-secret-of-32-characters",
    LOG_LEVEL: "error",
  };
  const run = Bun.spawnSync([process.execPath, "run", "scripts/create-admin.ts", ...args], { env });
  return { code: run.exitCode, out: run.stdout.toString(), err: run.stderr.toString() };
}

describe("bun run admin:create", () => {
  test("--help prints the usage and says an existing account's password is replaced", () => {
    const help = createAdmin("--help");
    expect(help.code).toBe(0);
    expect(help.out).toContain("usage: bun run admin:create");
    expect(help.out).toContain("password is replaced");
  });

  test("bad arguments exit 1 saying what is wrong (registration's rules), with the usage", () => {
    const account = ["--email", "a@example.com", "--password", "long enough pw"];
    for (const [args, reason] of [
      [["--bogus"], "Unknown option '--bogus'"],
      [["--password", "long enough pw"], "--email:"],
      [["--email", "a@example.com"], "--password:"],
      [["--email", "a@example.com", "--password", "short"], "--password: Too small"],
      [["--email", "not-an-email", "--password", "long enough pw"], "--email: Invalid email"],
      [[...account, "--name", "x".repeat(101)], "--name: Too big"],
      [
        ["--email", "a@example.com", "--password", " \t".repeat(6)],
        "--password: Must not be whitespace only",
      ],
    ] as const) {
      const run = createAdmin(...args);
      expect({ args, code: run.code }).toEqual({ args, code: 1 });
      expect(run.err).toContain(reason);
      expect(run.err).toContain("usage:");
    }
  });

  test("creates the admin on the configured database", () => {
    const run = createAdmin("--email", "Ops@Example.com", "--password", "a long admin password");
    expect(run.err).toBe("");
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^Admin ready: ops@example\.com \(user_id \d+\)$/m);
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import postgres from "postgres";
import { StartupError } from "../src/boot";
import { openShared } from "../src/compose/shared";
import { loadConfig } from "../src/config";
import { openDatabase } from "../src/db/client";
import { runMigrations } from "../src/db/migrate";
import { createScratchDatabase, TEST_JWT_SECRET } from "./support/harness";
import { type Ended, freePort, runUntilExit, waitUntil } from "./support/processes";
import { databaseUrl } from "./support/services";

/** Longer than runUntilExit's deadline: a busy machine starts bun slowly. */
const SPAWN_TEST_MS = 90_000;

const PROCESSES = [
  ["API", "src/index.ts"],
  ["worker", "src/worker.ts"],
] as const;

/** A production start's environment: nothing from the test runner's own variables leaks in. */
const productionEnv = (env: Record<string, string>) => ({
  JWT_SECRET: TEST_JWT_SECRET,
  PORT: "0",
  LOG_LEVEL: "info",
  BCRYPT_COST: "4",
  ...env,
});

/** The one line a failed start prints, parsed; fails the test on anything else. */
function theOneLine(ended: Ended): Record<string, unknown> {
  expect({ exitCode: ended.exitCode, lines: ended.lines.length }).toEqual({
    exitCode: 1,
    lines: 1,
  });
  const output = ended.lines.join("\n");
  expect(output).not.toMatch(/^\s+at /m);
  const line = JSON.parse(ended.lines[0] as string);
  expect(line.level).toBe("error");
  return line;
}

describe("a bad configuration", () => {
  test.each(PROCESSES)(
    "stops the %s with one JSON line listing every problem",
    async (_, script) => {
      const ended = await runUntilExit(script, {
        DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
        PORT: "not-a-port",
      });
      const line = theOneLine(ended);
      expect(line.cause).toBe("invalid_config");
      const problems = (line.problems as string[]).join("\n");
      expect(problems).toContain("PORT");
      expect(problems).toContain("JWT_SECRET");
    },
    SPAWN_TEST_MS,
  );
});

describe.skipIf(!databaseUrl)("a database the code cannot serve from stops the start", () => {
  const scratches: Array<() => Promise<void>> = [];
  const urls: Record<string, string> = {};

  /** A scratch database, migrated and then changed by `alter` (raw SQL). */
  async function database(migrate: boolean, alter?: string): Promise<string> {
    const scratch = await createScratchDatabase();
    scratches.push(scratch.drop);
    if (migrate) {
      const handle = await openDatabase({ url: scratch.url, poolMax: 1 });
      await runMigrations(handle);
      await handle.close();
    }
    if (alter) {
      const client = postgres(scratch.url, { max: 1, onnotice: () => {} });
      await client.unsafe(alter);
      await client.end();
    }
    return scratch.url;
  }

  beforeAll(async () => {
    const base = new URL(databaseUrl as string);
    base.port = String(freePort());
    urls.unreachable = base.toString();
    const missing = new URL(databaseUrl as string);
    missing.pathname = `/evently_missing_${process.pid}`;
    urls.missing = missing.toString();
    urls.empty = await database(false);
    urls.behind = await database(
      true,
      "delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations)",
    );
    urls.ahead = await database(
      true,
      "insert into drizzle.__drizzle_migrations (hash, created_at) select 'from-a-newer-release', max(created_at) + 1 from drizzle.__drizzle_migrations",
    );
    urls.current = await database(true);
  });
  afterAll(async () => {
    for (const drop of scratches) await drop();
  });

  const cases = [
    ["unreachable", "database_unreachable", /unreachable \(ECONNREFUSED\)/],
    ["missing", "no_such_database", /has no database "evently_missing_\d+"/],
    ["empty", "schema_behind", /behind the migrations in drizzle\/ \(0 of \d+ applied\)/],
    ["behind", "schema_behind", /behind the migrations in drizzle\/ \((\d+) of \d+ applied\)/],
    ["ahead", "schema_ahead", /ahead of the migrations in drizzle\/ \(1 applied migration/],
  ] as const;

  for (const [name, script] of PROCESSES) {
    test.each(cases)(
      `${name}: %s database → exit 1, one line: %s`,
      async (which, cause, says) => {
        const ended = await runUntilExit(
          script,
          productionEnv({ DATABASE_URL: urls[which] as string }),
        );
        const line = theOneLine(ended);
        expect(line.cause).toBe(cause);
        expect(line.msg).toMatch(says);
      },
      SPAWN_TEST_MS,
    );

    test(
      `${name}: an unreachable Redis at start → exit 1, one line`,
      async () => {
        const ended = await runUntilExit(
          script,
          productionEnv({
            DATABASE_URL: urls.current as string,
            REDIS_URL: `redis://127.0.0.1:${freePort()}`,
          }),
        );
        const line = theOneLine(ended);
        expect(line.cause).toBe("redis_unreachable");
        expect(line.msg).toMatch(/Redis at 127\.0\.0\.1:\d+ is unreachable \(.*ECONNREFUSED/);
      },
      SPAWN_TEST_MS,
    );

    test(
      `${name}: DB_PGBOUNCER=1 and the role's timeouts differ → exit 1, one line: pgbouncer_settings`,
      async () => {
        // Plain PostgreSQL reports its settings as PgBouncer's server connections would: none set.
        const ended = await runUntilExit(
          script,
          productionEnv({ DATABASE_URL: urls.current as string, DB_PGBOUNCER: "1" }),
        );
        const line = theOneLine(ended);
        expect(line.cause).toBe("pgbouncer_settings");
        expect(line.msg).toMatch(/PostgreSQL reports statement_timeout = 0 ms/);
        expect(line.msg).toMatch(/ALTER ROLE \S+ SET lock_timeout = \d+;/);
      },
      SPAWN_TEST_MS,
    );

    test(
      `${name}: an unreachable Redis Cluster at start → exit 1, one line naming its nodes`,
      async () => {
        const nodes = [freePort(), freePort()].map((port) => `127.0.0.1:${port}`);
        const ended = await runUntilExit(
          script,
          productionEnv({
            DATABASE_URL: urls.current as string,
            REDIS_CLUSTER_NODES: nodes.join(","),
          }),
        );
        const line = theOneLine(ended);
        expect(line.cause).toBe("redis_unreachable");
        expect(line.msg).toContain(`Redis Cluster at ${nodes.join(",")} is unreachable`);
      },
      SPAWN_TEST_MS,
    );
  }

  test(
    "a start refused for Redis or for the schema leaves no connection to the database open",
    async () => {
      const connectionsTo = async (url: string) => {
        const client = postgres(databaseUrl as string, { max: 1, onnotice: () => {} });
        const [row] = await client`select count(*)::int as open from pg_stat_activity
        where datname = ${new URL(url).pathname.slice(1)}`;
        await client.end();
        return row?.open as number;
      };
      const refusals: Record<string, string>[] = [
        { DATABASE_URL: urls.current as string, REDIS_URL: `redis://127.0.0.1:${freePort()}` },
        { DATABASE_URL: urls.behind as string },
      ];
      for (const env of refusals) {
        const config = loadConfig(productionEnv({ ...env, LOG_LEVEL: "silent" }));
        await expect(openShared(config)).rejects.toBeInstanceOf(StartupError);
        // A backend leaves pg_stat_activity shortly after its client says goodbye.
        const url = env.DATABASE_URL as string;
        await waitUntil(
          async () => (await connectionsTo(url)) === 0,
          () => `connections to ${new URL(url).pathname} still open after the refused start`,
          3000,
        );
      }
    },
    SPAWN_TEST_MS,
  );

  test(
    "the database's password never reaches the line",
    async () => {
      const withPassword = new URL(urls.unreachable as string);
      withPassword.password = "hunter2-secret";
      const ended = await runUntilExit(
        "src/index.ts",
        productionEnv({ DATABASE_URL: withPassword.toString() }),
      );
      expect(theOneLine(ended).cause).toBe("database_unreachable");
      expect(ended.lines.join("\n")).not.toContain("hunter2-secret");
    },
    SPAWN_TEST_MS,
  );
});

describe("HOST", () => {
  // PGlite migrating a fresh database takes long on a busy machine.
  const EMBEDDED_START_MS = 90_000;
  const otherAddress = Object.values(networkInterfaces())
    .flat()
    .find((address) => address && address.family === "IPv4" && !address.internal)?.address;

  test.skipIf(!otherAddress)(
    "embedded mode listens on 127.0.0.1 only, and says so at start",
    async () => {
      const port = freePort();
      const child = Bun.spawn(["bun", "run", "src/index.ts"], {
        env: {
          PATH: process.env.PATH,
          PORT: String(port),
          DATA_DIR: "memory://",
          SEED_DEMO_DATA: "0",
          JWT_SECRET: TEST_JWT_SECRET,
        },
        stdout: "pipe",
        stderr: "ignore",
      });
      try {
        await waitUntil(
          async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok,
          () => "the embedded API did not start",
          EMBEDDED_START_MS,
        );
        const refused = await fetch(`http://${otherAddress}:${port}/health`).then(
          () => "answered",
          (error: Error) => error.message,
        );
        expect(refused).not.toBe("answered");
      } finally {
        child.kill("SIGTERM");
        await child.exited;
      }
      const printed = await new Response(child.stdout).text();
      const listening = printed
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line))
        .find((line) => line.msg === "Evently API listening");
      expect(listening.listen).toBe(`127.0.0.1:${port}`);
      expect(printed).toContain(`Listen   127.0.0.1:${port}`);
    },
    EMBEDDED_START_MS * 2,
  );
});

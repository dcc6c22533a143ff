import { afterAll, describe, expect, test } from "bun:test";
import {
  createDatabase,
  dropDatabase,
  setDatabaseTimeouts,
  databaseUrl as urlOf,
} from "../scripts/bench/databases";
import { describeOptions, readOptions } from "../scripts/bench/options";
import { openDatabase } from "../src/db/client";
import { checkPooledSessionSettings, SessionSettingsError } from "../src/db/pooled-session";
import { databaseUrl, pgbouncerUrl, requireUrl, serviceAbsent } from "./support/services";

describe("bench knobs for the scaled-out deployment", () => {
  test("unset, the bench runs on one Redis and PostgreSQL directly, as before", () => {
    const options = readOptions({});
    expect(options.redisClusterNodes).toBeUndefined();
    expect(options.pgbouncerUrl).toBeUndefined();
    expect(describeOptions(options).BENCH_REDIS_URL).toBe("redis://127.0.0.1:6379");
  });

  test("cluster nodes and PgBouncer are read as given", () => {
    const options = readOptions({
      BENCH_REDIS_CLUSTER_NODES: "127.0.0.1:7001, localhost:7002",
      BENCH_PGBOUNCER_URL: "postgres://postgres@127.0.0.1:6432/postgres",
    });
    expect(options.redisClusterNodes).toEqual(["127.0.0.1:7001", "localhost:7002"]);
    expect(options.pgbouncerUrl).toBe("postgres://postgres@127.0.0.1:6432/postgres");
  });

  test("both stay on this machine, and a node must be host:port", () => {
    expect(() => readOptions({ BENCH_REDIS_CLUSTER_NODES: "10.0.0.5:7001" })).toThrow(
      "must point at 127.0.0.1",
    );
    expect(() => readOptions({ BENCH_REDIS_CLUSTER_NODES: "127.0.0.1" })).toThrow("not host:port");
    expect(() =>
      readOptions({ BENCH_PGBOUNCER_URL: "postgres://postgres@db.example.com:6432/postgres" }),
    ).toThrow("must point at 127.0.0.1");
  });
});

describe.skipIf(serviceAbsent(databaseUrl) || serviceAbsent(pgbouncerUrl))(
  "the bench's database behind PgBouncer",
  () => {
    const wanted = { statementTimeoutMs: 10_000, lockTimeoutMs: 5_000 };
    const bare = `evently_bench_bare_${process.pid}`;
    const tuned = `evently_bench_tuned_${process.pid}`;
    afterAll(async () => {
      const serverUrl = requireUrl(databaseUrl, "DATABASE_URL");
      await dropDatabase(serverUrl, bare);
      await dropDatabase(serverUrl, tuned);
    });

    /** The API's start-up check with DB_PGBOUNCER=1, on database `name` through PgBouncer. */
    async function startUpCheck(name: string) {
      const pooled = await openDatabase({
        url: urlOf(requireUrl(pgbouncerUrl, "PGBOUNCER_URL"), name),
        behindPgBouncer: true,
        poolMax: 1,
      });
      try {
        await checkPooledSessionSettings(pooled, wanted);
      } finally {
        await pooled.close();
      }
    }

    test("the start-up check accepts timeouts set on the database, and only then", async () => {
      const serverUrl = requireUrl(databaseUrl, "DATABASE_URL");
      await createDatabase(serverUrl, bare);
      await createDatabase(serverUrl, tuned);
      await setDatabaseTimeouts(serverUrl, tuned, wanted);

      await expect(startUpCheck(bare)).rejects.toBeInstanceOf(SessionSettingsError);
      expect(await startUpCheck(tuned)).toBeUndefined();
    });
  },
);

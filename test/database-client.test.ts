import { describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { pgTable, text } from "drizzle-orm/pg-core";
import {
  type DatabaseOptions,
  execRows,
  openDatabase,
  type Queryable,
  Statement,
} from "../src/db/client";
import { databaseUrl, hasPostgres } from "./support/services";

interface SessionSettings {
  plan_cache_mode: string;
  statement_timeout: string;
  lock_timeout: string;
}

/** What a pooled session opened with `options` runs under. */
async function sessionSettings(options: Omit<DatabaseOptions, "url">): Promise<SessionSettings> {
  const handle = await openDatabase({ url: databaseUrl, poolMax: 1, ...options });
  try {
    const [row] = await execRows<SessionSettings>(
      handle.db,
      sql`select current_setting('plan_cache_mode') as plan_cache_mode,
            current_setting('statement_timeout') as statement_timeout,
            current_setting('lock_timeout') as lock_timeout`,
    );
    return row as SessionSettings;
  } finally {
    await handle.close();
  }
}

describe.skipIf(!hasPostgres)("PostgreSQL pool sessions", () => {
  test("prepared statements are planned once (generic plans) unless configured otherwise", async () => {
    expect((await sessionSettings({})).plan_cache_mode).toBe("force_generic_plan");
    expect((await sessionSettings({ planCacheMode: "auto" })).plan_cache_mode).toBe("auto");
  });

  test("statement and lock timeouts are set on every session", async () => {
    expect(await sessionSettings({ statementTimeoutMs: 1234, lockTimeoutMs: 567 })).toEqual({
      plan_cache_mode: "force_generic_plan",
      statement_timeout: "1234ms",
      lock_timeout: "567ms",
    });
  });

  test("a slow statement holds up only its own request: waiting ones go to the next free connection", async () => {
    const handle = await openDatabase({ url: databaseUrl, poolMax: 2 });
    try {
      // Both connections open and idle first, so neither is still connecting below.
      await Promise.all([1, 2].map(() => execRows(handle.db, sql`select 1`)));
      const finished: string[] = [];
      const run = (name: string, statement: ReturnType<typeof sql>) =>
        execRows(handle.db, statement).then(() => finished.push(name));
      await Promise.all([
        run("slow", sql`select pg_sleep(0.5)`),
        ...[1, 2, 3, 4].map((n) => run(`quick ${n}`, sql`select ${n}::int`)),
      ]);
      // Queued behind the slow one on its connection (pipelined), a quick one would end last.
      expect(finished.at(-1)).toBe("slow");
    } finally {
      await handle.close();
    }
  });

  test("pooled connections stay open while idle unless DB_IDLE_TIMEOUT_SECONDS says otherwise", async () => {
    const observer = await openDatabase({ url: databaseUrl, poolMax: 1 });
    const kept = await openDatabase({ url: databaseUrl, poolMax: 1 });
    const closing = await openDatabase({ url: databaseUrl, poolMax: 1, idleTimeoutSeconds: 1 });
    const backendOf = async (handle: typeof kept) =>
      (await execRows<{ pid: number }>(handle.db, sql`select pg_backend_pid() as pid`))[0]?.pid;
    const isOpen = async (pid: number | undefined) =>
      (
        await execRows<{ open: boolean }>(
          observer.db,
          sql`select exists (select 1 from pg_stat_activity where pid = ${pid}) as open`,
        )
      )[0]?.open;
    try {
      const [keptPid, closingPid] = await Promise.all([backendOf(kept), backendOf(closing)]);
      expect(await isOpen(keptPid)).toBe(true);
      expect(await isOpen(closingPid)).toBe(true);
      await Bun.sleep(2_500);
      expect(await isOpen(keptPid)).toBe(true);
      expect(await isOpen(closingPid)).toBe(false);
    } finally {
      await Promise.all([observer.close(), kept.close(), closing.close()]);
    }
  });
});

/** A catalogue every database has, for a query-builder statement. */
const namespaces = pgTable("pg_namespace", { name: text("nspname") });

describe.skipIf(!hasPostgres)(
  "raw statements run prepared, on the transaction's connection",
  () => {
    /** The statements prepared (by the protocol, not SQL PREPARE) on this transaction's session. */
    const preparedOn = (tx: Queryable, marker: string) =>
      execRows<{ statement: string }>(
        tx,
        sql`select statement from pg_prepared_statements
          where not from_sql and strpos(statement, ${marker}) > 0`,
      );

    /** The labels (`/* marker label *\/`) of the statements prepared with `marker`, sorted. */
    const labelsPreparedOn = async (tx: Queryable, marker: string) =>
      (await preparedOn(tx, marker))
        .map((row) => row.statement.replace(/^.*\/\* \w+ (\w+) \*\/.*$/s, "$1"))
        .sort();

    /** A Statement whose text carries `/* marker label *\/`. */
    const markedStatement = (marker: string, label: string) =>
      new Statement<{ n: number }, { n: number }>(
        ({ n }) => sql`select ${n}::int as n ${sql.raw(`/* ${marker} ${label} */`)}`,
      );

    /** Inside one transaction: a Statement, an execRows and a query-builder select, each marked. */
    async function preparedStatements(options: Omit<DatabaseOptions, "url">): Promise<string[]> {
      const marker = `m${crypto.randomUUID().replaceAll("-", "")}`;
      const statement = markedStatement(marker, "statement");
      const handle = await openDatabase({ url: databaseUrl, poolMax: 2, ...options });
      try {
        return await handle.db.transaction(async (tx) => {
          expect(await statement.rows(tx, { n: 7 })).toEqual([{ n: 7 }]);
          await execRows(tx, sql`select ${1}::int as one ${sql.raw(`/* ${marker} execRows */`)}`);
          await tx
            .select({ name: namespaces.name })
            .from(namespaces)
            .where(eq(namespaces.name, sql.raw(`'/* ${marker} builder */'`)));
          return labelsPreparedOn(tx, marker);
        });
      } finally {
        await handle.close();
      }
    }

    test("Statement and execRows are prepared on the transaction's connection, the query builder is not", async () => {
      expect(await preparedStatements({})).toEqual(["execRows", "statement"]);
    });

    test("outside any transaction and inside a nested one (a savepoint) they are prepared too", async () => {
      const marker = `m${crypto.randomUUID().replaceAll("-", "")}`;
      // One connection: the plain run and the transaction share its session.
      const handle = await openDatabase({ url: databaseUrl, poolMax: 1 });
      try {
        expect(await markedStatement(marker, "plain").rows(handle.db, { n: 1 })).toEqual([
          { n: 1 },
        ]);
        const labels = await handle.db.transaction(async (tx) => {
          await tx.transaction(async (savepoint) => {
            expect(await markedStatement(marker, "nested").rows(savepoint, { n: 2 })).toEqual([
              { n: 2 },
            ]);
          });
          return labelsPreparedOn(tx, marker);
        });
        expect(labels).toEqual(["nested", "plain"]);
      } finally {
        await handle.close();
      }
    });

    test("DB_PREPARE=false and DB_PGBOUNCER prepare nothing", async () => {
      expect(await preparedStatements({ prepare: false })).toEqual([]);
      expect(await preparedStatements({ behindPgBouncer: true })).toEqual([]);
    });
  },
);

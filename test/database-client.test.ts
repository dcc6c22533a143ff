import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { type DatabaseOptions, execRows, openDatabase } from "../src/db/client";
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

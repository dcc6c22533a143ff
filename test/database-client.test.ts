import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { type DatabaseOptions, execRows, openDatabase } from "../src/db/client";
import { databaseUrl } from "./support/services";

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

const describeOnPostgres = databaseUrl ? describe : () => {};

describeOnPostgres("PostgreSQL pool sessions", () => {
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
});

import { sql } from "drizzle-orm";
import { type DatabaseHandle, execRows } from "./client";

/** Connections to this database by state (every instance's), plus this pool's maximum. */
export async function databaseConnections(
  database: DatabaseHandle,
  poolMax: number,
): Promise<Record<string, number>> {
  if (database.driver === "pglite") return { max: 1 };
  const rows = await execRows<{ state: string; count: number }>(
    database.db,
    sql`select coalesce(state, 'unknown') as state, count(*)::int as count
        from pg_stat_activity where datname = current_database() group by 1`,
  );
  return { ...Object.fromEntries(rows.map((row) => [row.state, row.count])), max: poolMax };
}

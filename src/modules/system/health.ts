import { sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { readSchemaVersion } from "../../db/migrate";

/**
 * `down` and `behind` (schema missing migrations) leave this instance unable to serve;
 * `degraded` (a shared dependency it runs without) and `ahead` (a newer release migrated the
 * database, as during a rolling deploy) leave it serving.
 */
export type CheckResult = "ok" | "embedded" | "degraded" | "down" | "behind" | "ahead";

export interface HealthReport {
  status: "OK" | "DEGRADED" | "UNAVAILABLE";
  checks: Record<string, CheckResult>;
}

export type HealthCheck = () => Promise<HealthReport>;

type Probe = () => Promise<CheckResult>;

export interface Probes {
  /** What this instance cannot serve without: a probe that fails is `down`. */
  required: Record<string, Probe>;
  /** What it serves without, worse: a probe that fails is `degraded`. */
  optional?: Record<string, Probe>;
}

const UNAVAILABLE: CheckResult[] = ["down", "behind"];
const DEGRADED: CheckResult[] = ["degraded", "ahead"];

/** Runs every probe with a deadline; one that throws or times out counts as failed. */
export function createHealthCheck(probes: Probes, timeoutMs = 2000): HealthCheck {
  const run = (probe: Probe, failed: CheckResult) =>
    Promise.race([probe().catch(() => failed), Bun.sleep(timeoutMs).then(() => failed)]);
  const entries = [
    ...Object.entries(probes.required).map(([name, probe]) => [name, probe, "down"] as const),
    ...Object.entries(probes.optional ?? {}).map(
      ([name, probe]) => [name, probe, "degraded"] as const,
    ),
  ];
  return async () => {
    const results = await Promise.all(
      entries.map(async ([name, probe, failed]) => [name, await run(probe, failed)] as const),
    );
    const checks = Object.fromEntries(results);
    const found = (bad: CheckResult[]) => results.some(([, result]) => bad.includes(result));
    const status = found(UNAVAILABLE) ? "UNAVAILABLE" : found(DEGRADED) ? "DEGRADED" : "OK";
    return { status, checks };
  };
}

export const databaseProbe =
  (db: Database): Probe =>
  async () => {
    await db.execute(sql`select 1`);
    return "ok";
  };

/** Whether the database has exactly the migrations in `drizzle/`. */
export const schemaProbe =
  (db: Database): Probe =>
  async () => {
    const { state } = await readSchemaVersion(db);
    return state === "current" ? "ok" : state;
  };

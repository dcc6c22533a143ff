import { sql } from "drizzle-orm";
import type { Database } from "../db/client";

export type CheckResult = "ok" | "down" | "embedded";

export interface HealthReport {
  status: "OK" | "DEGRADED";
  checks: Record<string, CheckResult>;
}

export type HealthCheck = () => Promise<HealthReport>;

type Probe = () => Promise<CheckResult>;

/** Runs every probe with a deadline; one that throws or times out is "down". */
export function createHealthCheck(probes: Record<string, Probe>, timeoutMs = 2000): HealthCheck {
  return async () => {
    const entries = await Promise.all(
      Object.entries(probes).map(async ([name, probe]) => {
        const result = await Promise.race([
          probe().catch((): CheckResult => "down"),
          Bun.sleep(timeoutMs).then((): CheckResult => "down"),
        ]);
        return [name, result] as const;
      }),
    );
    const checks = Object.fromEntries(entries);
    const healthy = entries.every(([, result]) => result !== "down");
    return { status: healthy ? "OK" : "DEGRADED", checks };
  };
}

export const databaseProbe =
  (db: Database): Probe =>
  async () => {
    await db.execute(sql`select 1`);
    return "ok";
  };

import type { Cleanup } from "../cleanup";
import type { HttpClient } from "../http";
import { scaleDuration } from "../options";
import type { OversellCheck } from "../oversell";
import type { Fixture } from "../setup";

/** What every scenario gets from the runner. */
export interface ScenarioContext {
  http: HttpClient;
  fixture: Fixture;
  oversell: OversellCheck;
  /** BENCH_DURATION_SCALE. */
  durationScale: number;
  /** This run's folder under bench-results/ (logs, the static copy of the seat map). */
  workDir: string;
  cleanup: Cleanup;
  /** The API processes the bench started (none for BENCH_BASE_URL), for their CPU time. */
  apiPids: number[];
}

export const scaledMs = (context: ScenarioContext, ms: number) =>
  scaleDuration(ms, context.durationScale);

import type { Cleanup } from "./cleanup";
import { type ClosedLoopResult, closedLoop, STANDARD_LOAD } from "./closed-loop";
import { createDatabase, dropDatabase } from "./databases";
import { HttpClient } from "./http";
import { type BenchOptions, scaleDuration } from "./options";
import { runToCompletion } from "./processes";
import { startReferenceServer } from "./reference-servers";

/**
 * The machine's own figures, measured in the same run so the scenarios can be read against
 * them: PostgreSQL's TPC-B-like tps (pgbench) and Hono's hello world on Bun.
 */

const PGBENCH = { scale: 10, clients: 50, threads: 2, durationMs: 20_000 };

export type PgbenchResult =
  | {
      skipped: false;
      scale: number;
      clients: number;
      threads: number;
      duration_s: number;
      tps: number;
      latency_avg_ms: number | null;
      failed_transactions: number | null;
    }
  | { skipped: true; reason: string };

const numberAfter = (output: string, pattern: RegExp) => {
  const match = pattern.exec(output);
  return match?.[1] ? Number(match[1]) : null;
};

/** pgbench -i -s 10, then -c 50 -j 2 -T 20, on a scratch database dropped afterwards. */
export async function pgbenchReference(
  options: BenchOptions,
  cleanup: Cleanup,
): Promise<PgbenchResult> {
  if (options.skipPgbench) return { skipped: true, reason: "BENCH_SKIP_PGBENCH=1" };
  const pgbench = Bun.which("pgbench");
  if (!pgbench) return { skipped: true, reason: "pgbench is not installed" };

  const name = `evently_pgbench_${options.runId}`;
  const url = await createDatabase(options.pgUrl, name);
  const drop = () => dropDatabase(options.pgUrl, name);
  cleanup.add(`drop database ${name}`, drop);
  try {
    const durationS = Math.round(scaleDuration(PGBENCH.durationMs, options.durationScale) / 1000);
    await runToCompletion([pgbench, "-i", "-q", "-s", String(PGBENCH.scale), url], process.env);
    const output = await runToCompletion(
      [
        pgbench,
        "-c",
        String(PGBENCH.clients),
        "-j",
        String(PGBENCH.threads),
        "-T",
        String(durationS),
        url,
      ],
      process.env,
    );
    const tps = numberAfter(output, /tps = ([\d.]+)/);
    if (tps === null) throw new Error(`no tps in the pgbench output:\n${output}`);
    return {
      skipped: false,
      scale: PGBENCH.scale,
      clients: PGBENCH.clients,
      threads: PGBENCH.threads,
      duration_s: durationS,
      tps: Math.round(tps),
      latency_avg_ms: numberAfter(output, /latency average = ([\d.]+) ms/),
      failed_transactions: numberAfter(output, /number of failed transactions: (\d+)/),
    };
  } finally {
    await drop();
  }
}

/** Hono's hello world in a child Bun, loaded exactly like S3. */
export async function helloWorldReference(
  options: BenchOptions,
  workDir: string,
  cleanup: Cleanup,
): Promise<ClosedLoopResult> {
  const server = await startReferenceServer("hello", {}, workDir, cleanup);
  try {
    return await closedLoop(new HttpClient([server.baseUrl]), {
      path: "/",
      connections: STANDARD_LOAD.connections,
      durationMs: scaleDuration(STANDARD_LOAD.durationMs, options.durationScale),
    });
  } finally {
    await server.stop();
  }
}

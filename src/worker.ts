import { loadConfigOrExit, startOrExit } from "./boot";
import { composeWorker } from "./compose/worker";
import { requireMetricsToken } from "./infra/metrics";
import { connectRedis, redisTarget } from "./infra/redis";
import {
  type BackgroundJobs,
  bullPrefix,
  startInProcessJobs,
  startQueuedJobs,
} from "./jobs/background";
import { AppError } from "./lib/errors";
import { httpError } from "./middleware/error-handler";

const config = loadConfigOrExit();
const worker = await startOrExit(config, () => composeWorker(config));
const { logger, metrics } = worker;
const deps = worker.cleanup;
const settings = { cleanupCron: config.CLEANUP_CRON, logger };

let jobs: BackgroundJobs;
const redis = redisTarget(config);
if (redis) {
  jobs = startQueuedJobs(deps, {
    ...settings,
    prefix: bullPrefix(config),
    admit: (showId) => worker.admitNext(showId),
    admitConcurrency: config.WAITING_ROOM_ADMIT_CONCURRENCY,
    connect: () => connectRedis({ ...redis, forWorkers: true }),
  });
} else {
  logger.warn(
    "Neither REDIS_URL nor REDIS_CLUSTER_NODES is set: running the jobs in this process only",
  );
  jobs = startInProcessJobs(deps, settings);
}
logger.info("Evently worker started", { cleanup_cron: config.CLEANUP_CRON });

async function serveMetrics(request: Request): Promise<Response> {
  if (new URL(request.url).pathname !== "/metrics")
    return new Response("Not found", { status: 404 });
  try {
    requireMetricsToken(request.headers.get("Authorization") ?? undefined, config.METRICS_TOKEN);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const { status, body, headers } = httpError(error);
    return Response.json(body, { status, headers });
  }
  return new Response(await metrics.render(), {
    headers: { "Content-Type": metrics.contentType },
  });
}

// The worker's own counters (expirations, admissions) for Prometheus, when a port is given.
const metricsServer =
  config.WORKER_METRICS_PORT > 0
    ? await startOrExit(config, async () =>
        Bun.serve({ hostname: config.HOST, port: config.WORKER_METRICS_PORT, fetch: serveMetrics }),
      )
    : undefined;

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info("worker shutting down; letting the current job finish", { signal });
  await metricsServer?.stop();
  await jobs.stop();
  await worker.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

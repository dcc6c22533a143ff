import { Queue, Worker } from "bullmq";
import { Cron } from "croner";
import type { RedisClient } from "../infra/redis";
import type { Logger } from "../lib/logger";
import { type CleanupDependencies, runCleanup } from "./cleanup";

export const CLEANUP_QUEUE = "cleanup-queue";
export const WAITING_ROOM_QUEUE = "waiting-room-queue";

/**
 * BullMQ keys live under REDIS_KEY_PREFIX too, so deployments and test runs never mix. On a
 * Redis Cluster the prefix is a hash tag (`{bull}`, BullMQ's documented way): a queue's Lua
 * scripts touch many of its keys at once, and they must all live in one slot.
 */
export const bullPrefix = (config: { REDIS_KEY_PREFIX: string; REDIS_CLUSTER_NODES?: string[] }) =>
  `${config.REDIS_KEY_PREFIX}${config.REDIS_CLUSTER_NODES ? "{bull}" : "bull"}`;

/**
 * One pending admission job per show: sessions that end while it waits are served by it too,
 * since it admits as many as there is room for.
 */
export async function enqueueAdmission(queue: Queue, showId: number): Promise<void> {
  await queue.add(
    "admit",
    { showId },
    { jobId: `admit-${showId}`, removeOnComplete: true, removeOnFail: true, attempts: 3 },
  );
}

export interface BackgroundJobs {
  /** Stops scheduling, lets a running job finish, closes connections. */
  stop(): Promise<void>;
}

export interface ScheduleSettings {
  cleanupCron: string;
  logger: Logger;
}

/**
 * Embedded mode: the same processor on the same schedule, in this process. croner's `protect`
 * skips a tick while the previous run is still going, as the queue's job id does in production.
 */
export function startInProcessJobs(
  deps: CleanupDependencies,
  settings: ScheduleSettings,
): BackgroundJobs {
  let running: Promise<unknown> = Promise.resolve();
  const cron = new Cron(settings.cleanupCron, { protect: true }, async () => {
    running = runCleanup(deps).catch((error) =>
      settings.logger.error("cleanup failed", { error: String(error) }),
    );
    await running;
  });
  return {
    async stop() {
      cron.stop();
      await running;
    },
  };
}

export interface QueueSettings extends ScheduleSettings {
  /** Creates a Redis connection suitable for BullMQ (maxRetriesPerRequest: null). */
  connect: () => RedisClient;
  prefix: string;
  /** Admits the next in line of a show (the waiting room's admitNext). */
  admit: (showId: number) => Promise<unknown>;
  admitConcurrency: number;
}

/**
 * Production: croner adds one job to `cleanup-queue` per tick; a fixed job id means a tick
 * that finds the previous job still waiting or running adds nothing, so jobs never pile up
 * however slow a run is. Any number of worker processes may run this: BullMQ hands each job
 * to one of them, and the processor itself is safe to run concurrently (SKIP LOCKED).
 */
export function startQueuedJobs(
  deps: CleanupDependencies,
  settings: QueueSettings,
): BackgroundJobs {
  const queueConnection = settings.connect();
  const workerConnection = settings.connect();
  const queue = new Queue(CLEANUP_QUEUE, { connection: queueConnection, prefix: settings.prefix });
  const worker = new Worker(CLEANUP_QUEUE, () => runCleanup(deps), {
    connection: workerConnection,
    prefix: settings.prefix,
    concurrency: 1,
    // The fixed job id means no new cleanup is queued while a dead worker's job looks active:
    // a short lock (renewed every 5 s while the worker lives) and a 5 s stalled check hand a
    // killed worker's job to another worker within about 15 s instead of a minute.
    lockDuration: 10_000,
    stalledInterval: 5_000,
  });
  const admissionConnection = settings.connect();
  const admitter = new Worker<{ showId: number }>(
    WAITING_ROOM_QUEUE,
    (job) => settings.admit(job.data.showId),
    {
      connection: admissionConnection,
      prefix: settings.prefix,
      concurrency: settings.admitConcurrency,
    },
  );
  for (const [name, source] of [
    ["cleanup", worker],
    ["admission", admitter],
  ] as const) {
    source.on("failed", (job, error) =>
      settings.logger.error(`${name} job failed`, {
        job_id: job?.id,
        error: String(error),
        // drizzle wraps driver errors: the cause says what PostgreSQL answered (a deadlock…).
        cause: error.cause ? String(error.cause) : undefined,
      }),
    );
  }
  const cron = new Cron(settings.cleanupCron, async () => {
    try {
      await queue.add(
        "expire-holds",
        {},
        {
          jobId: "expire-holds",
          attempts: 3,
          backoff: { type: "exponential", delay: 1000 },
          removeOnComplete: true,
          removeOnFail: true,
        },
      );
    } catch (error) {
      settings.logger.error("could not enqueue cleanup", { error: String(error) });
    }
  });
  return {
    async stop() {
      cron.stop();
      await Promise.all([worker.close(), admitter.close()]);
      await queue.close();
      for (const connection of [queueConnection, workerConnection, admissionConnection]) {
        connection.disconnect();
      }
    },
  };
}

/** Jobs waiting, active or delayed per queue, for /metrics. */
export async function queueDepths(queues: Queue[]): Promise<Record<string, number>> {
  const depths: Record<string, number> = {};
  for (const queue of queues) {
    const counts = await queue.getJobCounts("wait", "active", "delayed", "prioritized");
    depths[queue.name] = Object.values(counts).reduce((sum, count) => sum + count, 0);
  }
  return depths;
}

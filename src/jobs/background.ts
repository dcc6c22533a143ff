import { Queue, Worker } from "bullmq";
import { Cron } from "croner";
import type Redis from "ioredis";
import type { Logger } from "../lib/logger";
import { type CleanupDependencies, expireLapsedHolds } from "./cleanup";

export const CLEANUP_QUEUE = "cleanup-queue";

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
    running = expireLapsedHolds(deps).catch((error) =>
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
  connect: () => Redis;
  prefix: string;
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
  const worker = new Worker(CLEANUP_QUEUE, () => expireLapsedHolds(deps), {
    connection: workerConnection,
    prefix: settings.prefix,
    concurrency: 1,
  });
  worker.on("failed", (job, error) =>
    settings.logger.error("cleanup job failed", { job_id: job?.id, error: String(error) }),
  );
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
      await worker.close();
      await queue.close();
      queueConnection.disconnect();
      workerConnection.disconnect();
    },
  };
}

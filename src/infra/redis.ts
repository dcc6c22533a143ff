import Redis, { type RedisOptions } from "ioredis";

export interface RedisConnectionOptions {
  url: string;
  /** Upper bound for every command: a slow or dead Redis must never hang a request. */
  commandTimeoutMs?: number;
  /** BullMQ workers need blocking commands without a per-request retry limit. */
  forWorkers?: boolean;
}

export function connectRedis(options: RedisConnectionOptions): Redis {
  const settings: RedisOptions = options.forWorkers
    ? { maxRetriesPerRequest: null, enableReadyCheck: false }
    : {
        commandTimeout: options.commandTimeoutMs,
        // Commands issued in the same tick share one write: under load that is most of them.
        enableAutoPipelining: true,
        maxRetriesPerRequest: 1,
        // Fail fast while disconnected instead of queueing commands until Redis returns.
        enableOfflineQueue: false,
      };
  return new Redis(options.url, {
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    lazyConnect: false,
    ...settings,
  });
}

/** Resolves once connected, or rejects after the timeout. */
export async function waitForRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not reachable within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off("ready", onReady);
    };
    redis.on("ready", onReady);
  });
}

import Redis, { Cluster, type ClusterOptions, Command, type RedisOptions } from "ioredis";
import type { Logger } from "../lib/logger";

/** One Redis server or a Redis Cluster: the app's Redis code runs on either. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: one server's URL (REDIS_URL) or some nodes of a cluster (REDIS_CLUSTER_NODES). */
export type RedisTarget = { url: string } | { clusterNodes: string[] };

/** The configured Redis, if any. */
export function redisTarget(config: {
  REDIS_URL?: string;
  REDIS_CLUSTER_NODES?: string[];
}): RedisTarget | undefined {
  if (config.REDIS_URL) return { url: config.REDIS_URL };
  if (config.REDIS_CLUSTER_NODES) return { clusterNodes: config.REDIS_CLUSTER_NODES };
  return undefined;
}

export interface RedisConnectionSettings {
  /** Upper bound for every command: a slow or dead Redis must never hang a request. */
  commandTimeoutMs?: number;
  /** BullMQ workers need blocking commands without a per-request retry limit. */
  forWorkers?: boolean;
  /** Fails this client's commands fast while Redis is known to hang (request-path clients). */
  circuit?: RedisCircuit;
}

export type RedisConnectionOptions = RedisTarget & RedisConnectionSettings;

export function connectRedis(options: { url: string } & RedisConnectionSettings): Redis;
export function connectRedis(options: RedisConnectionOptions): RedisClient;
export function connectRedis(options: RedisConnectionOptions): RedisClient {
  const { enableOfflineQueue, ...settings }: RedisOptions = options.forWorkers
    ? { maxRetriesPerRequest: null, enableReadyCheck: false }
    : {
        commandTimeout: options.commandTimeoutMs,
        // Commands issued in the same tick share one write: under load that is most of them.
        enableAutoPipelining: true,
        maxRetriesPerRequest: 1,
        // Fail fast while disconnected instead of queueing commands until Redis returns.
        enableOfflineQueue: false,
      };
  const retryStrategy = (attempt: number) => Math.min(attempt * 200, 2000);
  const client =
    "url" in options
      ? new Redis(options.url, {
          connectTimeout: 2000,
          retryStrategy,
          lazyConnect: false,
          enableOfflineQueue,
          ...settings,
        })
      : new Cluster(
          options.clusterNodes.map(parseNode),
          clusterOptions(settings, enableOfflineQueue),
        );
  options.circuit?.guard(client);
  return client;
}

function clusterOptions(
  { enableAutoPipelining, enableReadyCheck, ...perNode }: RedisOptions,
  enableOfflineQueue: boolean | undefined,
): ClusterOptions {
  return {
    // Auto-pipelines are built per node, so batching works on a cluster as on one server.
    enableAutoPipelining,
    enableReadyCheck,
    enableOfflineQueue,
    clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    // A node that stops answering is reconnected (a restarted replica keeps its slots), and
    // a promoted replica is found by the MOVED replies and the periodic slot refresh.
    clusterNodeRetryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    slotsRefreshInterval: 2000,
    redisOptions: { connectTimeout: 2000, ...perNode },
  };
}

function parseNode(node: string) {
  const colon = node.lastIndexOf(":");
  return { host: node.slice(0, colon), port: Number(node.slice(colon + 1)) };
}

/**
 * The servers that together hold every key: a cluster's primaries (each owns a share of the
 * slots, so SCAN and other whole-keyspace reads run on each), or the one server.
 */
export function keyspaces(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes("master") : [client];
}

/**
 * Every key matching `pattern`, a SCAN batch at a time, with the server that holds them (a
 * pipeline of reads about a batch goes to that server: on a cluster the keys of one batch
 * share a node, not a slot).
 */
export async function* scanKeys(
  client: RedisClient,
  pattern: string,
): AsyncGenerator<{ server: Redis; keys: string[] }> {
  for (const server of keyspaces(client)) {
    let cursor = "0";
    do {
      const [next, keys] = await server.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) yield { server, keys };
    } while (cursor !== "0");
  }
}

/** How often an open circuit asks Redis whether it answers again. */
const PROBE_INTERVAL_MS = 1000;

/** ioredis's rejection of a command that got no reply within `commandTimeout`. */
const COMMAND_TIMED_OUT = "Command timed out";

export class RedisCircuitOpenError extends Error {
  constructor() {
    super("Redis is not answering (circuit open): command not sent");
    this.name = "RedisCircuitOpenError";
  }
}

/**
 * A circuit breaker shared by a process's request-path Redis clients. A hung Redis (stopped,
 * swapping, stuck in a long script) keeps its connection open, so every command would wait
 * its whole REDIS_TIMEOUT_MS, one after another. The first command that times out opens the
 * circuit: from then on commands fail at once (every caller already has a fallback for a
 * failed Redis call), and the circuit itself sends a PING every second; the first
 * PONG closes it. No request's command is ever the probe, so a request waits on a hung Redis
 * at most once: for the commands it had in flight when Redis stopped answering.
 * A refused connection needs no circuit: ioredis already fails commands fast while offline.
 */
export class RedisCircuit {
  /** Commands that waited their whole timeout (the probe's own PINGs not counted). */
  timeouts = 0;
  private probeTimer?: ReturnType<typeof setInterval>;
  private openedAt = 0;
  private refused = 0;
  private readonly stateListeners: ((open: boolean) => void)[] = [];

  constructor(private readonly logger: Logger) {}

  get isOpen(): boolean {
    return this.probeTimer !== undefined;
  }

  /**
   * `listener` runs each time the circuit opens (true) or closes again because Redis answered
   * (false): what Redis delivers unasked, such as pub/sub messages, stops and resumes with it.
   */
  onStateChange(listener: (open: boolean) => void): void {
    this.stateListeners.push(listener);
  }

  /**
   * Routes `client`'s commands through the circuit. On a cluster one circuit guards every
   * node: a hung primary opens it for all of them, as a hung server does for one Redis.
   */
  guard(client: RedisClient): void {
    // A cluster's sendCommand takes a third argument (the node); it is passed on untouched.
    type SendCommand = (command: Command, ...routing: unknown[]) => Promise<unknown>;
    const send = client.sendCommand.bind(client) as SendCommand;
    const probe = async () => {
      const ping = new Command("ping");
      send(ping);
      await ping.promise;
    };
    const guarded: SendCommand = (command, ...routing) => {
      // Before "ready" the commands are ioredis's own handshake (or are refused by it anyway).
      if (this.isOpen && client.status === "ready") {
        this.refused++;
        command.reject(new RedisCircuitOpenError());
        return command.promise;
      }
      const sent = send(command, ...routing);
      command.promise.catch((error: Error) => {
        if (error.message !== COMMAND_TIMED_OUT) return;
        this.timeouts++;
        this.open(probe);
      });
      return sent;
    };
    (client as { sendCommand: SendCommand }).sendCommand = guarded;
  }

  /** Stops probing (the process is closing its Redis clients). */
  close(): void {
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  private open(probe: () => Promise<void>) {
    if (this.isOpen) return;
    this.openedAt = Date.now();
    this.refused = 0;
    this.logger.warn(
      "Redis did not answer in time: circuit open, Redis calls fail fast until it does",
    );
    let probing = false;
    const timer = setInterval(async () => {
      if (probing) return;
      probing = true;
      try {
        await probe();
        if (this.probeTimer !== timer) return;
        this.close();
        this.logger.info("Redis answers again: circuit closed", {
          open_ms: Date.now() - this.openedAt,
          commands_failed_fast: this.refused,
        });
        for (const listener of this.stateListeners) listener(false);
      } catch {
        // Still no answer (or no connection): the next tick probes again.
      } finally {
        probing = false;
      }
    }, PROBE_INTERVAL_MS);
    timer.unref();
    this.probeTimer = timer;
    for (const listener of this.stateListeners) listener(true);
  }
}

/** Resolves once connected, or rejects after the timeout. */
export async function waitForRedis(redis: RedisClient, timeoutMs: number): Promise<void> {
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

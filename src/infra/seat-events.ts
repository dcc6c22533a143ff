import type Redis from "ioredis";
import { Cluster } from "ioredis";
import type { Logger } from "../lib/logger";
import type { RedisCircuit, RedisClient } from "./redis";
import type { SeatChange } from "./seat-changes";

/** Receives the changes of one show; runs synchronously and must not throw. */
export type SeatChangeHandler = (change: SeatChange) => void;

/** Answered by subscribe: call it to unsubscribe (once is enough; more calls do nothing). */
export interface Unsubscribe {
  (): void;
  /**
   * Settles once the subscription is live: every change published after it reaches the
   * listener. Rejects when it could not be made (Redis down); the caller still unsubscribes.
   */
  readonly ready: Promise<void>;
}

/**
 * Committed seat changes fanned out to every API instance, so live seat maps (SSE) see
 * changes made anywhere. Publishing rejects when the change could not be sent (see
 * SeatChangeAnnouncer, which tells the show again); a subscription that drops heals with a
 * fresh snapshot for every listener on reconnect.
 */
export interface SeatEvents {
  publish(change: SeatChange): Promise<void>;
  subscribe(showId: number, listener: SeatChangeHandler): Unsubscribe;
  /** Local listeners of the show on this instance (for tests and metrics). */
  listenerCount(showId: number): number;
  /** Whether a change published now reaches this instance's listeners. */
  readonly live: boolean;
  /** Settles once `live` (at once when it is); the caller bounds the wait. */
  whenLive(): Promise<void>;
  /** `listener` runs each time delivery stops: the changes published meanwhile are lost. */
  onInterrupted(listener: () => void): void;
  close(): Promise<void>;
}

interface Entry {
  listener: SeatChangeHandler;
}

/** The listeners of each show; one entry per subscribe call, so duplicates are counted. */
class Listeners {
  private readonly byShow = new Map<number, Set<Entry>>();

  constructor(private readonly logger?: Logger) {}

  add(showId: number, entry: Entry) {
    let entries = this.byShow.get(showId);
    if (!entries) {
      entries = new Set();
      this.byShow.set(showId, entries);
    }
    entries.add(entry);
  }

  /** Answers true when that was the show's last listener. */
  remove(showId: number, entry: Entry): boolean {
    const entries = this.byShow.get(showId);
    if (!entries?.delete(entry)) return false;
    if (entries.size > 0) return false;
    this.byShow.delete(showId);
    return true;
  }

  count(showId: number) {
    return this.byShow.get(showId)?.size ?? 0;
  }

  shows() {
    return [...this.byShow.keys()];
  }

  deliver(change: SeatChange) {
    // A copy: a listener may unsubscribe (itself or another) while being told.
    for (const { listener } of [...(this.byShow.get(change.showId) ?? [])]) {
      try {
        listener(change);
      } catch (error) {
        this.logger?.error("seat change listener failed", {
          show_id: change.showId,
          error: String(error),
        });
      }
    }
  }
}

/** Checks a payload read off the wire: only well-formed changes reach listeners. */
function parseChange(payload: string): SeatChange | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const change = value as Record<string, unknown>;
  if (!Number.isInteger(change.showId)) return undefined;
  const showId = change.showId as number;
  if (change.layoutChanged === true) return { showId, layoutChanged: true };
  if (
    Array.isArray(change.seatIds) &&
    change.seatIds.every(Number.isInteger) &&
    (change.status === "AVAILABLE" || change.status === "LOCKED" || change.status === "BOOKED")
  ) {
    return { showId, seatIds: change.seatIds as number[], status: change.status };
  }
  return undefined;
}

export interface RedisSeatEventsOptions {
  /** REDIS_KEY_PREFIX: channels are `${prefix}seat_events:{<show>}`. */
  prefix?: string;
  logger: Logger;
  /**
   * The request-path clients' circuit breaker. A hung Redis keeps the subscriber connection
   * open and silent, so only the circuit tells that changes can no longer be published here.
   */
  circuit?: RedisCircuit;
}

/**
 * Redis pub/sub: one PUBLISH per change on the show's channel; one subscriber connection per
 * instance (a connection in subscriber mode can issue nothing else), made on the first
 * subscribe, which SUBSCRIBEs to a show's channel while the show has local listeners and
 * UNSUBSCRIBEs when the last one leaves. A change made here reaches local listeners through
 * Redis too, so every instance sees the changes of a show in the same order.
 *
 * On a Redis Cluster the same runs on Redis 7 sharded pub/sub (SPUBLISH, SSUBSCRIBE): a
 * change travels only to the primary owning its show's slot (and its replicas) instead of
 * being broadcast over the cluster bus to every node, and the subscriber keeps one connection
 * per primary.
 *
 * Changes published while the subscriber was disconnected (or its primary failed over) are
 * lost: after a reconnect every listener is told `layoutChanged` (send a fresh snapshot).
 */
export class RedisSeatEvents implements SeatEvents {
  private subscriber?: RedisClient;
  private readonly listeners: Listeners;
  private readonly interruptionListeners: (() => void)[] = [];
  /** Settles when the subscriber connection is ready again; one for all waiting callers. */
  private backLive?: PromiseWithResolvers<void>;
  /** The SUBSCRIBE of each show with listeners: in flight or done. */
  private readonly subscriptions = new Map<number, Promise<void>>();
  private closed = false;
  private readonly prefix: string;
  private readonly logger: Logger;
  private readonly sharded: boolean;
  private readonly circuit?: RedisCircuit;

  constructor(
    private readonly redis: RedisClient,
    options: RedisSeatEventsOptions,
  ) {
    this.prefix = options.prefix ?? "";
    this.logger = options.logger;
    this.listeners = new Listeners(options.logger);
    this.sharded = redis instanceof Cluster;
    this.circuit = options.circuit;
    this.circuit?.onStateChange((open) => {
      if (!this.subscriber) return;
      if (open) {
        this.interrupt();
      } else {
        // Changes published while it was open were lost: every listener reads afresh.
        this.resynchronise();
        this.wakeIfLive();
      }
    });
  }

  channel(showId: number) {
    return `${this.prefix}seat_events:{${showId}}`;
  }

  async publish(change: SeatChange) {
    const channel = this.channel(change.showId);
    const payload = JSON.stringify(change);
    if (this.redis instanceof Cluster) await this.redis.spublish(channel, payload);
    else await this.redis.publish(channel, payload);
  }

  subscribe(showId: number, listener: SeatChangeHandler): Unsubscribe {
    const entry: Entry = { listener };
    this.listeners.add(showId, entry);
    let ready = this.subscriptions.get(showId);
    if (!ready) {
      ready = this.closed
        ? Promise.reject(new Error("seat events are closed"))
        : this.listen(this.connection(), showId);
      const attempt = ready;
      this.subscriptions.set(showId, attempt);
      // A failed SUBSCRIBE is forgotten, so the next subscriber tries again.
      attempt.catch((error) => {
        if (this.subscriptions.get(showId) === attempt) this.subscriptions.delete(showId);
        this.logger.warn("could not subscribe to seat changes", {
          show_id: showId,
          error: String(error),
        });
      });
    }
    let done = false;
    const unsubscribe = () => {
      if (done) return;
      done = true;
      if (!this.listeners.remove(showId, entry)) return;
      this.subscriptions.delete(showId);
      if (!this.subscriber) return;
      // Commands on one connection run in order: a later SUBSCRIBE of the show lands after it.
      const channel = this.channel(showId);
      const stopped = this.sharded
        ? this.subscriber.sunsubscribe(channel)
        : this.subscriber.unsubscribe(channel);
      stopped.catch((error) => {
        this.logger.warn("could not unsubscribe from seat changes", {
          show_id: showId,
          error: String(error),
        });
      });
    };
    return Object.assign(unsubscribe, { ready });
  }

  listenerCount(showId: number) {
    return this.listeners.count(showId);
  }

  /**
   * Before the first subscribe there is no connection to lose: a subscribe waits for its own.
   * While the circuit is open, changes are not published (and Redis may not deliver them).
   */
  get live() {
    return (!this.subscriber || this.subscriber.status === "ready") && !this.circuit?.isOpen;
  }

  whenLive(): Promise<void> {
    if (this.live) return Promise.resolve();
    this.backLive ??= Promise.withResolvers();
    return this.backLive.promise;
  }

  onInterrupted(listener: () => void) {
    this.interruptionListeners.push(listener);
  }

  private interrupt() {
    for (const listener of this.interruptionListeners) listener();
  }

  private resynchronise() {
    for (const showId of this.listeners.shows()) {
      this.listeners.deliver({ showId, layoutChanged: true });
    }
  }

  private wakeIfLive() {
    if (!this.live) return;
    this.backLive?.resolve();
    this.backLive = undefined;
  }

  async close() {
    this.closed = true;
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  private async listen(subscriber: RedisClient, showId: number) {
    const channel = this.channel(showId);
    if (this.sharded) await subscriber.ssubscribe(channel);
    else await subscriber.subscribe(channel);
  }

  private connection(): RedisClient {
    if (this.subscriber) return this.subscriber;
    const subscriber =
      this.redis instanceof Cluster
        ? this.clusterSubscriber(this.redis)
        : this.serverSubscriber(this.redis);
    subscriber.on("error", (error) =>
      this.logger.warn("redis subscriber connection error", { error: String(error) }),
    );
    const onMessage = (channel: string, payload: string) => {
      const change = parseChange(payload);
      if (!change || channel !== this.channel(change.showId)) {
        this.logger.warn("ignored a malformed seat change message", { channel });
        return;
      }
      this.listeners.deliver(change);
    };
    subscriber.on(this.sharded ? "smessage" : "message", onMessage);
    this.subscriber = subscriber;
    return subscriber;
  }

  private resync(showId: number) {
    this.listeners.deliver({ showId, layoutChanged: true });
  }

  private serverSubscriber(redis: Redis): Redis {
    // Queued while (re)connecting rather than failing at once: the caller bounds the wait.
    const subscriber = redis.duplicate({
      // Named, so operators (and tests) can find it in CLIENT LIST.
      connectionName: `${this.prefix}seat_events`,
      enableOfflineQueue: true,
      enableAutoPipelining: false,
      autoResubscribe: true,
    });
    let connectedBefore = false;
    let delivering = false;
    // Emitted again on every failed reconnect attempt: listeners hear of one interruption.
    subscriber.on("close", () => {
      if (!delivering) return;
      delivering = false;
      this.interrupt();
    });
    subscriber.on("ready", () => {
      if (connectedBefore) {
        this.logger.info("redis subscriber reconnected; live seat maps resynchronise");
        const resync = () => this.resynchronise();
        // ioredis resubscribed before "ready"; a PING is answered after those SUBSCRIBEs, so
        // the snapshots the listeners read next miss nothing published from then on.
        subscriber.ping().then(resync, resync);
      }
      connectedBefore = true;
      delivering = true;
      this.wakeIfLive();
    });
    return subscriber;
  }

  private clusterSubscriber(cluster: Cluster): Cluster {
    const subscriber = cluster.duplicate([], {
      // One subscriber connection per primary, each SSUBSCRIBEd to its own slots' channels.
      shardedSubscribers: true,
      enableOfflineQueue: true,
      enableAutoPipelining: false,
      redisOptions: { connectionName: `${this.prefix}seat_events` },
    });
    // A per-primary subscriber is dropped when its node fails or its slots move; once the
    // replacements are made ("subscribersReady"), the changes sent meanwhile are lost.
    let subscriberLost = false;
    subscriber.on("-subscriber", () => {
      subscriberLost = true;
    });
    subscriber.on("ready", () => this.wakeIfLive());
    subscriber.on("subscribersReady", () => {
      if (!subscriberLost) return;
      subscriberLost = false;
      this.logger.info("redis cluster subscribers moved; live seat maps resynchronise");
      // SSUBSCRIBE again and wait for the reply before telling the listeners, so the
      // snapshots they read next miss nothing published from then on.
      for (const showId of this.listeners.shows()) {
        const resync = () => this.resync(showId);
        this.listen(subscriber, showId).then(resync, resync);
      }
    });
    return subscriber;
  }
}

/** Embedded mode: one process, so a change goes straight to this process's listeners. */
export class MemorySeatEvents implements SeatEvents {
  private readonly listeners: Listeners;

  constructor(logger?: Logger) {
    this.listeners = new Listeners(logger);
  }

  async publish(change: SeatChange) {
    this.listeners.deliver(change);
  }

  subscribe(showId: number, listener: SeatChangeHandler): Unsubscribe {
    const entry: Entry = { listener };
    this.listeners.add(showId, entry);
    let done = false;
    const unsubscribe = () => {
      if (done) return;
      done = true;
      this.listeners.remove(showId, entry);
    };
    return Object.assign(unsubscribe, { ready: Promise.resolve() });
  }

  listenerCount(showId: number) {
    return this.listeners.count(showId);
  }

  /** In process: nothing can come between a publish and its listeners. */
  readonly live = true;

  async whenLive() {}

  onInterrupted() {}

  async close() {}
}

import type { Database } from "../../db/client";
import type { SeatChange, SeatStatus } from "../../infra/seat-changes";
import type { SeatEvents, Unsubscribe } from "../../infra/seat-events";
import { AppError } from "../../lib/errors";
import type { Logger } from "../../lib/logger";
import { readLapses, readSeatStatuses } from "./queries";
import { SeatStatusReconciler } from "./reconciler";
import type { SeatMapService } from "./service";

export interface SeatStreamSettings {
  /** Open streams this instance serves at most; one more is answered 503 (SEAT_STREAM_MAX_PER_INSTANCE). */
  maxStreams: number;
  /**
   * Open streams one client (a user, or an IP when anonymous) holds on this instance; one more
   * is answered 429 (SEAT_STREAM_MAX_PER_CLIENT).
   */
  maxPerClient: number;
  /** A heartbeat goes out after this much silence on a stream (SEAT_STREAM_HEARTBEAT_SECONDS). */
  heartbeatMs: number;
  /**
   * Changes queued for one stream whose client reads slowly; past it they are dropped and the
   * client gets a fresh snapshot instead, so a stalled client costs bounded memory.
   */
  maxQueued: number;
  /**
   * How long opening a stream waits for the subscription (Redis SUBSCRIBE) before a 503; also
   * how long open streams wait for a lost subscription to come back before they are told to
   * reconnect.
   */
  subscribeTimeoutMs: number;
  /**
   * A client that has not taken one event in this long (a full snapshot to a slow phone
   * included) is dropped, so stalled connections cannot hold the stream slots
   * (SEAT_STREAM_WRITE_TIMEOUT_SECONDS).
   */
  writeTimeoutMs: number;
}

const DEFAULT_SEAT_STREAM_SETTINGS: SeatStreamSettings = {
  maxStreams: 1000,
  maxPerClient: 4,
  heartbeatMs: 15_000,
  maxQueued: 1000,
  subscribeTimeoutMs: 3000,
  writeTimeoutMs: 30_000,
};

/** What a stream sends next. */
export type SeatStreamItem =
  | { type: "change"; seatIds: number[]; status: SeatStatus }
  /** A fresh full map: after a layout change, a lost subscription or a client that fell behind. */
  | { type: "snapshot" }
  | { type: "heartbeat" }
  /** Changes cannot reach this stream any more: the client is told to reconnect, then it ends. */
  | { type: "reconnect" };

/** The Retry-After of a refused stream, and the wait a `reconnect` event suggests. */
export const RETRY_STREAM_AFTER_SECONDS = 5;

const unavailable = (message: string) =>
  new AppError("UNAVAILABLE", { message, retryAfterSeconds: RETRY_STREAM_AFTER_SECONDS });

/**
 * One client's stream: the snapshot taken when it opened and, in order, every change of the
 * show since just before that snapshot was read (changes already in it are sent again, which is
 * harmless: each event states the seats' new status).
 */
export class SeatStreamSession {
  /** The body of GET /shows/:id/seats when the stream opened. */
  snapshot = "";
  private queue: SeatStreamItem[] = [];
  private wake?: () => void;
  private ended = false;

  constructor(
    readonly showId: number,
    /** Whose stream it is: `user:<id>` or `ip:<address>`, for the per-client bound. */
    readonly client: string,
    private readonly settings: SeatStreamSettings,
    private readonly onClose: (session: SeatStreamSession) => void,
  ) {}

  get closed() {
    return this.ended;
  }

  push(change: SeatChange) {
    if (this.ended || this.queue[0]?.type === "reconnect") return;
    if ("layoutChanged" in change || this.queue.length >= this.settings.maxQueued) {
      // A fresh snapshot, read when it is sent, supersedes every change queued before it.
      this.queue = [{ type: "snapshot" }];
    } else {
      this.queue.push({ type: "change", seatIds: change.seatIds, status: change.status });
    }
    this.wake?.();
  }

  /** The next item to send; a heartbeat after `heartbeatMs` of silence; undefined once closed. */
  async next(): Promise<SeatStreamItem | undefined> {
    for (;;) {
      if (this.ended) return undefined;
      const item = this.queue.shift();
      if (item) return item;
      const woken = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), this.settings.heartbeatMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      this.wake = undefined;
      if (!woken && !this.ended && this.queue.length === 0) return { type: "heartbeat" };
    }
  }

  /** Its last item: the client is told to reconnect; everything still queued is dropped. */
  reconnect() {
    if (this.ended) return;
    this.queue = [{ type: "reconnect" }];
    this.wake?.();
  }

  /** Ends the stream (client gone, server shutting down); idempotent. */
  close() {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    this.wake?.();
    this.onClose(this);
  }
}

/** Never later than this between two looks at a show's holds while any run (self-healing). */
const MAX_LAPSE_WAIT_MS = 1_000;
const RETRY_SOON_MS = 100;
/** A new hold is looked at within this, in case it ends before the ones already known. */
const LOOK_AFTER_HOLD_MS = 500;
/** Past a hold's end, so that PostgreSQL's now() has certainly passed it. */
const LAPSE_MARGIN_MS = 25;
const RETRY_MS = 5000;

/**
 * A hold whose time ran out reads as AVAILABLE at once (GET /seats), but the cleanup job that
 * announces it may run minutes later. While a show has streams on this instance, this watches
 * its holds' end times and tells the streams when one lapses. Each instance watches for its own
 * streams, so nothing is published. A seat with a change of its own while a look is running is
 * left out of that look's lapses, so a stale lapse never overtakes a newer hold.
 */
class HoldLapseWatcher {
  /** PostgreSQL's now() at the last look, as text it parses back exactly. */
  private since?: string;
  /** Seats with a change since the running look began. */
  private readonly touched = new Set<number>();
  private timer?: ReturnType<typeof setTimeout>;
  private dueAt = Number.POSITIVE_INFINITY;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly showId: number,
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly lapsed: (seatIds: number[]) => void,
  ) {}

  /** The first look (it sets the baseline); never rejects. */
  start(): Promise<void> {
    return this.run();
  }

  saw(change: SeatChange) {
    if (!("seatIds" in change)) return;
    for (const seatId of change.seatIds) this.touched.add(seatId);
    if (change.status === "LOCKED") this.schedule(LOOK_AFTER_HOLD_MS);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number) {
    if (this.stopped) return;
    const at = Date.now() + delayMs;
    if (this.timer && this.dueAt <= at) return;
    clearTimeout(this.timer);
    this.dueAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.dueAt = Number.POSITIVE_INFINITY;
      void this.run();
    }, delayMs);
  }

  private run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.look().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.run();
      }
    });
    return this.running;
  }

  private async look() {
    if (this.stopped) return;
    this.touched.clear();
    try {
      const row = await readLapses(this.db, this.showId, this.since);
      if (!row || this.stopped) return;
      const lapsed = row.lapsed.filter((seatId) => !this.touched.has(seatId));
      if (this.since !== undefined && lapsed.length > 0) this.lapsed(lapsed);
      if (lapsed.length < row.lapsed.length) {
        // A seat changed while we looked: its lapse may be stale or real. Look again soon from
        // the same point in time, so a real lapse is not lost (a repeated AVAILABLE is harmless).
        this.schedule(RETRY_SOON_MS);
        return;
      }
      this.since = row.now;
      // Also look at least once a second while streams are open: a missed or late schedule
      // then delays a lapse announcement by a second at most instead of losing it.
      const nextLapse =
        row.next_in_ms === null ? MAX_LAPSE_WAIT_MS : Math.max(0, row.next_in_ms) + LAPSE_MARGIN_MS;
      this.schedule(Math.min(nextLapse, MAX_LAPSE_WAIT_MS));
    } catch (error) {
      this.logger.warn("could not look for lapsed holds", {
        show_id: this.showId,
        error: String(error),
      });
      this.schedule(RETRY_MS);
    }
  }
}

/**
 * The streams of one show on this instance: one subscription, one lapse watcher and one
 * reconciler for all.
 */
class ShowFeed {
  readonly sessions = new Set<SeatStreamSession>();
  /** Changes flow and lapses are watched: a snapshot read after this misses nothing. */
  readonly ready: Promise<void>;
  private readonly unsubscribe: Unsubscribe;
  private readonly lapses: HoldLapseWatcher;
  private readonly reconciler: SeatStatusReconciler;

  constructor(showId: number, events: SeatEvents, db: Database, logger: Logger) {
    this.reconciler = new SeatStatusReconciler(
      (seatIds) => readSeatStatuses(db, showId, seatIds),
      (error) =>
        logger.warn("could not read back changed seats", { show_id: showId, error: String(error) }),
      (seatIds, status) => this.deliver({ showId, seatIds, status }),
    );
    this.lapses = new HoldLapseWatcher(showId, db, logger, (seatIds) => {
      this.reconciler.toldOf(seatIds, "AVAILABLE");
      this.deliver({ showId, seatIds, status: "AVAILABLE" });
    });
    this.unsubscribe = events.subscribe(showId, (change) => {
      this.lapses.saw(change);
      if ("seatIds" in change) this.reconciler.published(change.seatIds, change.status);
      this.deliver(change);
    });
    this.ready = this.unsubscribe.ready.then(() => this.lapses.start());
    this.ready.catch(() => {});
  }

  stop() {
    this.unsubscribe();
    this.lapses.stop();
    this.reconciler.stop();
  }

  private deliver(change: SeatChange) {
    for (const session of this.sessions) session.push(change);
  }
}

/**
 * Live seat maps (GET /shows/:id/seats/stream): admits at most `maxStreams` streams on this
 * instance and feeds each a snapshot followed by every change of its show.
 */
export class SeatStreams {
  readonly settings: SeatStreamSettings;
  private readonly feeds = new Map<number, ShowFeed>();
  /** Open streams by client, on this instance. */
  private readonly byClient = new Map<string, number>();
  private opened = 0;
  private closing = false;

  constructor(
    readonly events: SeatEvents,
    private readonly seatMap: SeatMapService,
    private readonly db: Database,
    private readonly logger: Logger,
    settings: Partial<SeatStreamSettings> = {},
  ) {
    this.settings = { ...DEFAULT_SEAT_STREAM_SETTINGS, ...settings };
    events.onInterrupted(() => void this.interrupted());
  }

  /** Streams open on this instance. */
  get openStreams() {
    return this.opened;
  }

  /** Open streams by show id, for a metrics gauge. */
  async openByShow(): Promise<Record<string, number>> {
    return Object.fromEntries(
      [...this.feeds].map(([showId, feed]) => [String(showId), feed.sessions.size]),
    );
  }

  /**
   * Subscribes first, then reads the snapshot, so no change can fall between the two; the
   * changes that arrive meanwhile wait in the session. Throws 503 over the bound or when changes
   * cannot be received, 429 when `client` already holds its share, 404 for an unknown show.
   */
  async open(showId: number, client: string): Promise<SeatStreamSession> {
    if (this.closing) throw unavailable("The server is shutting down; reconnect shortly");
    const held = this.byClient.get(client) ?? 0;
    if (held >= this.settings.maxPerClient) {
      throw new AppError("RATE_LIMITED", {
        message: `At most ${this.settings.maxPerClient} live seat map streams per client are open at once; close one first`,
        details: { max_streams: this.settings.maxPerClient },
        retryAfterSeconds: 10,
      });
    }
    if (this.opened >= this.settings.maxStreams) {
      throw unavailable("Too many live seat map streams on this server; retry shortly");
    }
    this.opened++;
    this.byClient.set(client, held + 1);
    let feed = this.feeds.get(showId);
    if (!feed) {
      feed = new ShowFeed(showId, this.events, this.db, this.logger);
      this.feeds.set(showId, feed);
    }
    const session = new SeatStreamSession(showId, client, this.settings, (ended) =>
      this.release(ended),
    );
    feed.sessions.add(session);
    try {
      try {
        // The show's subscription may have been made long ago on a connection now lost.
        await withTimeout(
          Promise.all([feed.ready, this.events.whenLive()]),
          this.settings.subscribeTimeoutMs,
        );
      } catch (error) {
        this.logger.warn("live seat changes unavailable", {
          show_id: showId,
          error: String(error),
        });
        throw unavailable("Live seat updates are unavailable right now; retry shortly");
      }
      session.snapshot = await this.snapshot(showId);
      return session;
    } catch (error) {
      session.close();
      throw error;
    }
  }

  /** The body of GET /shows/:id/seats; 404 for an unknown (or deleted) show. */
  async snapshot(showId: number): Promise<string> {
    return (await this.seatMap.get(showId)).body;
  }

  /** Ends every open stream and refuses new ones (shutdown); idempotent. */
  async close() {
    this.closing = true;
    for (const feed of [...this.feeds.values()]) {
      for (const session of [...feed.sessions]) session.close();
    }
    await this.events.close();
  }

  /**
   * Delivery stopped. A subscription back within `subscribeTimeoutMs` resynchronises the streams
   * with a fresh snapshot; otherwise a stream would look live and miss every change, so each is
   * told to reconnect and ends.
   */
  private async interrupted() {
    try {
      await withTimeout(this.events.whenLive(), this.settings.subscribeTimeoutMs);
    } catch {
      this.logger.warn("live seat changes lost; open streams are told to reconnect", {
        streams: this.opened,
      });
      for (const feed of this.feeds.values()) {
        for (const session of feed.sessions) session.reconnect();
      }
    }
  }

  private release(session: SeatStreamSession) {
    this.opened--;
    const held = (this.byClient.get(session.client) ?? 1) - 1;
    if (held > 0) this.byClient.set(session.client, held);
    else this.byClient.delete(session.client);
    const feed = this.feeds.get(session.showId);
    if (!feed?.sessions.delete(session) || feed.sessions.size > 0) return;
    feed.stop();
    this.feeds.delete(session.showId);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

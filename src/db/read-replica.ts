import { sql } from "drizzle-orm";
import type { Logger } from "../lib/logger";
import { type Database, type DatabaseHandle, execRows } from "./client";
import { isDatabaseUnavailable, pgErrorCode } from "./errors";
import { readSchemaVersion } from "./migrate";

/**
 * Where reads that may be a moment behind the primary run: catalogue browsing, admin lists
 * and analytics. Never a hold, payment, confirmation or cancellation, nor a read that must see
 * the caller's own write (a booking, the seat map).
 */
export interface StaleReads {
  run<T>(read: (db: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Without a replica every read runs on the primary. */
export const readsOnPrimary = (db: Database): StaleReads => ({
  run: (read) => read(db),
  close: async () => {},
});

/** Timeouts mean the read is too slow, not that the replica is gone: running it again on the primary would double its cost. */
const TIMEOUTS = ["57014", "55P03"];

/**
 * A table, column, function or schema the replica does not have: it is not a replica of this
 * database, or has not replayed this release's migrations yet.
 */
const SCHEMA_MISSING = ["42P01", "42703", "42883", "3F000"];

/**
 * Lost connections, a shut-down replica, a query cancelled by recovery on the replica, or a
 * replica without the schema the primary has.
 */
const replicaFailed = (error: unknown) =>
  (isDatabaseUnavailable(error) && !TIMEOUTS.includes(pgErrorCode(error) ?? "")) ||
  SCHEMA_MISSING.includes(pgErrorCode(error) ?? "");

/** drizzle wraps the driver's error in "Failed query: …": the cause says what went wrong. */
const causeOf = (error: unknown) =>
  String(error instanceof Error && error.cause ? error.cause : error);

export interface ReplicaReadsOptions {
  primary: Database;
  replica: DatabaseHandle;
  /** Reads may be this far behind the primary; a replica further behind is not used. */
  maxLagMs: number;
  logger: Logger;
}

/**
 * Reads on a streaming replica while it keeps up, on the primary otherwise: a read that fails
 * for want of the replica (or of its schema) runs again on the primary, and the replica stays
 * out of use until a probe finds it back, with this release's schema. The probe runs every half `maxLagMs` and asks whether the replica has
 * replayed all the primary had written at the previous probe: then it is less than `maxLagMs`
 * behind. (A replay timestamp would call an idle replica of an idle primary late.)
 */
export class ReplicaReads implements StaleReads {
  private inUse = true;
  private primaryPositionAtLastProbe = "0/0";
  private probing?: ReturnType<typeof setInterval>;
  private probeRunning = false;

  constructor(private readonly options: ReplicaReadsOptions) {}

  async run<T>(read: (db: Database) => Promise<T>): Promise<T> {
    // Started by the first read: a process that serves none (the worker) never probes.
    if (!this.probing) {
      this.probing = setInterval(() => void this.probe(), this.options.maxLagMs / 2);
      this.probing.unref?.();
    }
    if (this.inUse) {
      try {
        return await read(this.options.replica.db);
      } catch (error) {
        if (!replicaFailed(error)) throw error;
        this.takeOutOfUse("a read failed on it", error);
      }
    }
    return read(this.options.primary);
  }

  /** One probe (also run by the timer); answers whether the replica is in use after it. */
  async probe(): Promise<boolean> {
    if (this.probeRunning) return this.inUse;
    this.probeRunning = true;
    try {
      const position = await this.primaryPosition();
      if (position === undefined) return this.inUse;
      try {
        const [row] = await execRows<{ caught_up: boolean }>(
          this.options.replica.db,
          // A server that is not in recovery is a primary itself: never behind.
          sql`select coalesce(pg_last_wal_replay_lsn() >= ${this.primaryPositionAtLastProbe}::pg_lsn,
                              true) as caught_up`,
        );
        if (!row?.caught_up) this.takeOutOfUse("it lags behind the primary");
        else if ((await readSchemaVersion(this.options.replica.db)).state === "behind") {
          this.takeOutOfUse("its schema is not the one this release reads");
        } else this.putBackInUse();
      } catch (error) {
        this.takeOutOfUse("it does not answer", error);
      }
      this.primaryPositionAtLastProbe = position;
      return this.inUse;
    } finally {
      this.probeRunning = false;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.probing);
    await this.options.replica.close();
  }

  /** The primary's WAL position, or undefined when it does not answer (nothing to compare). */
  private async primaryPosition(): Promise<string | undefined> {
    try {
      const [row] = await execRows<{ lsn: string }>(
        this.options.primary,
        sql`select pg_current_wal_lsn()::text as lsn`,
      );
      return row?.lsn;
    } catch (error) {
      this.options.logger.debug("read replica probe: the primary does not answer", {
        error: causeOf(error),
      });
      return undefined;
    }
  }

  private takeOutOfUse(reason: string, error?: unknown) {
    if (!this.inUse) return;
    this.inUse = false;
    this.options.logger.warn("read replica out of use, reads go to the primary", {
      reason,
      error: error === undefined ? undefined : causeOf(error),
    });
  }

  private putBackInUse() {
    if (this.inUse) return;
    this.inUse = true;
    this.options.logger.info("read replica back in use");
  }
}

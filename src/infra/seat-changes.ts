import type { SeatStatus as StoredSeatStatus } from "../db/schema";
import type { Logger } from "../lib/logger";
import type { Metrics } from "./metrics";
import type { SeatLocks } from "./seat-locks";

/** A seat's status as buyers see it: a seat owed to the waitlist shows as LOCKED. */
export type SeatStatus = Exclude<StoredSeatStatus, "OWED">;

/** Seats of a show that moved to `status`, or a change of the show's layout (seats added/removed). */
export type SeatChange =
  | { showId: number; seatIds: number[]; status: SeatStatus }
  | { showId: number; layoutChanged: true };

/**
 * Told after a change to seats has committed: seat map caches are invalidated through it.
 * Must not throw; a listener that fails logs.
 */
export type SeatChangeListener = (change: SeatChange) => Promise<void>;

/** What has to happen outside PostgreSQL once seat changes have committed. */
export interface AfterCommit {
  locks: SeatLocks;
  seatsChanged: SeatChangeListener;
  logger: Logger;
  metrics: Metrics;
}

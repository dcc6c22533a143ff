import type { SeatStatus } from "../../infra/seat-changes";
import type { SeatStatusRow } from "./queries";

export type { SeatStatusRow } from "./queries";

export interface ReconcilerTiming {
  /** How long after a change the seats it touched are read back. */
  delayMs: number;
  /** How long after a failed read it is tried again. */
  retryMs: number;
}

const DEFAULT_TIMING: ReconcilerTiming = { delayMs: 250, retryMs: 5000 };

/**
 * Changes are published after their transactions commit, each by the request that made it,
 * so two changes of one seat made back to back by different requests (a cancel, then a hold of
 * the freed seat) can reach the streams in the wrong order, leaving the older status last.
 * Shortly after changes arrive this reads what PostgreSQL says of the seats they touched and,
 * where that differs from what the streams were last told, tells them the current status.
 * A seat with a change of its own while a read is running is left to the next read: the
 * read may predate that change.
 */
export class SeatStatusReconciler {
  /** What the streams were last told of each seat. */
  private readonly told = new Map<number, SeatStatus>();
  /** Seats to read back. */
  private readonly pending = new Set<number>();
  /** Seats changed while a read runs; undefined when none runs. */
  private touchedDuringRead?: Set<number>;
  private timer?: ReturnType<typeof setTimeout>;
  private stopped = false;

  constructor(
    private readonly readStatuses: (seatIds: number[]) => Promise<SeatStatusRow[]>,
    /** Told of a read that failed (it is tried again after retryMs). */
    private readonly readFailed: (error: unknown) => void,
    private readonly correct: (seatIds: number[], status: SeatStatus) => void,
    private readonly timing: ReconcilerTiming = DEFAULT_TIMING,
  ) {}

  /** A change published by whoever made it: to be checked shortly. */
  published(seatIds: number[], status: SeatStatus) {
    this.toldOf(seatIds, status);
    for (const seatId of seatIds) this.pending.add(seatId);
    this.schedule(this.timing.delayMs);
  }

  /**
   * A change the streams were told that was itself read from PostgreSQL (a lapsed hold). A
   * read running meanwhile may predate it, so it does not correct these seats.
   */
  toldOf(seatIds: number[], status: SeatStatus) {
    for (const seatId of seatIds) {
      this.told.set(seatId, status);
      this.touchedDuringRead?.add(seatId);
    }
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number) {
    if (this.stopped || this.timer || this.touchedDuringRead) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.read();
    }, delayMs);
  }

  private async read() {
    const seatIds = [...this.pending];
    this.pending.clear();
    const touched = new Set<number>();
    this.touchedDuringRead = touched;
    let delay = this.timing.delayMs;
    try {
      const rows = await this.readStatuses(seatIds);
      if (!this.stopped) this.correctDifferences(rows, touched);
    } catch (error) {
      if (this.stopped) return;
      this.readFailed(error);
      for (const seatId of seatIds) this.pending.add(seatId);
      delay = this.timing.retryMs;
    } finally {
      this.touchedDuringRead = undefined;
    }
    if (this.pending.size > 0) this.schedule(delay);
  }

  private correctDifferences(rows: SeatStatusRow[], touched: Set<number>) {
    const corrections = new Map<SeatStatus, number[]>();
    for (const { seat_id: seatId, status } of rows) {
      if (touched.has(seatId) || this.told.get(seatId) === status) continue;
      const seats = corrections.get(status);
      if (seats) seats.push(seatId);
      else corrections.set(status, [seatId]);
    }
    for (const [status, seatIds] of corrections) {
      this.toldOf(seatIds, status);
      this.correct(seatIds, status);
    }
  }
}

import type { HoldAnswer } from "../bench/scenarios/holds";

/**
 * The clients' side of every booking of the run: what each virtual user was told and did, and
 * so the status the booking must end in. PENDING while the flow is under way; CONFIRMED
 * after a 200 to confirm, CANCELLED after a 200 to cancel, EXPIRED once the user walked
 * away from it; unknown after an answer that leaves the outcome open (a failure or an
 * unexpected status, which fail the run anyway).
 */

export type Expected = "PENDING" | "CONFIRMED" | "CANCELLED" | "EXPIRED" | "unknown";

export interface LedgerEntry {
  booking_id: number;
  show_id: number;
  seat_ids: number[];
  expected: Expected;
}

export class Ledger {
  private readonly entries = new Map<number, LedgerEntry>();

  held(showId: number, answer: HoldAnswer): void {
    this.entries.set(answer.booking_id, {
      booking_id: answer.booking_id,
      show_id: showId,
      seat_ids: answer.locked_seats.map((seat) => seat.seat_id),
      expected: "PENDING",
    });
  }

  expect(bookingId: number, expected: Exclude<Expected, "PENDING">): void {
    const entry = this.entries.get(bookingId);
    if (entry) entry.expected = expected;
  }

  get size(): number {
    return this.entries.size;
  }

  all(): LedgerEntry[] {
    return [...this.entries.values()];
  }

  /** Bookings by the status the clients expect. */
  countsByExpected(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const entry of this.entries.values()) {
      counts[entry.expected] = (counts[entry.expected] ?? 0) + 1;
    }
    return counts;
  }

  /**
   * Seat → booking of one show for the bookings the clients believe CONFIRMED: once every
   * hold has run out, exactly the show's active bookings (for the oversell check).
   */
  confirmedSeats(showId: number): Map<number, number> {
    const seats = new Map<number, number>();
    for (const entry of this.entries.values()) {
      if (entry.show_id !== showId || entry.expected !== "CONFIRMED") continue;
      for (const seatId of entry.seat_ids) seats.set(seatId, entry.booking_id);
    }
    return seats;
  }
}

import { eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { seats, showSeats } from "../../db/schema";
import { effectiveSeatStatus, type SeatView, seatLayoutOrder } from "../catalogue/service";

/** A seat map rebuild reads each seat's status as one letter. */
const STATUS_BY_LETTER: Record<string, SeatView["status"]> = {
  A: "AVAILABLE",
  L: "LOCKED",
  B: "BOOKED",
};

/**
 * The letter of a show_seats row's effective status, from the table above (constants, so
 * written into the statement as they are); `?` for a status this code does not know.
 */
export const seatStatusLetter = sql<string>`case ${effectiveSeatStatus} ${sql.raw(
  Object.entries(STATUS_BY_LETTER)
    .map(([letter, status]) => `when '${status}' then '${letter}'`)
    .join(" "),
)} else '?' end`;

/**
 * The set of a show's seat ids, told apart by `count/max/sum`, or null for a show without
 * seats. A show's seats are all the seats of one venue, so the largest id names the venue.
 * Seat ids come from an identity column, are never reused, and are committed in increasing
 * order per venue (adding seats locks the venue row, AdminService.lockVenues): every seat
 * the venue gains later has a larger id. So a later set with the same largest id is a subset
 * of the earlier one, and with the same count it is the same set; the sum is a second check.
 * PostgreSQL computes it without sorting or shipping the ids (an ordered `array_agg` of them
 * was a third of a rebuild's cost).
 */
export const seatSetFingerprint = sql<string | null>`(count(*) || '/' || max(${showSeats.seat_id})
  || '/' || sum(${showSeats.seat_id}))`;

/** seatSetFingerprint of ids in ascending order. */
const fingerprintOf = (ascending: number[]) =>
  ascending.length === 0
    ? null
    : `${ascending.length}/${ascending.at(-1)}/${ascending.reduce((sum, id) => sum + id, 0)}`;

/**
 * A show's seats in drawing order, serialised up to their status: the part of its seat map
 * that only a change of the venue's layout alters. During a sale the map is rebuilt many times
 * a second; with the layout kept, a rebuild reads one status letter per seat instead of
 * joining, sorting and formatting 5,000 rows in PostgreSQL. A layout is known by its seat ids
 * alone: seats are added and removed, never renamed (no route changes a seat's row or number).
 */
export class SeatLayout {
  private constructor(
    /** The fingerprint of its seat ids (seatSetFingerprint). */
    readonly fingerprint: string | null,
    /** Per seat in drawing order: `{"seat_id":1,"seat_row":"A","seat_number":1,"status":"`. */
    private readonly heads: string[],
    /** Per seat in drawing order: its index in seat id order. */
    private readonly ranks: Int32Array,
  ) {}

  static async read(db: Database, showId: number): Promise<SeatLayout> {
    const rows = await db
      .select({
        seat_id: showSeats.seat_id,
        seat_row: seats.seat_row,
        seat_number: seats.seat_number,
      })
      .from(showSeats)
      .innerJoin(seats, eq(seats.seat_id, showSeats.seat_id))
      .where(eq(showSeats.show_id, showId))
      .orderBy(...seatLayoutOrder);
    const ascending = rows.map((row) => row.seat_id).sort((a, b) => a - b);
    const rankOf = new Map(ascending.map((seatId, index) => [seatId, index]));
    return new SeatLayout(
      fingerprintOf(ascending),
      rows.map(
        (row) =>
          `{"seat_id":${row.seat_id},"seat_row":${JSON.stringify(row.seat_row)},` +
          `"seat_number":${row.seat_number},"status":"`,
      ),
      Int32Array.from(rows, (row) => rankOf.get(row.seat_id) as number),
    );
  }

  /**
   * The seats' JSON objects, comma-separated in drawing order, from one status letter per seat
   * in seat id order (the statuses of exactly the seats of this layout).
   */
  render(statuses: string): string {
    const objects = this.heads.map((head, index) => {
      const letter = statuses[this.ranks[index] as number] as string;
      const status = STATUS_BY_LETTER[letter];
      if (!status) throw new Error(`seat map: unknown seat status letter ${letter}`);
      return `${head}${status}"}`;
    });
    return objects.join(",");
  }
}

import { and, eq, isNull, sql } from "drizzle-orm";
import { type Database, execRows } from "../../db/client";
import { showSeats, shows } from "../../db/schema";
import { seatSetFingerprint, seatStatusLetter } from "./layout";

export interface MapStatusRow {
  /** Which seats the show has (null: none): a layout is reused while this is unchanged. */
  fingerprint: string | null;
  /** One status letter per seat, in seat id order. */
  statuses: string | null;
  /** The earliest end of a running hold: then a LOCKED seat turns AVAILABLE on its own. */
  next_expiry: string | Date | null;
}

/** Every seat's status of a show, in one row. */
export async function readMapStatuses(
  db: Database,
  showId: number,
): Promise<MapStatusRow | undefined> {
  const [row] = await execRows<MapStatusRow>(
    db,
    sql`select
          ${seatSetFingerprint} as fingerprint,
          string_agg(${seatStatusLetter}, '' order by ${showSeats.seat_id}) as statuses,
          min(${showSeats.locked_until}) filter (
            where ${showSeats.status} = 'LOCKED' and ${showSeats.locked_until} > now()
          ) as next_expiry
        from ${showSeats}
        where ${showSeats.show_id} = ${showId}`,
  );
  return row;
}

/** True while the show exists and is not deleted. */
export async function isShowListed(db: Database, showId: number): Promise<boolean> {
  const [show] = await db
    .select({ show_id: shows.show_id })
    .from(shows)
    .where(and(eq(shows.show_id, showId), isNull(shows.deleted_at)));
  return show !== undefined;
}

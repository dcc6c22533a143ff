import { and, eq, isNull, sql } from "drizzle-orm";
import { type Database, execRows, intArray } from "../../db/client";
import { showSeats, shows } from "../../db/schema";
import type { SeatStatus } from "../../infra/seat-changes";
import { effectiveSeatStatus } from "../catalogue/service";
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

export interface SeatStatusRow {
  seat_id: number;
  status: SeatStatus;
}

/** The current (effective) status of some seats of a show. */
export function readSeatStatuses(db: Database, showId: number, seatIds: number[]) {
  return execRows<SeatStatusRow>(
    db,
    sql`select ${showSeats.seat_id} as seat_id, ${effectiveSeatStatus} as status
        from ${showSeats}
        where ${showSeats.show_id} = ${showId}
          and ${showSeats.seat_id} = any(${intArray(seatIds)})`,
  );
}

export interface LapseRow {
  /** The database's clock when it looked: the next look starts from here. */
  now: string;
  /** LOCKED seats whose hold ran out after `since` (and by now). */
  lapsed: number[];
  /** Until the next running hold of the show runs out, or null when none runs. */
  next_in_ms: number | null;
}

/** The show's holds that ran out since `since` (all of them when undefined), and the next one. */
export async function readLapses(
  db: Database,
  showId: number,
  since: string | undefined,
): Promise<LapseRow | undefined> {
  const [row] = await execRows<LapseRow>(
    db,
    sql`select now()::text as now,
      coalesce(array_agg(seat_id order by seat_id) filter (
        where locked_until <= now() and locked_until > ${since ?? null}::timestamptz
      ), '{}') as lapsed,
      (extract(epoch from min(locked_until) filter (where locked_until > now()) - now())
        * 1000)::float8 as next_in_ms
    from show_seats where show_id = ${showId} and status = 'LOCKED'`,
  );
  return row;
}

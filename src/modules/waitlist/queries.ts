import { sql } from "drizzle-orm";
import { type Database, execRows, type Queryable } from "../../db/client";
import { shows } from "../../db/schema";
import { iso } from "../../lib/time";
import { availableSeats } from "../catalogue/service";
import type { WaitlistEntryView } from "./schemas";

/** A view as the database answers it: timestamps may come back as Date. */
type EntryRow = Omit<WaitlistEntryView, "created_at"> & { created_at: string | Date };

/**
 * Share-locks the show row, so a deletion in flight finishes first; undefined for a show that
 * does not exist or is deleted.
 */
export async function shareLockShow(
  tx: Queryable,
  showId: number,
): Promise<{ started: boolean } | undefined> {
  const [show] = await execRows<{ started: boolean }>(
    tx,
    sql`select ${shows.start_time} <= now() as started
        from ${shows} where ${shows.show_id} = ${showId} and ${shows.deleted_at} is null
        for share`,
  );
  return show;
}

export async function freeSeats(tx: Queryable, showId: number): Promise<number> {
  const [seats] = await execRows<{ free: number }>(
    tx,
    sql`select ${availableSeats}::int as free from ${shows} where ${shows.show_id} = ${showId}`,
  );
  return seats?.free ?? 0;
}

/** Seats of the user's live holds and bookings of the show (the seat limit counts them). */
export async function seatsHeldBy(tx: Queryable, userId: number, showId: number): Promise<number> {
  const [held] = await execRows<{ seats: number }>(
    tx,
    sql`select seats_held_by_user(${userId}, ${showId}) as seats`,
  );
  return held?.seats ?? 0;
}

/**
 * Adds the user to the line; false when an active entry exists already (a concurrent join of
 * the same user inserts nothing and the caller reads the winner's entry).
 */
export async function insertEntry(
  tx: Queryable,
  userId: number,
  showId: number,
  seatsWanted: number,
): Promise<boolean> {
  const inserted = await execRows<{ waitlist_entry_id: number }>(
    tx,
    sql`insert into waitlist_entries (show_id, user_id, seats_wanted)
        values (${showId}, ${userId}, ${seatsWanted})
        on conflict (show_id, user_id) where status in ('WAITING', 'OFFERED') do nothing
        returning waitlist_entry_id`,
  );
  return inserted.length > 0;
}

/** Marks the user's WAITING entry LEFT; false when there was none. */
export async function leaveLine(tx: Queryable, userId: number, showId: number): Promise<boolean> {
  const left = await execRows<{ waitlist_entry_id: number }>(
    tx,
    sql`update waitlist_entries set status = 'LEFT', updated_at = now()
        where show_id = ${showId} and user_id = ${userId} and status = 'WAITING'
        returning waitlist_entry_id`,
  );
  return left.length > 0;
}

/** The user's WAITING or OFFERED entry of the show, with its place while WAITING. */
export async function activeEntry(
  db: Queryable,
  userId: number,
  showId: number,
): Promise<WaitlistEntryView | undefined> {
  const [row] = await execRows<EntryRow>(
    db,
    sql`select w.waitlist_entry_id, w.show_id, w.seats_wanted, w.status::text as status,
          w.booking_id, w.created_at,
          case when w.status = 'WAITING' then (
            select count(*)::int from waitlist_entries ahead
            where ahead.show_id = w.show_id and ahead.status = 'WAITING'
              and (ahead.created_at, ahead.waitlist_entry_id)
                  <= (w.created_at, w.waitlist_entry_id)) end as position
        from waitlist_entries w
        where w.show_id = ${showId} and w.user_id = ${userId}
          and w.status in ('WAITING', 'OFFERED')`,
  );
  return row ? { ...row, created_at: iso(row.created_at) } : undefined;
}

/** A page of the user's notifications, newest first, each row with the total count. */
export function notificationsPage(db: Database, userId: number, page: number, limit: number) {
  return execRows<{
    notification_id: number;
    kind: string;
    payload: Record<string, unknown> | string;
    created_at: string | Date;
    read_at: string | Date | null;
    total: number;
  }>(
    db,
    sql`select notification_id, kind, payload, created_at, read_at,
          count(*) over ()::int as total
        from notifications where user_id = ${userId}
        order by created_at desc, notification_id desc
        limit ${limit} offset ${(page - 1) * limit}`,
  );
}

export async function countNotifications(db: Database, userId: number): Promise<number> {
  const [counted] = await execRows<{ total: number }>(
    db,
    sql`select count(*)::int as total from notifications where user_id = ${userId}`,
  );
  return counted?.total ?? 0;
}

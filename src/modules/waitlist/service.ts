import { sql } from "drizzle-orm";
import { type Database, execRows, type Queryable } from "../../db/client";
import { shows } from "../../db/schema";
import type { AfterCommit } from "../../infra/seat-changes";
import { AppError, notFound, seatLimitReached, showStarted } from "../../lib/errors";
import { iso } from "../../lib/time";
import {
  lockWaitlist,
  type OfferSettings,
  reconcileOffers,
  serveLineAfterLeaving,
  settleWaitlistChanges,
} from "../booking/service";
import { availableSeats } from "../catalogue/service";

export type WaitlistStatus = "WAITING" | "OFFERED" | "FULFILLED" | "EXPIRED" | "LEFT";

export interface WaitlistEntryView {
  waitlist_entry_id: number;
  show_id: number;
  seats_wanted: number;
  status: WaitlistStatus;
  /** 1-based place in the line while WAITING, else null. */
  position: number | null;
  /** The offer's PENDING booking once OFFERED. */
  booking_id: number | null;
  created_at: string;
}

/** A view as the database answers it: timestamps may come back as Date. */
type EntryRow = Omit<WaitlistEntryView, "created_at"> & { created_at: string | Date };

export interface NotificationView {
  notification_id: number;
  kind: string;
  payload: Record<string, unknown>;
  created_at: string;
  read_at: string | null;
}

/** Lets the caller through the show's waiting room, as a hold would; 429 WAITING_ROOM if not. */
export type Admission = (showId: number, userId: number) => Promise<void>;

export class WaitlistService {
  constructor(
    private readonly db: Database,
    private readonly after: AfterCommit,
    private readonly admit: Admission,
    private readonly offers: Omit<OfferSettings, "logger">,
  ) {}

  /**
   * Joins the show's waitlist. Idempotent: an active (WAITING or OFFERED) entry of the caller is
   * returned as is (`created: false`). The caller must first get through the show's waiting
   * room, as for a hold: the line is no way around it. Only a show on sale whose free seats are
   * fewer than `seatsWanted` can be joined: otherwise 409 NOT_SOLD_OUT (hold the seats
   * instead); wanting more seats than the caller's seat limit leaves → 409 SEAT_LIMIT. The
   * show row is share-locked, so a deletion of the show in flight finishes first (then 404);
   * the free seats are counted under the show's waitlist lock, so a cancel or expiry
   * committing meanwhile either counts here or offers its seats to this entry.
   */
  async join(userId: number, showId: number, seatsWanted: number) {
    await this.admit(showId, userId);
    return this.db.transaction(async (tx) => {
      const [show] = await execRows<{ started: boolean }>(
        tx,
        sql`select ${shows.start_time} <= now() as started
            from ${shows} where ${shows.show_id} = ${showId} and ${shows.deleted_at} is null
            for share`,
      );
      if (!show) throw notFound("Show");
      await lockWaitlist(tx, showId);
      const [seats] = await execRows<{ free: number }>(
        tx,
        sql`select ${availableSeats}::int as free from ${shows} where ${shows.show_id} = ${showId}`,
      );
      const free = seats?.free ?? 0;
      await reconcileOffers(tx, showId);
      const existing = await this.activeEntry(tx, userId, showId);
      if (existing) return { entry: existing, created: false };
      if (show.started) {
        throw showStarted();
      }
      if (free >= seatsWanted) {
        throw new AppError("NOT_SOLD_OUT", {
          message: `The show is not sold out: ${free} seats are free; hold them instead`,
          details: { free_seats: free },
        });
      }
      const [held] = await execRows<{ seats: number }>(
        tx,
        sql`select seats_held_by_user(${userId}, ${showId}) as seats`,
      );
      const remaining = Math.max(this.offers.seatLimit - (held?.seats ?? 0), 0);
      if (seatsWanted > remaining) throw seatLimitReached(remaining, this.offers.seatLimit);
      // A concurrent join of the same user inserts nothing here and answers the winner's entry.
      const inserted = await execRows<{ waitlist_entry_id: number }>(
        tx,
        sql`insert into waitlist_entries (show_id, user_id, seats_wanted)
            values (${showId}, ${userId}, ${seatsWanted})
            on conflict (show_id, user_id) where status in ('WAITING', 'OFFERED') do nothing
            returning waitlist_entry_id`,
      );
      const entry = await this.activeEntry(tx, userId, showId);
      if (!entry) throw new Error("waitlist entry vanished after insert");
      return { entry, created: inserted.length > 0 };
    });
  }

  /**
   * Leaves the line: the caller's WAITING entry becomes LEFT; none → 404. Seats the line was
   * owed go on to the next in line, or back on open sale when nobody waits any more.
   */
  async leave(userId: number, showId: number): Promise<void> {
    const changes = await this.db.transaction(async (tx) => {
      const left = await execRows<{ waitlist_entry_id: number }>(
        tx,
        sql`update waitlist_entries set status = 'LEFT', updated_at = now()
            where show_id = ${showId} and user_id = ${userId} and status = 'WAITING'
            returning waitlist_entry_id`,
      );
      if (left.length === 0) throw notFound("Waitlist entry");
      return serveLineAfterLeaving(tx, showId, { ...this.offers, logger: this.after.logger });
    });
    await settleWaitlistChanges(changes, this.after);
  }

  /** The caller's notifications, newest first. */
  async notifications(userId: number, page: number, limit: number) {
    const rows = await execRows<{
      notification_id: number;
      kind: string;
      payload: Record<string, unknown> | string;
      created_at: string | Date;
      read_at: string | Date | null;
      total: number;
    }>(
      this.db,
      sql`select notification_id, kind, payload, created_at, read_at,
            count(*) over ()::int as total
          from notifications where user_id = ${userId}
          order by created_at desc, notification_id desc
          limit ${limit} offset ${(page - 1) * limit}`,
    );
    let total = rows[0]?.total ?? 0;
    if (rows.length === 0 && page > 1) {
      const [counted] = await execRows<{ total: number }>(
        this.db,
        sql`select count(*)::int as total from notifications where user_id = ${userId}`,
      );
      total = counted?.total ?? 0;
    }
    const notifications: NotificationView[] = rows.map((row) => ({
      notification_id: row.notification_id,
      kind: row.kind,
      payload: typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload,
      created_at: iso(row.created_at),
      read_at: row.read_at === null ? null : iso(row.read_at),
    }));
    return { notifications, page, limit, total };
  }

  private async activeEntry(
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
}

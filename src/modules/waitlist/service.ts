import type { Database } from "../../db/client";
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
import {
  activeEntry,
  countNotifications,
  freeSeats,
  insertEntry,
  leaveLine,
  notificationsPage,
  seatsHeldBy,
  shareLockShow,
} from "./queries";
import type { NotificationView } from "./schemas";

export type { NotificationView, WaitlistEntryView, WaitlistStatus } from "./schemas";

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
      const show = await shareLockShow(tx, showId);
      if (!show) throw notFound("Show");
      await lockWaitlist(tx, showId);
      const free = await freeSeats(tx, showId);
      await reconcileOffers(tx, showId);
      const existing = await activeEntry(tx, userId, showId);
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
      const held = await seatsHeldBy(tx, userId, showId);
      const remaining = Math.max(this.offers.seatLimit - held, 0);
      if (seatsWanted > remaining) throw seatLimitReached(remaining, this.offers.seatLimit);
      // A concurrent join of the same user inserts nothing here and answers the winner's entry.
      const created = await insertEntry(tx, userId, showId, seatsWanted);
      const entry = await activeEntry(tx, userId, showId);
      if (!entry) throw new Error("waitlist entry vanished after insert");
      return { entry, created };
    });
  }

  /**
   * Leaves the line: the caller's WAITING entry becomes LEFT; none → 404. Seats the line was
   * owed go on to the next in line, or back on open sale when nobody waits any more.
   */
  async leave(userId: number, showId: number): Promise<void> {
    const changes = await this.db.transaction(async (tx) => {
      if (!(await leaveLine(tx, userId, showId))) throw notFound("Waitlist entry");
      return serveLineAfterLeaving(tx, showId, { ...this.offers, logger: this.after.logger });
    });
    await settleWaitlistChanges(changes, this.after);
  }

  /** The caller's notifications, newest first. */
  async notifications(userId: number, page: number, limit: number) {
    const rows = await notificationsPage(this.db, userId, page, limit);
    let total = rows[0]?.total ?? 0;
    if (rows.length === 0 && page > 1) {
      total = await countNotifications(this.db, userId);
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
}

import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Database, execRows, intArray, type Queryable } from "../db/client";
import { iso } from "../lib/time";
import { runHoldStatement } from "../services/hold-statement";
import type { AfterCommit } from "../services/seat-changes";

export interface WaitlistDependencies extends AfterCommit {
  db: Database;
  /** Lifetime of an offer's PENDING hold (WAITLIST_OFFER_TTL_SECONDS). */
  offerTtlSeconds: number;
}

export interface WaitlistOffer {
  waitlist_entry_id: number;
  user_id: number;
  show_id: number;
  booking_id: number;
  seat_ids: number[];
  expires_at: string;
  lock_token: string;
}

/** First key of the per-show advisory lock ("WAIT"); the second is the show id. */
const WAITLIST_LOCK_SPACE = 0x57414954;

/**
 * Settles OFFERED entries whose booking has ended: confirmed → FULFILLED, cancelled or
 * expired → EXPIRED (the seats went back to the show and the next in line gets them).
 */
export async function reconcileOffers(db: Queryable, showId: number): Promise<void> {
  await db.execute(sql`update waitlist_entries w
    set status = case when b.status = 'CONFIRMED' then 'FULFILLED'::waitlist_status
                      else 'EXPIRED'::waitlist_status end,
      updated_at = now()
    from bookings b
    where w.show_id = ${showId} and w.status = 'OFFERED' and b.booking_id = w.booking_id
      and b.status <> 'PENDING'`);
}

/**
 * Offers the show's free seats to its waitlist, FIFO: while the first WAITING entry can be
 * served (enough AVAILABLE seats), holds that many seats (lowest ids) for its user with the
 * hold statement, marks the entry OFFERED and writes a WAITLIST_OFFER notification. Strict
 * FIFO: when the head of the line wants more seats than are free, nobody behind it is served.
 *
 * One transaction under a per-show advisory lock: concurrent runs (several processes ending
 * bookings at once) serialise, and the later run sees the seats the earlier one took as
 * LOCKED, so freed seats are offered exactly once. After commit the offers' seats are locked
 * in Redis with their bookings' tokens (best effort) and announced as LOCKED.
 */
export async function offerFreedSeats(
  deps: WaitlistDependencies,
  showId: number,
): Promise<WaitlistOffer[]> {
  const offers = await deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${WAITLIST_LOCK_SPACE}, ${showId})`);
    await reconcileOffers(tx, showId);
    const made: WaitlistOffer[] = [];
    for (;;) {
      const [entry] = await execRows<{
        waitlist_entry_id: number;
        user_id: number;
        seats_wanted: number;
      }>(
        tx,
        sql`select waitlist_entry_id, user_id, seats_wanted from waitlist_entries
            where show_id = ${showId} and status = 'WAITING'
            order by created_at, waitlist_entry_id limit 1
            for update`,
      );
      if (!entry) break;
      const free = await execRows<{ seat_id: number }>(
        tx,
        sql`select seat_id from show_seats
            where show_id = ${showId} and status = 'AVAILABLE'
            order by seat_id limit ${entry.seats_wanted}
            for update skip locked`,
      );
      if (free.length < entry.seats_wanted) break;
      const token = randomUUID();
      const seatIds = free.map((row) => row.seat_id);
      const outcome = await runHoldStatement(tx, {
        userId: entry.user_id,
        showId,
        seatIds,
        token,
        ttlSeconds: deps.offerTtlSeconds,
      });
      // Not on sale any more (the show started or is gone): nothing can be offered.
      if (outcome.kind !== "held") break;
      const { booking } = outcome;
      const expiresAt = iso(booking.expires_at);
      await tx.execute(sql`update waitlist_entries
        set status = 'OFFERED', booking_id = ${booking.booking_id}, updated_at = now()
        where waitlist_entry_id = ${entry.waitlist_entry_id}`);
      const payload = {
        booking_id: booking.booking_id,
        show_id: showId,
        seat_ids: seatIds,
        expires_at: expiresAt,
      };
      await tx.execute(sql`insert into notifications (user_id, kind, payload)
        values (${entry.user_id}, 'WAITLIST_OFFER', ${JSON.stringify(payload)}::jsonb)`);
      made.push({
        waitlist_entry_id: entry.waitlist_entry_id,
        user_id: entry.user_id,
        show_id: showId,
        booking_id: booking.booking_id,
        seat_ids: seatIds,
        expires_at: expiresAt,
        lock_token: token,
      });
    }
    return made;
  });
  for (const offer of offers) {
    try {
      await deps.locks.acquire(
        showId,
        offer.seat_ids,
        offer.lock_token,
        deps.offerTtlSeconds * 1000,
      );
    } catch (error) {
      // PostgreSQL holds the seats; a missing Redis lock only costs a refused transaction.
      deps.logger.warn("could not lock offered seats in Redis", {
        booking_id: offer.booking_id,
        error: String(error),
      });
    }
    await deps.seatsChanged({ showId, seatIds: offer.seat_ids, status: "LOCKED" });
  }
  if (offers.length > 0) {
    deps.logger.info("waitlist: offered freed seats", {
      show_id: showId,
      offers: offers.map((offer) => offer.booking_id),
    });
  }
  return offers;
}

/**
 * The after-commit hook for freed seats: runs the offer for every show among `showIds` that
 * has an active waitlist (WAITING entries, or OFFERED ones whose booking may just have ended).
 * Never throws: a failure is logged and the seats simply stay on general sale.
 */
export async function offerToWaitlists(
  deps: WaitlistDependencies,
  showIds: number[],
): Promise<void> {
  try {
    const waited = await execRows<{ show_id: number }>(
      deps.db,
      sql`select distinct show_id from waitlist_entries
          where show_id = any(${intArray(showIds)}) and status in ('WAITING', 'OFFERED')`,
    );
    for (const { show_id } of waited) await offerFreedSeats(deps, show_id);
  } catch (error) {
    deps.logger.error("waitlist offer failed", { show_ids: showIds, error: String(error) });
  }
}

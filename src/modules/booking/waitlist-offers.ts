import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { execRows, intArray, type Queryable } from "../../db/client";
import type { AfterCommit } from "../../infra/seat-changes";
import type { Logger } from "../../lib/logger";
import { iso } from "../../lib/time";
import { stampBy } from "./booking-log";
import { runHoldStatement } from "./hold-statement";

export interface WaitlistOffer {
  waitlist_entry_id: number;
  user_id: number;
  show_id: number;
  booking_id: number;
  seat_ids: number[];
  expires_at: string;
  lock_token: string;
}

/** First key of the per-show advisory lock on its line ("WAIT"); the second is the show id. */
export const WAITLIST_LOCK_SPACE = 0x57414954;
/** First key of the per-show lock of the transactions that make offers ("OFFR"). */
export const OFFER_LOCK_SPACE = 0x4f464652;

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

export interface OfferSettings {
  /** Lifetime of an offer's PENDING hold (WAITLIST_OFFER_TTL_SECONDS). */
  ttlSeconds: number;
  /** MAX_SEATS_PER_USER_PER_SHOW: an offer never takes its user past it. */
  seatLimit: number;
  logger: Logger;
}

/**
 * Takes the show's waitlist lock (advisory, held until the transaction ends): exclusively to
 * join the line, shared to look at it after freeing seats. A join and a freeing of the same
 * show thus never overlap: a join is either seen by the offer that follows a freeing, or sees
 * the freed seats itself (and is told to hold them). Freeings share it, so the cancels of one
 * show do not queue behind each other; only those that make offers do (OFFER_LOCK_SPACE), so
 * two transactions never offer the same seats nor serve the same entry.
 */
export async function lockWaitlist(
  tx: Queryable,
  showId: number,
  mode: "to join" | "to look" = "to join",
): Promise<void> {
  const lock = mode === "to join" ? sql`pg_advisory_xact_lock` : sql`pg_advisory_xact_lock_shared`;
  await execRows(tx, sql`select ${lock}(${WAITLIST_LOCK_SPACE}, ${showId})`);
}

/** Takes the show's offer lock (see lockWaitlist): one transaction makes offers at a time. */
async function lockOffers(tx: Queryable, showId: number): Promise<void> {
  await execRows(tx, sql`select pg_advisory_xact_lock(${OFFER_LOCK_SPACE}, ${showId})`);
}

/** Seats of one show. */
export interface ShowSeats {
  show_id: number;
  seat_ids: number[];
}

/** What a transaction did for the shows' waitlists, announced once it has committed. */
export interface WaitlistChanges {
  offers: WaitlistOffer[];
  /** Freed seats now kept for the line (OWED): off sale, shown as LOCKED. */
  owed: ShowSeats[];
  /** Seats that were owed to a line nobody waits in any more: back on open sale. */
  released: ShowSeats[];
}

export const noWaitlistChanges = (): WaitlistChanges => ({ offers: [], owed: [], released: [] });

/**
 * Gives the seats a transaction freed to their shows' waitlists, in that transaction, so that
 * no general hold can take a freed seat before the line gets it: in a show with an active
 * waitlist (WAITING entries, or OFFERED ones whose booking may just have ended) freed seats
 * become OWED to the line, and the line is served from its owed seats only, never from seats
 * on open sale. Shows are taken in id order, each in a savepoint of its own: if its offers
 * fail (a lock timeout, a deadlock) they are logged and undone, never another show's nor the
 * cancel or expiry that freed the seats, which then stay on general sale.
 */
export async function offerToWaitlists(
  tx: Queryable,
  freed: ShowSeats[],
  settings: OfferSettings,
): Promise<WaitlistChanges> {
  const changes = noWaitlistChanges();
  for (const { show_id: showId, seat_ids: seatIds } of [...freed].sort(
    (a, b) => a.show_id - b.show_id,
  )) {
    try {
      const served = await tx.transaction(async (savepoint) => {
        await lockWaitlist(savepoint, showId, "to look");
        // Read after the lock: every join that committed before it is seen. An offer whose
        // hold is still running needs nothing; one whose booking ended (this transaction's
        // own doing, say) must be settled and its seats offered on.
        const [waited] = await execRows<{ waiting: boolean }>(
          savepoint,
          sql`select exists (select 1 from waitlist_entries w
                left join bookings b on b.booking_id = w.booking_id
                where w.show_id = ${showId}
                  and (w.status = 'WAITING'
                    or (w.status = 'OFFERED' and b.status is distinct from 'PENDING'))) as waiting`,
        );
        if (!waited?.waiting) return noWaitlistChanges();
        await lockOffers(savepoint, showId);
        return serveLine(savepoint, showId, seatIds, settings);
      });
      changes.offers.push(...served.offers);
      changes.owed.push(...served.owed);
      changes.released.push(...served.released);
    } catch (error) {
      settings.logger.warn("waitlist offer failed; the freed seats stay on general sale", {
        show_id: showId,
        error: String(error),
      });
    }
  }
  return changes;
}

/**
 * Serves the show's line after someone left it: the seats it was owed go to the next in line,
 * or back on open sale when nobody waits any more. Run in the transaction that ended the
 * entry, under the same locks as a freeing transaction.
 */
export async function serveLineAfterLeaving(
  tx: Queryable,
  showId: number,
  settings: OfferSettings,
): Promise<WaitlistChanges> {
  await lockWaitlist(tx, showId, "to look");
  await lockOffers(tx, showId);
  return serveLine(tx, showId, [], settings);
}

/**
 * Under the show's offer lock (OFFER_LOCK_SPACE), held until the caller commits, so two
 * transactions never offer the same seats nor serve the same entry: settles ended offers,
 * makes `freedSeatIds` OWED while anyone waits, serves the line from the owed seats, and
 * returns them to open sale once nobody waits.
 */
async function serveLine(
  tx: Queryable,
  showId: number,
  freedSeatIds: number[],
  settings: OfferSettings,
): Promise<WaitlistChanges> {
  await reconcileOffers(tx, showId);
  const owed =
    freedSeatIds.length > 0 && (await someoneWaits(tx, showId))
      ? await execRows<{ seat_id: number }>(
          tx,
          sql`update show_seats set status = 'OWED'
              where show_id = ${showId} and seat_id = any(${intArray(freedSeatIds)})
                and status = 'AVAILABLE'
              returning seat_id`,
        )
      : [];
  const offers = await offerOwedSeats(tx, showId, settings);
  const released = (await someoneWaits(tx, showId))
    ? []
    : await execRows<{ seat_id: number }>(
        tx,
        sql`update show_seats set status = 'AVAILABLE'
            where show_id = ${showId} and status = 'OWED' returning seat_id`,
      );
  const handedOn = new Set([
    ...offers.flatMap((offer) => offer.seat_ids),
    ...released.map((row) => row.seat_id),
  ]);
  const stillOwed = owed.map((row) => row.seat_id).filter((seatId) => !handedOn.has(seatId));
  return {
    offers,
    owed: stillOwed.length > 0 ? [{ show_id: showId, seat_ids: stillOwed }] : [],
    released:
      released.length > 0
        ? [{ show_id: showId, seat_ids: released.map((row) => row.seat_id) }]
        : [],
  };
}

async function someoneWaits(tx: Queryable, showId: number): Promise<boolean> {
  const [line] = await execRows<{ waiting: boolean }>(
    tx,
    sql`select exists (select 1 from waitlist_entries
          where show_id = ${showId} and status = 'WAITING') as waiting`,
  );
  return line?.waiting ?? false;
}

/**
 * FIFO: while the show owes the first WAITING entry as many seats as it wants, holds them
 * (lowest ids) for its user with the hold statement, marks the entry OFFERED and writes a
 * WAITLIST_OFFER notification. Strict FIFO: when the head of the line wants more seats than
 * are owed, nobody behind it is served, and the owed seats wait for more. The hold statement
 * takes AVAILABLE seats only: the chosen seats are made AVAILABLE for it under their row
 * locks, which no general hold gets before the commit, by when they are LOCKED.
 */
async function offerOwedSeats(
  tx: Queryable,
  showId: number,
  { ttlSeconds, seatLimit }: OfferSettings,
): Promise<WaitlistOffer[]> {
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
    const owed = await execRows<{ seat_id: number }>(
      tx,
      sql`select seat_id from show_seats
          where show_id = ${showId} and status = 'OWED'
          order by seat_id limit ${entry.seats_wanted}
          for update`,
    );
    if (owed.length < entry.seats_wanted) break;
    const token = randomUUID();
    const seatIds = owed.map((row) => row.seat_id);
    const owedToOffer = (status: "AVAILABLE" | "OWED") =>
      tx.execute(sql`update show_seats set status = ${status}
        where show_id = ${showId} and seat_id = any(${intArray(seatIds)})`);
    await owedToOffer("AVAILABLE");
    const outcome = await runHoldStatement(tx, {
      userId: entry.user_id,
      showId,
      seatIds,
      token,
      ttlSeconds,
      seatLimit,
      event: "OFFERED",
      stamp: stampBy(null),
    });
    if (outcome.kind !== "held") await owedToOffer("OWED");
    if (outcome.kind === "over_limit") {
      await closeOverLimit(tx, showId, entry, outcome.remaining);
      continue;
    }
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
}

/**
 * The user holds or bought enough seats of the show since joining that the seats they wait for
 * would take them past MAX_SEATS_PER_USER_PER_SHOW: their entry is closed (EXPIRED) and they are
 * told so (WAITLIST_SEAT_LIMIT); the line moves on to the next in line.
 */
async function closeOverLimit(
  tx: Queryable,
  showId: number,
  entry: { waitlist_entry_id: number; user_id: number; seats_wanted: number },
  remaining: number,
): Promise<void> {
  await tx.execute(sql`update waitlist_entries set status = 'EXPIRED', updated_at = now()
    where waitlist_entry_id = ${entry.waitlist_entry_id}`);
  const payload = { show_id: showId, seats_wanted: entry.seats_wanted, remaining };
  await tx.execute(sql`insert into notifications (user_id, kind, payload)
    values (${entry.user_id}, 'WAITLIST_SEAT_LIMIT', ${JSON.stringify(payload)}::jsonb)`);
}

/**
 * After the transaction committed: locks the offers' seats in Redis with their bookings'
 * tokens (best effort) and announces them LOCKED; announces owed seats LOCKED (no Redis lock:
 * PostgreSQL refuses them to general holds) and released ones AVAILABLE. Run after the ended
 * bookings' own locks were dropped.
 */
export async function settleWaitlistChanges(
  { offers, owed, released }: WaitlistChanges,
  after: AfterCommit,
): Promise<void> {
  for (const seats of owed) {
    await after.seatsChanged({ showId: seats.show_id, seatIds: seats.seat_ids, status: "LOCKED" });
  }
  for (const seats of released) {
    await after.seatsChanged({
      showId: seats.show_id,
      seatIds: seats.seat_ids,
      status: "AVAILABLE",
    });
  }
  for (const offer of offers) {
    const ttlMs = Math.max(Date.parse(offer.expires_at) - Date.now(), 1);
    try {
      const taken = await after.locks.acquire(
        offer.show_id,
        offer.seat_ids,
        offer.lock_token,
        ttlMs,
      );
      // Another transaction freed a seat of the offer and has not dropped its lock yet, or a
      // general hold about to be refused still holds one. Locks only refuse: PostgreSQL holds
      // the seats, and the lock repair job lines Redis up again.
      if (taken.length > 0) {
        after.logger.info("offered seats still locked in Redis by an earlier holder", {
          booking_id: offer.booking_id,
          seat_ids: taken,
        });
      }
    } catch (error) {
      // PostgreSQL holds the seats; a missing Redis lock only costs a refused transaction.
      after.logger.warn("could not lock offered seats in Redis", {
        booking_id: offer.booking_id,
        error: String(error),
      });
    }
    await after.seatsChanged({ showId: offer.show_id, seatIds: offer.seat_ids, status: "LOCKED" });
  }
  if (offers.length > 0) {
    after.logger.info("waitlist: offered freed seats", {
      offers: offers.map((offer) => offer.booking_id),
    });
  }
}

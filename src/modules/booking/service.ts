import { randomUUID } from "node:crypto";
import type { Database, Queryable } from "../../db/client";
import { isTransientConflict, pgErrorCode, UNIQUE_VIOLATION, withRetries } from "../../db/errors";
import type { AfterCommit } from "../../infra/seat-changes";
import { bookedMarkerTtlMs } from "../../infra/seat-locks";
import {
  AppError,
  badRequest,
  invalidState,
  notFound,
  salesNotOpen,
  seatLimitReached,
  showStarted,
} from "../../lib/errors";
import { fromCents, toCents } from "../../lib/money";
import { iso } from "../../lib/time";
import { TtlCache } from "../../lib/ttl-cache";
import type { AuthUser } from "../auth/service";
import type { WaitingRoom } from "../waiting-room/service";
import {
  type BestAvailableOutcome,
  type BestAvailableRequest,
  EVERY_ROW,
  foldRowReleases,
  NEAR_SEATS,
  runBestAvailableStatement,
  runRowPickStatement,
} from "./best-available-statement";
import {
  type EndedBooking,
  type Endings,
  endBookings,
  nothingEnded,
  settleEndedBookings,
} from "./booking-lifecycle";
import { type Actor, stampBy } from "./booking-log";
import {
  type CheckoutState,
  runConfirmStatement,
  runPaymentStatement,
} from "./checkout-statements";
import { type ExpiryResult, expireLapsedHolds } from "./expiry";
import {
  type Held,
  type HoldOutcome,
  type HoldRequest,
  isSeatRowsChanged,
  runHoldStatement,
  type SeatRef,
} from "./hold-statement";
import { IdempotencyStore } from "./idempotency";
import { type BookingRow, lockBookingRow, readShowTimes, seatsOfBooking } from "./queries";
import { repairSeatLocks } from "./seat-lock-repair";

// The booking module's public steps that join a caller's transaction (a show deleted with
// its bookings, a waitlist served): other modules reach them through this facade only.
export { endBookings, settleEndedBookings } from "./booking-lifecycle";
export type { Actor } from "./booking-log";
export type { ExpiryResult } from "./expiry";
export {
  lockWaitlist,
  type OfferSettings,
  reconcileOffers,
  serveLineAfterLeaving,
  settleWaitlistChanges,
} from "./waitlist-offers";

export interface BookingSettings {
  holdTtlSeconds: number;
  /** Seats freed while people wait for the show are offered to them as holds this long. */
  waitlistOfferTtlSeconds: number;
  /** MAX_SEATS_PER_USER_PER_SHOW: seats of one user's live holds and bookings of one show. */
  seatLimit: number;
  /** CLEANUP_BATCH_SIZE: bookings expired per transaction. */
  cleanupBatchSize: number;
}

const seatUnavailable = (failedSeats: number[]) =>
  new AppError("SEAT_UNAVAILABLE", { details: { failed_seats: failedSeats } });
export interface ShowTimes {
  /** Epoch milliseconds. */
  startsAt: number;
  salesOpenAt?: number;
}

const holdExpired = () => new AppError("HOLD_EXPIRED");

const HOLD_RESULTS = {
  invalid: "invalid",
  taken: "conflicted",
  lapsed: "conflicted",
  over_limit: "refused",
  not_on_sale: "refused",
} as const;

const BEST_AVAILABLE_RESULTS = {
  not_enough: "conflicted",
  over_limit: "refused",
  not_on_sale: "refused",
} as const;

/**
 * Picks one request makes before answering 503: each lost race means another request holding
 * seats, so running out takes a stampede far beyond what one show's sale sees.
 */
const PICK_ATTEMPTS = 50;

/**
 * Holds that ran out, expired by a request per transaction: short transactions, since exact
 * holds of their seats wait for the row locks they take.
 */
const LAPSED_HOLDS_PER_TRANSACTION = 50;

/** What a best-available hold answers: picks that lost a race or met lapsed holds go again. */
type PickAnswer = Exclude<BestAvailableOutcome, { kind: "raced" | "lapsed" | "look_further" }>;

const alreadyPaid = () => invalidState("The booking is already paid");

const seatsChangingTooFast = () =>
  new AppError("UNAVAILABLE", { message: "These seats are changing too fast; retry shortly" });

export class BookingService {
  constructor(
    private readonly db: Database,
    private readonly after: AfterCommit,
    private readonly waitingRoom: Pick<WaitingRoom, "enter" | "renewAdmission" | "leave">,
    private readonly settings: BookingSettings,
  ) {}

  private readonly showTimes = new TtlCache<number, ShowTimes | undefined>(5_000);

  private get locks() {
    return this.after.locks;
  }

  private get logger() {
    return this.after.logger;
  }

  /**
   * Holds every requested seat or none. Redis refuses contended seats before any transaction
   * opens; PostgreSQL row locks decide. If Redis is unreachable the row locks alone keep it
   * correct.
   */
  async hold(user: Actor, showId: number, seatIds: number[]) {
    const userId = user.user_id;
    const times = await this.assertShowNotStarted(showId);
    await this.waitingRoom.enter(showId, userId, times.salesOpenAt);
    const token = randomUUID();
    const ttlMs = this.settings.holdTtlSeconds * 1000;
    await this.acquireInRedis(showId, seatIds, token, ttlMs).catch((error) => {
      this.after.metrics.recordHold("conflicted");
      throw error;
    });
    const request: HoldRequest = {
      userId,
      showId,
      seatIds,
      token,
      ttlSeconds: this.settings.holdTtlSeconds,
      seatLimit: this.settings.seatLimit,
      event: "HELD",
      stamp: stampBy(user),
    };
    let held: { outcome: HoldOutcome; reclaimed: Endings };
    try {
      held = await this.holdInDatabase(request);
    } catch (error) {
      // Even when the acquire call timed out it may have run: compare-and-delete is safe.
      await this.releaseQuietly(showId, seatIds, token);
      throw error;
    }
    const { outcome, reclaimed } = held;
    // Our locks go before a reclaimed booking is settled: its seats may have gone to the
    // waitlist, and settling the offer takes their Redis locks.
    if (outcome.kind !== "held") await this.releaseQuietly(showId, seatIds, token);
    await settleEndedBookings(reclaimed, this.after);
    if (outcome.kind !== "held") {
      this.after.metrics.recordHold(HOLD_RESULTS[outcome.kind]);
      throw await this.refusal(outcome, showId, seatIds.length);
    }
    return this.answerHeld(userId, showId, outcome);
  }

  /**
   * Holds the best `quantity` free seats of the show (BestAvailableStatement says which are
   * best). PostgreSQL picks first, since only it knows which seats are free; the Redis locks
   * follow, set to this hold's token whatever they held: PostgreSQL has just given it these
   * seats, so another value is a lock left behind or belongs to an exact hold that PostgreSQL
   * will refuse (whose compare-and-delete then leaves ours alone).
   */
  async holdBest(user: Actor, showId: number, quantity: number, adjacent: boolean) {
    const userId = user.user_id;
    const times = await this.assertShowNotStarted(showId);
    await this.waitingRoom.enter(showId, userId, times.salesOpenAt);
    const request: BestAvailableRequest = {
      userId,
      showId,
      quantity,
      adjacent,
      nearSeats: NEAR_SEATS,
      token: randomUUID(),
      ttlSeconds: this.settings.holdTtlSeconds,
      seatLimit: this.settings.seatLimit,
      event: "HELD",
      stamp: stampBy(user),
    };
    const outcome = await this.pickInDatabase(request);
    if (outcome.kind !== "held") {
      this.after.metrics.recordHold(BEST_AVAILABLE_RESULTS[outcome.kind]);
      throw await this.bestAvailableRefusal(outcome, showId);
    }
    const seatIds = outcome.seats.map((seat) => seat.seat_id);
    try {
      await this.locks.claim(showId, seatIds, request.token, request.ttlSeconds * 1000);
    } catch (error) {
      // PostgreSQL holds the seats; a missing Redis lock only costs a refused transaction.
      this.logger.warn("could not lock best-available seats in Redis", { error: String(error) });
    }
    return this.answerHeld(userId, showId, outcome);
  }

  /**
   * Picks until the statement holds seats or finds that none would do. A pick loses a race
   * when concurrent pickers row-lock the seats it chose: it picks again, from a snapshot that
   * sees their commits, rather than refusing while seats remain. Holds of the show that ran
   * out still lock seats that are free: a pick that finds any expires them first (as an exact
   * hold reclaims its seats), so the best seats include theirs.
   */
  private async pickInDatabase(request: BestAvailableRequest): Promise<PickAnswer> {
    // Adjacent seats of an unranked layout: a row at a time (runRowPickStatement), which also
    // says why once no row may hold a block. Ranked layouts and scattered seats (and hints
    // found below the truth) take the statement that ranks every seat.
    let rowWise = request.adjacent;
    for (let attempt = 1; attempt <= PICK_ATTEMPTS; attempt++) {
      const outcome = rowWise
        ? await this.retrying(() => runRowPickStatement(this.db, request))
        : await this.retrying(() => runBestAvailableStatement(this.db, request));
      if (outcome.kind === "every_seat") {
        rowWise = false;
      } else if (outcome.kind === "lapsed") {
        // Concurrent pickers expire different batches; one that found every lapsed hold taken
        // by others waits for their commits as a lost race does.
        const { expired } = await this.expireLapsedHoldsOf(request.showId);
        if (expired === 0) await Bun.sleep(Math.random() * attempt);
      } else if (outcome.kind === "look_further") {
        request.nearSeats = EVERY_ROW;
      } else if (outcome.kind === "raced") {
        // The winners commit within a statement's time: step aside briefly, longer each time.
        await Bun.sleep(Math.random() * attempt);
      } else {
        return outcome;
      }
    }
    throw seatsChangingTooFast();
  }

  private async bestAvailableRefusal(
    outcome: Exclude<PickAnswer, { kind: "held" }>,
    showId: number,
  ) {
    switch (outcome.kind) {
      case "not_enough":
        // No seat at all: the show may have been deleted (with its seats) since its times were
        // cached. Then the show is what is missing, as an exact hold answers.
        if (outcome.availableSeats === 0 && !(await this.stillListed(showId))) {
          return notFound("Show");
        }
        return new AppError("NOT_ENOUGH_SEATS", {
          message: "Not enough free seats of this show (together, when adjacent) to hold that many",
          details: { available_seats: outcome.availableSeats, largest_block: outcome.largestBlock },
        });
      case "over_limit":
        return seatLimitReached(outcome.remaining, this.settings.seatLimit);
      case "not_on_sale":
        return this.whyNotOnSale(showId);
    }
  }

  /** The answer to a hold that PostgreSQL committed, exact or best available. */
  private async answerHeld(userId: number, showId: number, outcome: Held) {
    this.after.metrics.recordHold("won");
    const seatIds = outcome.seats.map((seat) => seat.seat_id);
    // Independent, and neither rejects (the waiting room fails open, the announcer retries):
    // one wait for Redis instead of two in a row.
    await Promise.all([
      this.waitingRoom.renewAdmission(showId, userId),
      this.after.seatsChanged({ showId, seatIds, status: "LOCKED" }),
    ]);
    return {
      booking_id: outcome.booking.booking_id,
      status: "PENDING" as const,
      show_id: showId,
      locked_seats: outcome.seats,
      amount: fromCents(outcome.booking.amount_cents),
      expires_at: iso(outcome.booking.expires_at),
      expires_in: this.settings.holdTtlSeconds,
    };
  }

  /**
   * Usually one statement. Only when some requested seats are still LOCKED by holds that ran
   * out does it take a transaction: expire those bookings (every seat of them, refunding any
   * payment; seats people wait for go to the show's waitlist), then run the same statement
   * again, which refuses the seats the waitlist took like any other held seat.
   */
  private async holdInDatabase(request: HoldRequest) {
    const outcome = await this.retrying(() => runHoldStatement(this.db, request));
    if (outcome.kind !== "lapsed") return { outcome, reclaimed: nothingEnded() };
    // Bookings before seats, the order of the cleanup job and of cancel. Ending them locks
    // their seats in no set order, and takes the show's waitlist locks (the shared one, as
    // every seat-freeing transaction does, and the offer lock when somebody waits) before
    // this statement locks the other requested seats, so a concurrent hold of the same seats,
    // or a cancel in the show holding one of them, can still deadlock with this: PostgreSQL
    // breaks it and the retry runs the transaction again.
    return this.inTransaction(async (tx) => {
      const reclaimed = await this.end(tx, outcome.bookingIds, "EXPIRED", null);
      return { outcome: await runHoldStatement(tx, request), reclaimed };
    });
  }

  private async refusal(
    outcome: Exclude<HoldOutcome, { kind: "held" }>,
    showId: number,
    requested: number,
  ) {
    switch (outcome.kind) {
      case "invalid":
        // None found: the show may have been deleted (with its seats) since its times were
        // cached. Then the show is what is missing.
        if (outcome.seatIds.length === requested && !(await this.stillListed(showId))) {
          return notFound("Show");
        }
        return badRequest("Some seats are not seats of this show's venue", {
          invalid_seats: outcome.seatIds,
        });
      case "taken":
        return seatUnavailable(outcome.seatIds);
      case "lapsed":
        // Another hold reclaimed and took them between our two statements.
        return seatUnavailable([]);
      case "over_limit":
        return seatLimitReached(outcome.remaining, this.settings.seatLimit);
      case "not_on_sale":
        return this.whyNotOnSale(showId);
    }
  }

  /** Records a deterministic simulated payment for the caller's PENDING booking. */
  async pay(user: AuthUser, bookingId: number, amount: number, outcome: "success" | "decline") {
    const transactionId = `txn_${randomUUID().replaceAll("-", "")}`;
    const status = outcome === "success" ? "SUCCEEDED" : "DECLINED";
    const request = {
      userId: user.user_id,
      bookingId,
      amountCents: toCents(amount),
      status,
      transactionId,
    } as const;
    let booking: Awaited<ReturnType<typeof runPaymentStatement>>;
    try {
      booking = await this.retrying(() => runPaymentStatement(this.db, request, stampBy(user)));
    } catch (error) {
      // Another payment of this booking committed while this one waited for the row lock.
      if (pgErrorCode(error) === UNIQUE_VIOLATION) throw alreadyPaid();
      throw error;
    }
    if (!booking?.recorded) throw await this.whyNot(user, bookingId, booking, amount);
    if (status === "DECLINED") {
      throw new AppError("PAYMENT_FAILED", { details: { transaction_id: transactionId } });
    }
    await this.waitingRoom.renewAdmission(booking.show_id, user.user_id);
    return {
      transaction_id: transactionId,
      status: "SUCCEEDED" as const,
      booking_id: bookingId,
      amount: fromCents(booking.amount_cents),
    };
  }

  /** Turns a paid, still valid hold into a confirmed booking. */
  async confirm(user: AuthUser, bookingId: number) {
    const booking = await this.retrying(() =>
      runConfirmStatement(this.db, user.user_id, bookingId, stampBy(user)),
    );
    if (!booking?.confirmed || !booking.seats) {
      throw await this.whyNot(user, bookingId, booking);
    }
    const seats = sortSeats(booking.seats);
    const seatIds = seats.map((seat) => seat.seat_id);
    try {
      await this.locks.markBooked(
        booking.show_id,
        seatIds,
        booking.lock_token,
        bookedMarkerTtlMs(booking.show_starts_at),
      );
    } catch (error) {
      // The seats are BOOKED in PostgreSQL; a missing marker only costs a transaction later.
      this.logger.warn("could not mark seats booked in Redis", { error: String(error) });
    }
    await this.after.seatsChanged({ showId: booking.show_id, seatIds, status: "BOOKED" });
    this.after.metrics.recordTransition("CONFIRMED");
    // The buyer's session is over: their waiting-room place goes to the next in line.
    await this.waitingRoom.leave(booking.show_id, user.user_id);
    return {
      message: "Booking confirmed successfully",
      booking_id: bookingId,
      status: "CONFIRMED" as const,
      confirmed_seats: seats,
    };
  }

  /**
   * Why a payment or confirmation changed nothing, from the state its statement saw. A hold
   * that ran out is expired here (its seats go back on sale) before the 410.
   */
  private async whyNot(
    user: AuthUser,
    bookingId: number,
    booking: CheckoutState | undefined,
    amount?: number,
  ): Promise<AppError> {
    if (!booking) return notFound("Booking");
    if (booking.hold_lapsed) {
      await this.expireLapsedHold(user, bookingId);
      return holdExpired();
    }
    if (booking.status === "EXPIRED") return holdExpired();
    if (booking.status !== "PENDING") return invalidState(`The booking is ${booking.status}`);
    const paying = amount !== undefined;
    if (paying && toCents(amount) !== booking.amount_cents) {
      return badRequest("The amount does not match the booking", {
        amount: `must be ${fromCents(booking.amount_cents)}`,
      });
    }
    if (paying && booking.paid) return alreadyPaid();
    if (!paying && !booking.paid) {
      return new AppError("PAYMENT_REQUIRED");
    }
    throw new Error(`booking ${bookingId}: nothing explains why it was left as it was`);
  }

  /** Expires the caller's booking if its hold has run out (the cleanup job may be first). */
  private async expireLapsedHold(user: AuthUser, bookingId: number): Promise<void> {
    const expired = await this.inTransaction(async (tx) => {
      const booking = await this.lockBooking(tx, user, bookingId);
      return booking.hold_lapsed ? this.expire(tx, booking) : nothingEnded();
    });
    await settleEndedBookings(expired, this.after);
  }

  /** Cancels a PENDING or CONFIRMED booking before its show starts; refunds a payment. */
  async cancel(user: AuthUser, bookingId: number) {
    const result = await this.inTransaction(async (tx) => {
      const booking = await this.lockBooking(tx, user, bookingId, true);
      if (booking.hold_lapsed) return { expired: await this.expire(tx, booking) };
      if (booking.status !== "PENDING" && booking.status !== "CONFIRMED") {
        throw invalidState(`The booking is already ${booking.status}`);
      }
      if (booking.show_started) {
        throw showStarted("The show has started; it can no longer be cancelled");
      }
      const seats = await seatsOfBooking(tx, bookingId);
      const endings = await this.end(tx, [bookingId], "CANCELLED", user);
      return { endings, seats, booking };
    });
    if (result.expired) {
      await settleEndedBookings(result.expired, this.after);
      throw invalidState("The hold had already expired; nothing is left to cancel");
    }
    await settleEndedBookings(result.endings, this.after);
    const ended = result.endings.ended[0] as EndedBooking;
    await this.waitingRoom.leave(ended.show_id, result.booking.user_id);
    const refund = ended.refund;
    return {
      booking_id: bookingId,
      status: "CANCELLED" as const,
      cancelled_seats: result.seats,
      ...(refund
        ? {
            refund: {
              amount: fromCents(refund.amount_cents),
              transaction_id: refund.transaction_id,
            },
          }
        : {}),
    };
  }

  /**
   * Unknown or started shows are refused before Redis is touched. Show times are cached for a
   * few seconds (the hot path would otherwise pay a query per hold for values that almost
   * never change); the hold statement checks them again against the show row.
   */
  private async assertShowNotStarted(showId: number): Promise<ShowTimes> {
    const times = await this.timesOf(showId);
    if (times.startsAt <= Date.now()) throw showStarted();
    return times;
  }

  /** The show's times read afresh (and cached again); undefined once it is gone. */
  private freshTimes(showId: number): Promise<ShowTimes | undefined> {
    this.showTimes.delete(showId);
    return this.showTimes.get(showId, () => readShowTimes(this.db, showId));
  }

  /** Whether the show is still in the catalogue, read afresh. */
  private async stillListed(showId: number): Promise<boolean> {
    return (await this.freshTimes(showId)) !== undefined;
  }

  /** Expires PENDING bookings whose hold ran out, `batchSize` per transaction. */
  expireLapsedHolds(batchSize = this.settings.cleanupBatchSize): Promise<ExpiryResult> {
    return expireLapsedHolds(this.db, this.expireBookings, this.after, batchSize);
  }

  /** Expires the holds of one show that ran out, as the cleanup job would. */
  private expireLapsedHoldsOf(showId: number): Promise<ExpiryResult> {
    const batch = LAPSED_HOLDS_PER_TRANSACTION;
    return expireLapsedHolds(this.db, this.expireBookings, this.after, batch, showId);
  }

  private readonly expireBookings = (tx: Queryable, bookingIds: number[]) =>
    this.end(tx, bookingIds, "EXPIRED", null);

  /** Drops Idempotency-Key answers past their 24 hours; answers how many. */
  purgeExpiredIdempotencyKeys(): Promise<number> {
    return new IdempotencyStore(this.db).purgeExpired();
  }

  /**
   * Folds release notes into their rows' hints, for rows no best-available pick is reading
   * (see foldRowReleases); answers how many notes it folded.
   */
  foldRowReleases(): Promise<number> {
    return foldRowReleases(this.db);
  }

  /** Makes the Redis seat locks agree with PostgreSQL again (see seat-lock-repair). */
  repairSeatLocks(): Promise<{ restored: number; discarded: number }> {
    return repairSeatLocks({
      db: this.db,
      locks: this.locks,
      logger: this.logger,
      holdTtlSeconds: this.settings.holdTtlSeconds,
    });
  }

  /** A show's start and sales opening (cached a few seconds); 404 for an unknown show. */
  async timesOf(showId: number): Promise<ShowTimes> {
    const times = await this.showTimes.get(showId, () => readShowTimes(this.db, showId));
    if (times === undefined) throw notFound("Show");
    return times;
  }

  /** The transaction found no show on sale: gone, started, or not selling yet. */
  private async whyNotOnSale(showId: number): Promise<AppError> {
    const times = await this.freshTimes(showId);
    if (times === undefined) return notFound("Show");
    if (times.salesOpenAt !== undefined && times.salesOpenAt > Date.now()) {
      return salesNotOpen(times.salesOpenAt);
    }
    return showStarted();
  }

  /** Refuses seats Redis knows are taken; if Redis is unreachable, PostgreSQL alone decides. */
  private async acquireInRedis(showId: number, seatIds: number[], token: string, ttlMs: number) {
    let taken: number[];
    try {
      taken = await this.locks.acquire(showId, seatIds, token, ttlMs);
    } catch (error) {
      this.logger.warn("seat locks unavailable; holding through PostgreSQL row locks only", {
        error: String(error),
      });
      return;
    }
    if (taken.length > 0) throw seatUnavailable(taken);
  }

  /**
   * Locks the booking row, then reads its state (a statement of its own, so that it sees what
   * committed during the lock wait). Someone else's booking is "not found"; admins may cancel
   * any booking. Whether the hold ran out is judged by the clock after the lock wait (now() is
   * the transaction's start).
   */
  private async lockBooking(tx: Queryable, user: AuthUser, bookingId: number, adminMayAct = false) {
    const mayActOnAny = adminMayAct && user.role === "admin";
    const booking = await lockBookingRow(tx, bookingId, user.user_id, mayActOnAny);
    if (!booking || (booking.user_id !== user.user_id && !mayActOnAny)) {
      throw notFound("Booking");
    }
    return booking;
  }

  /** Expires a booking whose hold ran out; the caller commits, then answers 410. */
  private expire(tx: Queryable, booking: BookingRow) {
    return this.end(tx, [booking.booking_id], "EXPIRED", null);
  }

  /**
   * Ends bookings; seats the show's waitlist wants go to it before the commit. `by` is who
   * cancelled; expiries are the system's (null), whichever request noticed them.
   */
  private end(tx: Queryable, bookingIds: number[], to: "EXPIRED" | "CANCELLED", by: Actor | null) {
    return endBookings(tx, bookingIds, to, {
      by,
      waitlist: {
        ttlSeconds: this.settings.waitlistOfferTtlSeconds,
        seatLimit: this.settings.seatLimit,
        logger: this.logger,
      },
    });
  }

  private async releaseQuietly(showId: number, seatIds: number[], token: string) {
    try {
      await this.locks.release(showId, seatIds, token);
    } catch (error) {
      // The locks expire with the hold's TTL anyway.
      this.logger.warn("could not release seat locks", { error: String(error) });
    }
  }

  /**
   * Every booking transaction: a deadlock or serialization failure (possible where a hold
   * reclaims an expired booking while that booking is being confirmed) is retried.
   */
  private inTransaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.retrying(() => this.db.transaction(work));
  }

  private async retrying<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(
        work,
        (error) => isTransientConflict(error) || isSeatRowsChanged(error),
      );
    } catch (error) {
      // Deadlocks already answer 503; seats changing under every attempt does too.
      if (isSeatRowsChanged(error)) throw seatsChangingTooFast();
      throw error;
    }
  }
}

const sortSeats = (seats: SeatRef[]) => [...seats].sort((a, b) => a.seat_id - b.seat_id);

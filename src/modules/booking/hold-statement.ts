import { type SQL, sql } from "drizzle-orm";
import { type Queryable, Statement } from "../../db/client";
import { pgErrorCode } from "../../db/errors";
import type { SeatStatus } from "../../db/schema";
import { LOG_COLUMNS, type LogStamp, stampValues } from "./booking-log";

/** Who holds, for how long, and within which limit: what every kind of hold is told. */
export interface HoldTerms {
  userId: number;
  showId: number;
  /** Owner token of the Redis locks, stored with the booking. */
  token: string;
  ttlSeconds: number;
  /** MAX_SEATS_PER_USER_PER_SHOW: seats the user may hold or own for the show, this hold included. */
  seatLimit: number;
  /** The booking log's first entry: HELD by the user, or OFFERED to them by the waitlist. */
  event: "HELD" | "OFFERED";
  stamp: LogStamp;
}

export interface HoldRequest extends HoldTerms {
  seatIds: number[];
}

export interface SeatRef {
  seat_id: number;
  seat_row: string;
  seat_number: number;
}

interface LockedSeat extends SeatRef {
  status: SeatStatus;
  booking_id: number | null;
  lapsed: boolean;
}

/** A hold PostgreSQL committed: its booking and seats. */
export interface Held {
  kind: "held";
  booking: { booking_id: number; amount_cents: number; expires_at: string | Date };
  seats: SeatRef[];
}

export type HoldOutcome =
  | Held
  /** Requested ids that are not seats of the show's venue. */
  | { kind: "invalid"; seatIds: number[] }
  /** Requested seats that are BOOKED, held by a running hold, or owed to the waitlist. */
  | { kind: "taken"; seatIds: number[] }
  /** Some seats are still LOCKED by holds that ran out: those bookings must expire first. */
  | { kind: "lapsed"; bookingIds: number[]; seatIds: number[] }
  /** Every seat was free, but holding them would take the user past the per-show seat limit. */
  | { kind: "over_limit"; remaining: number }
  /** Every seat was free but the show has started or is gone. */
  | { kind: "not_on_sale" };

/** The hold statement's parameters: the request's, and the number of seats asked for. */
type HoldParameters = Omit<HoldRequest, "stamp"> & LogStamp & { seatCount: number };

interface StatementRow {
  seats: LockedSeat[] | null;
  booking_id: number | null;
  amount_cents: number | null;
  expires_at: string | Date | null;
  /** Seats the user already held or owned for the show; null unless every seat was free. */
  seats_held: number | null;
}

/**
 * The whole hold as one statement, hence one round trip and its own transaction:
 * lock the requested show_seats rows in seat_id order (no deadlocks between overlapping
 * holds), and only if every one of them is AVAILABLE insert the booking (priced from the show
 * row, refused before sales open, once the show has started or been deleted), copy its seats
 * for the history and mark them LOCKED (guarded by status = 'AVAILABLE'). Otherwise it changes
 * nothing and reports what it found. If the seat update ever touched fewer rows than
 * requested, the statement fails on the guard's cast and rolls back as a whole (the cast
 * depends on a column, so it is evaluated only then, never folded at planning time).
 *
 * That happens when a seat was freed by a transaction that committed while this statement
 * waited for its row lock: the locking read sees the freed row, but the update, run with the
 * statement's snapshot, skips it. Run again, the statement sees the commit: the guard's error
 * is retryable (isSeatRowsChanged).
 *
 * The per-user seat limit is checked once every requested row is locked and free, by
 * seats_held_by_user (the seat_limit_per_user migration): it serialises one user's holds of
 * one show on an advisory lock kept until this statement commits, and counts with a snapshot
 * taken after the lock was granted, so two parallel holds of one user never both pass on the
 * same count.
 * Calling it last, after the row locks, keeps the lock order of every hold the same (rows,
 * then the user's lock): one that holds the user's lock waits for nothing else.
 *
 * The booking log's first entry (logged_hold) is inserted with the booking.
 */
const SEAT_ROWS_CHANGED = "seat rows changed under their row locks";

/** The hold statement's guard fired: nothing was written, and running it again is safe. */
export function isSeatRowsChanged(error: unknown): boolean {
  return (
    pgErrorCode(error) === "22P02" &&
    String(error instanceof Error && error.cause ? error.cause : error).includes(SEAT_ROWS_CHANGED)
  );
}

/** What the writes of a hold need to know, as the statement's placeholders. */
export interface HoldWriteParameters {
  userId: unknown;
  showId: unknown;
  seatCount: unknown;
  token: unknown;
  ttlSeconds: unknown;
  seatLimit: unknown;
  event: unknown;
  actorUserId: unknown;
  actorRole: unknown;
  requestId: unknown;
}

/**
 * The writing half of every hold statement, as CTEs: once `ready` (every seat to hold is
 * row-locked by this statement and AVAILABLE), check the per-user seat limit, insert the
 * booking (priced from the show row, refused before sales open, once the show has started or
 * been deleted), copy the seats from the CTE named `seats` (seat_id, seat_row, seat_number)
 * and mark the show_seats rows matching `heldSeats` LOCKED, guarded by status = 'AVAILABLE'.
 * A CTE `held` lists the seats marked: holdGuard compares their count. Any other write a hold
 * makes in its own transaction is one more CTE off `booking`, after `held`, like
 * `logged_hold`: the booking log's first entry (HELD, or OFFERED by the waitlist).
 */
export const holdWrites = (
  {
    userId,
    showId,
    seatCount,
    token,
    ttlSeconds,
    seatLimit,
    event,
    actorUserId,
    actorRole,
    requestId,
  }: HoldWriteParameters,
  { ready, seats, heldSeats }: { ready: SQL; seats: SQL; heldSeats: SQL },
) => sql`allowance as (
      select case when ${ready} then seats_held_by_user(${userId}, ${showId}) end as seats_held
    ), booking as (
      insert into bookings (user_id, show_id, status, amount_cents, expires_at, lock_token)
      select ${userId}, sh.show_id, 'PENDING', sh.price_cents * ${seatCount},
        now() + make_interval(secs => ${ttlSeconds}), ${token}
      from shows sh, allowance
      where sh.show_id = ${showId} and sh.start_time > now() and sh.deleted_at is null
        and (sh.sales_open_at is null or sh.sales_open_at <= now())
        and allowance.seats_held + ${seatCount} <= ${seatLimit}
      returning booking_id, amount_cents, expires_at
    ), copied as (
      insert into booking_seats (booking_id, seat_id, seat_row, seat_number)
      select booking.booking_id, ${seats}.seat_id, ${seats}.seat_row, ${seats}.seat_number
      from booking, ${seats}
    ), held as (
      update show_seats ss set status = 'LOCKED', booking_id = booking.booking_id,
        locked_until = booking.expires_at
      from booking
      where ss.show_id = ${showId} and ${heldSeats} and ss.status = 'AVAILABLE'
      returning ss.seat_id
    ), logged_hold as (
      insert into booking_log (${LOG_COLUMNS})
      select booking.booking_id, ${event}::booking_event,
        jsonb_build_object('seat_ids', (select jsonb_agg(seat_id order by seat_id) from ${seats}),
          'amount_cents', booking.amount_cents, 'expires_at', booking.expires_at),
        ${stampValues({ actorUserId, actorRole, requestId })}
      from booking
    )`;

/** The statement's last column: fails the statement unless every seat was marked LOCKED. */
export const holdGuard = (seatCount: unknown) => sql`case when booking.booking_id is not null
        and (select count(*) from held) <> ${seatCount}
      then ('booking ' || booking.booking_id || ': ${sql.raw(SEAT_ROWS_CHANGED)}')::int
    end as guard`;

const holdStatement = new Statement<HoldParameters, StatementRow>(
  (parameters) => sql`with locked as (
      select ss.seat_id, ss.status::text as status, ss.booking_id, s.seat_row, s.seat_number,
        coalesce(ss.locked_until <= now(), false) as lapsed
      from show_seats ss join seats s on s.seat_id = ss.seat_id
      where ss.show_id = ${parameters.showId} and ss.seat_id = any(${parameters.seatIds}::int[])
      order by ss.seat_id
      for update of ss
    ), ${holdWrites(parameters, {
      ready: sql`(select count(*) filter (where status = 'AVAILABLE') from locked) = ${parameters.seatCount}`,
      seats: sql.raw("locked"),
      heldSeats: sql`ss.seat_id = any(${parameters.seatIds}::int[])`,
    })}
    select
      (select json_agg(locked order by seat_id) from locked) as seats,
      booking.booking_id, booking.amount_cents, booking.expires_at,
      (select seats_held from allowance) as seats_held,
      ${holdGuard(parameters.seatCount)}
    from (select 1) as one left join booking on true`,
);

/** The booking a hold statement inserted, if it did. */
export function heldBooking(
  row:
    | {
        booking_id: number | null;
        amount_cents: number | null;
        expires_at: string | Date | null;
      }
    | undefined,
  seats: SeatRef[],
): Held | undefined {
  if (!row?.booking_id || row.amount_cents === null || row.expires_at === null) return undefined;
  const { booking_id, amount_cents, expires_at } = row;
  return { kind: "held", booking: { booking_id, amount_cents, expires_at }, seats };
}

function interpret(request: HoldRequest, row: StatementRow | undefined): HoldOutcome {
  const seats = row?.seats ?? [];
  const booking = heldBooking(
    row,
    seats.map(({ seat_id, seat_row, seat_number }) => ({ seat_id, seat_row, seat_number })),
  );
  if (booking) return booking;
  // Taken seats are reported before ids that are not seats, as Redis, which knows only the
  // locks, reports them: the answer is the same whichever layer refuses the hold.
  const taken = seats.filter(
    (seat) =>
      seat.status === "BOOKED" ||
      seat.status === "OWED" ||
      (seat.status === "LOCKED" && !seat.lapsed),
  );
  if (taken.length > 0) return { kind: "taken", seatIds: taken.map((seat) => seat.seat_id) };
  if (seats.length !== request.seatIds.length) {
    const found = new Set(seats.map((seat) => seat.seat_id));
    return { kind: "invalid", seatIds: request.seatIds.filter((id) => !found.has(id)) };
  }
  const held = row?.seats_held ?? null;
  if (held !== null && held + request.seatIds.length > request.seatLimit) {
    return { kind: "over_limit", remaining: Math.max(request.seatLimit - held, 0) };
  }
  const lapsed = seats.filter((seat) => seat.status === "LOCKED" && seat.booking_id !== null);
  if (lapsed.length > 0) {
    return {
      kind: "lapsed",
      bookingIds: [...new Set(lapsed.map((seat) => seat.booking_id as number))],
      seatIds: lapsed.map((seat) => seat.seat_id),
    };
  }
  return { kind: "not_on_sale" };
}

/** Runs the hold statement on `db` (the pool, or a transaction) and says what happened. */
export async function runHoldStatement(db: Queryable, request: HoldRequest): Promise<HoldOutcome> {
  const { stamp, ...hold } = request;
  const [row] = await holdStatement.rows(db, { ...hold, ...stamp, seatCount: hold.seatIds.length });
  return interpret(request, row);
}

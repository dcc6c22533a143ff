import { type Placeholder, sql } from "drizzle-orm";
import { type Queryable, Statement } from "../../db/client";
import type { BookingStatus } from "../../db/schema";
import { LOG_COLUMNS, type LogStamp, stampValues } from "./booking-log";
import type { SeatRef } from "./hold-statement";

/**
 * Pay and confirm, each as one statement (one round trip, its own transaction), like the
 * hold. Each locks the caller's booking row first (FOR UPDATE: whoever waited on a concurrent
 * pay, confirm or cancel gets the row as that transaction left it), acts only when the
 * booking allows it, and reports the booking's state so the caller can say why not.
 *
 * Under READ COMMITTED the other reads of a statement that waited for the row lock still see
 * the database as of the statement's start. That is safe here: a payment committed meanwhile
 * is caught by the unique index on one SUCCEEDED payment per booking (the caller answers
 * "already paid"), and a confirm that misses it refuses with 402, which the client retries.
 *
 * Each writes its booking log entry (PAID or PAYMENT_DECLINED, CONFIRMED) in a CTE of its own.
 */

/** What both statements report of the locked booking. */
export interface CheckoutState {
  status: BookingStatus;
  amount_cents: number;
  /** PENDING, but its hold has run out: it must be expired, not paid or confirmed. */
  hold_lapsed: boolean;
  /** A SUCCEEDED payment exists (as of the statement's start). */
  paid: boolean;
}

const lockedBooking = (userId: Placeholder, bookingId: Placeholder) => sql`
  select b.booking_id, b.show_id, b.status::text as status, b.amount_cents,
    b.lock_token::text as lock_token,
    (b.status = 'PENDING' and b.expires_at <= clock_timestamp()) as hold_lapsed,
    exists (select 1 from payments p
            where p.booking_id = b.booking_id and p.status = 'SUCCEEDED') as paid
  from bookings b
  where b.booking_id = ${bookingId} and b.user_id = ${userId}
  for update of b`;

export interface PaymentRequest {
  userId: number;
  bookingId: number;
  amountCents: number;
  status: "SUCCEEDED" | "DECLINED";
  transactionId: string;
}

const paymentStatement = new Statement<
  PaymentRequest & LogStamp,
  CheckoutState & { show_id: number; recorded: boolean }
>(
  ({
    userId,
    bookingId,
    amountCents,
    status,
    transactionId,
    actorUserId,
    actorRole,
    requestId,
  }) => sql`with booking as (${lockedBooking(userId, bookingId)}
    ), payment as (
      insert into payments (booking_id, amount_cents, status, transaction_id)
      select booking_id, amount_cents, ${status}::payment_status, ${transactionId}
      from booking
      where status = 'PENDING' and not hold_lapsed and not paid
        and amount_cents = ${amountCents}
      returning payment_id, booking_id, amount_cents, status, transaction_id
    ), logged_payment as (
      insert into booking_log (${LOG_COLUMNS})
      select booking_id,
        case status when 'SUCCEEDED' then 'PAID'::booking_event else 'PAYMENT_DECLINED' end,
        jsonb_build_object('amount_cents', amount_cents, 'transaction_id', transaction_id),
        ${stampValues({ actorUserId, actorRole, requestId })}
      from payment
    )
    select booking.status, booking.amount_cents, booking.hold_lapsed, booking.paid,
      booking.show_id, exists (select 1 from payment) as recorded
    from booking`,
);

/** Records the payment if the booking is the caller's, PENDING, unpaid and of that amount. */
export async function runPaymentStatement(db: Queryable, request: PaymentRequest, stamp: LogStamp) {
  const [row] = await paymentStatement.rows(db, { ...request, ...stamp });
  return row;
}

const SEATS_MISSING = "confirmed without all of its seats";

export interface Confirmation extends CheckoutState {
  confirmed: boolean;
  show_id: number;
  lock_token: string;
  /** Epoch milliseconds. */
  show_starts_at: number;
  /** The seats now BOOKED, when confirmed. */
  seats: SeatRef[] | null;
}

const confirmStatement = new Statement<
  { userId: number; bookingId: number } & LogStamp,
  Confirmation
>(
  ({
    userId,
    bookingId,
    actorUserId,
    actorRole,
    requestId,
  }) => sql`with booking as (${lockedBooking(userId, bookingId)}
    ), confirmed as (
      update bookings b set status = 'CONFIRMED', updated_at = now()
      from booking
      where b.booking_id = booking.booking_id
        and booking.status = 'PENDING' and not booking.hold_lapsed and booking.paid
      returning b.booking_id, b.show_id
    ), booked as (
      update show_seats ss set status = 'BOOKED', locked_until = null
      from confirmed join booking_seats bs on bs.booking_id = confirmed.booking_id
      where ss.show_id = confirmed.show_id and ss.seat_id = bs.seat_id
        and ss.booking_id = confirmed.booking_id
      returning ss.seat_id, bs.seat_row, bs.seat_number
    ), logged_confirmation as (
      insert into booking_log (${LOG_COLUMNS})
      select booking_id, 'CONFIRMED', null, ${stampValues({ actorUserId, actorRole, requestId })}
      from confirmed
    )
    select booking.status, booking.amount_cents, booking.hold_lapsed, booking.paid,
      booking.show_id, booking.lock_token,
      (extract(epoch from sh.start_time) * 1000)::float8 as show_starts_at,
      exists (select 1 from confirmed) as confirmed,
      (select json_agg(booked order by seat_id) from booked) as seats,
      case when exists (select 1 from confirmed)
            and (select count(*) from booked)
              <> (select count(*) from booking_seats bs where bs.booking_id = booking.booking_id)
        then ('booking ' || booking.booking_id || ': ${sql.raw(SEATS_MISSING)}')::int
      end as guard
    from booking join shows sh on sh.show_id = booking.show_id`,
);

/**
 * Confirms the caller's booking if it is PENDING, within its hold and paid: the booking and its
 * seats (BOOKED) together. If the seats moved fewer rows than the booking has, the statement
 * fails on the guard's cast and rolls back: a paid booking is never confirmed without every
 * one of its seats.
 */
export async function runConfirmStatement(
  db: Queryable,
  userId: number,
  bookingId: number,
  stamp: LogStamp,
) {
  const [row] = await confirmStatement.rows(db, { userId, bookingId, ...stamp });
  return row;
}

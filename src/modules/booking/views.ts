import { type SQL, sql } from "drizzle-orm";
import { type Database, execRows, type Queryable } from "../../db/client";
import type { StaleReads } from "../../db/read-replica";
import type { BookingStatus } from "../../db/schema";
import { notFound } from "../../lib/errors";
import { fromCents } from "../../lib/money";
import { iso } from "../../lib/time";
import { availableSeats, type ShowView, showIsDeleted, totalSeats } from "../catalogue/service";
import { auditLogOf, type BookingLogEntry, buyerEntry, buyerLogColumn } from "./booking-log";
import type { BookingView } from "./schemas";

export type { BookingStatus, BookingView };

interface BookingViewRow {
  booking_id: number;
  user_id: number;
  status: BookingStatus;
  show_id: number;
  amount_cents: number;
  created_at: string | Date;
  expires_at: string | Date;
  seats: BookingView["seats"];
  show: Omit<ShowView, "price" | "start_time" | "end_time" | "sales_open_at"> & {
    sales_open_at: string | null;
    price_cents: number;
    start_time: string;
    end_time: string;
  };
  payment: {
    transaction_id: string;
    amount_cents: number;
    refund_transaction_id: string | null;
  } | null;
}

export interface BookingFilter {
  userId?: number;
  showId?: number;
  status?: BookingStatus;
  page: number;
  limit: number;
}

/**
 * A hold that ran out reads as EXPIRED even before the cleanup job has marked it, just as its
 * seats read as AVAILABLE.
 */
const effectiveStatus = sql`case when b.status = 'PENDING' and b.expires_at <= now()
  then 'EXPIRED' else b.status::text end`;

/**
 * Bookings with their show, event, venue and seats (from booking_seats) in one query; with
 * `withLog`, also each one's booking log as its buyer sees it.
 */
function bookingViewQuery(where: SQL, page: { page: number; limit: number }, withLog = false) {
  return sql`select b.booking_id, b.user_id, ${effectiveStatus} as status, b.show_id,
      b.amount_cents, b.created_at, b.expires_at,
      coalesce((select json_agg(json_build_object('seat_id', bs.seat_id, 'seat_row', bs.seat_row,
                  'seat_number', bs.seat_number) order by bs.seat_id)
                from booking_seats bs where bs.booking_id = b.booking_id), '[]'::json) as seats,
      json_build_object(
        'show_id', shows.show_id, 'start_time', shows.start_time, 'end_time', shows.end_time,
        'sales_open_at', shows.sales_open_at,
        'price_cents', shows.price_cents,
        'event', json_build_object('event_id', e.event_id, 'title', e.title, 'description', e.description),
        'venue', json_build_object('venue_id', v.venue_id, 'venue_name', v.venue_name, 'address', v.address),
        'available_seats', ${availableSeats},
        'total_seats', ${totalSeats},
        'deleted', ${showIsDeleted}
      ) as show,
      (select json_build_object('transaction_id', p.transaction_id,
                'amount_cents', p.amount_cents, 'refund_transaction_id', p.refund_transaction_id)
         from payments p
         where p.booking_id = b.booking_id and p.status in ('SUCCEEDED', 'REFUNDED')
         limit 1) as payment
      ${withLog ? sql`, ${buyerLogColumn(sql`b.booking_id`)} as log` : sql``}
    from bookings b
    join shows on shows.show_id = b.show_id
    join events e on e.event_id = shows.event_id
    join venues v on v.venue_id = shows.venue_id
    where ${where}
    order by b.created_at desc, b.booking_id desc
    limit ${page.limit} offset ${(page.page - 1) * page.limit}`;
}

const toView = (row: BookingViewRow): BookingView => {
  const { price_cents, start_time, end_time, sales_open_at, ...show } = row.show;
  const charge = row.payment;
  return {
    booking_id: row.booking_id,
    user_id: row.user_id,
    status: row.status,
    show_id: row.show_id,
    amount: fromCents(row.amount_cents),
    created_at: iso(row.created_at),
    expires_at: iso(row.expires_at),
    seats: row.seats,
    show: {
      ...show,
      start_time: iso(start_time),
      sales_open_at: sales_open_at ? iso(sales_open_at) : null,
      end_time: iso(end_time),
      price: fromCents(price_cents),
      available_seats: Number(show.available_seats),
      total_seats: Number(show.total_seats),
    },
    payment: charge
      ? { transaction_id: charge.transaction_id, amount: fromCents(charge.amount_cents) }
      : null,
    refund: charge?.refund_transaction_id
      ? { transaction_id: charge.refund_transaction_id, amount: fromCents(charge.amount_cents) }
      : null,
  };
};

export class BookingViews {
  constructor(
    private readonly db: Database,
    private readonly reads: StaleReads,
  ) {}

  /**
   * One booking, with its log (what happened and when), for its owner or an admin; for anyone
   * else it does not exist.
   */
  async get(bookingId: number, viewer: { user_id: number; role: string }) {
    const [row] = await execRows<BookingViewRow & { log: BookingLogEntry[] }>(
      this.db,
      bookingViewQuery(sql`b.booking_id = ${bookingId}`, { page: 1, limit: 1 }, true),
    );
    if (!row || (row.user_id !== viewer.user_id && viewer.role !== "admin")) {
      throw notFound("Booking");
    }
    return { ...toView(row), log: row.log.map(buyerEntry) };
  }

  /** A booking's full log (who acted, in which request, the money's details), for admins. */
  auditLog(bookingId: number) {
    return auditLogOf(this.db, bookingId);
  }

  /** A user's own bookings: on the primary, so a hold just made is in the list. */
  list(filter: BookingFilter) {
    return this.listOn(this.db, filter);
  }

  /** Every user's bookings, for admins: may lag the primary a moment (the read replica). */
  listForAdmin(filter: BookingFilter) {
    return this.reads.run((db) => this.listOn(db, filter));
  }

  private async listOn(db: Queryable, filter: BookingFilter) {
    const conditions = [sql`true`];
    if (filter.userId !== undefined) conditions.push(sql`b.user_id = ${filter.userId}`);
    if (filter.showId !== undefined) conditions.push(sql`b.show_id = ${filter.showId}`);
    if (filter.status !== undefined) conditions.push(sql`${effectiveStatus} = ${filter.status}`);
    const where = sql.join(conditions, sql` and `);
    // A separate count: a window count would make PostgreSQL read every match before paging.
    const [rows, [count]] = await Promise.all([
      execRows<BookingViewRow>(db, bookingViewQuery(where, filter)),
      execRows<{ total: number }>(
        db,
        sql`select count(*)::int as total from bookings b where ${where}`,
      ),
    ]);
    const total = count?.total ?? 0;
    return {
      bookings: rows.map(toView),
      page: filter.page,
      limit: filter.limit,
      total,
    };
  }
}

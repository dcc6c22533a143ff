import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from "drizzle-orm/pg-core";

/*
 * Column and property names are snake_case on purpose: they are the API's field names, so rows
 * serialise without a mapping layer. Money is stored in integer cents (`*_cents`) and turned
 * into a two-decimal number only at the HTTP edge.
 */

export const userRole = pgEnum("user_role", ["user", "admin"]);
/**
 * OWED: freed by a cancel or expiry while people wait for the show, and kept for its waitlist
 * (no booking holds it, no general hold can take it) until enough are owed to serve the first
 * in line, or nobody waits any more.
 */
export const seatStatus = pgEnum("seat_status", ["AVAILABLE", "LOCKED", "BOOKED", "OWED"]);
export const paymentStatus = pgEnum("payment_status", ["SUCCEEDED", "DECLINED", "REFUNDED"]);
export const bookingStatus = pgEnum("booking_status", [
  "PENDING",
  "CONFIRMED",
  "CANCELLED",
  "EXPIRED",
]);

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

export const users = pgTable(
  "users",
  {
    user_id: integer().primaryKey().generatedAlwaysAsIdentity(),
    /** Always stored lower-cased, so the unique index makes emails case-insensitive. */
    email: varchar({ length: 254 }).notNull(),
    name: varchar({ length: 100 }),
    password_hash: text().notNull(),
    role: userRole().notNull().default("user"),
    /** Bumped by logout: every token carries the version it was issued under. */
    token_version: integer().notNull().default(0),
    created_at: createdAt(),
  },
  (table) => [
    uniqueIndex("users_email_key").on(table.email),
    check("users_email_lower", sql`${table.email} = lower(${table.email})`),
  ],
);

/*
 * Venues, seats, events and shows are never deleted, only marked `deleted_at`: bookings,
 * payments and refunds keep pointing at them for a buyer's history and the books. The foreign
 * keys toward them restrict, so not even a stray SQL DELETE can take a booking's trail with it.
 */
const deletedAt = () => timestamp("deleted_at", { withTimezone: true });

export const venues = pgTable("venues", {
  venue_id: integer().primaryKey().generatedAlwaysAsIdentity(),
  venue_name: varchar({ length: 200 }).notNull(),
  address: varchar({ length: 500 }).notNull(),
  created_at: createdAt(),
  /** Set when the venue is deleted: gone from the admin routes and from new shows. */
  deleted_at: deletedAt(),
});

export const seats = pgTable(
  "seats",
  {
    seat_id: integer().primaryKey().generatedAlwaysAsIdentity(),
    venue_id: integer()
      .notNull()
      .references(() => venues.venue_id, { onDelete: "restrict" }),
    seat_row: varchar({ length: 10 }).notNull(),
    seat_number: integer().notNull(),
    /**
     * The layout's own order of preference for best-available holds (lower is better); null
     * leaves the seat to the default order: front rows first, then nearest its row's centre.
     */
    rank: integer(),
    /**
     * Set when the seat is removed from the layout: it leaves the venue's shows, but bookings
     * made for it keep the seat they name.
     */
    deleted_at: deletedAt(),
  },
  // Also the index that lists a venue's layout in row/number order. A removed seat's place
  // can be laid out again.
  (table) => [
    uniqueIndex("seats_venue_row_number_key")
      .on(table.venue_id, table.seat_row, table.seat_number)
      .where(sql`${table.deleted_at} is null`),
  ],
);

export const events = pgTable("events", {
  event_id: integer().primaryKey().generatedAlwaysAsIdentity(),
  title: varchar({ length: 200 }).notNull(),
  description: text(),
  created_at: createdAt(),
  /** Set when the event is deleted (with its shows): gone from the catalog, kept for history. */
  deleted_at: deletedAt(),
});

export const shows = pgTable(
  "shows",
  {
    show_id: integer().primaryKey().generatedAlwaysAsIdentity(),
    event_id: integer()
      .notNull()
      .references(() => events.event_id, { onDelete: "restrict" }),
    // A venue with shows cannot be deleted: its seats are what those shows sell.
    venue_id: integer()
      .notNull()
      .references(() => venues.venue_id, { onDelete: "restrict" }),
    start_time: timestamp({ withTimezone: true }).notNull(),
    end_time: timestamp({ withTimezone: true }).notNull(),
    price_cents: integer().notNull(),
    /** Holds are refused (or pre-queued by the waiting room) before this; null = on sale now. */
    sales_open_at: timestamp({ withTimezone: true }),
    created_at: createdAt(),
    /**
     * Set when the show is deleted: it leaves the catalog and takes no holds, but its bookings,
     * payments and refunds stay.
     */
    deleted_at: deletedAt(),
  },
  (table) => [
    // "Upcoming shows, soonest first" and the from/to search are range scans on start_time.
    index("shows_start_time_idx").on(table.start_time),
    index("shows_event_id_idx").on(table.event_id),
    index("shows_venue_id_idx").on(table.venue_id),
    check("shows_time_order", sql`${table.end_time} > ${table.start_time}`),
    check("shows_price_non_negative", sql`${table.price_cents} >= 0`),
  ],
);

export const bookings = pgTable(
  "bookings",
  {
    booking_id: integer().primaryKey().generatedAlwaysAsIdentity(),
    user_id: integer()
      .notNull()
      .references(() => users.user_id, { onDelete: "cascade" }),
    show_id: integer()
      .notNull()
      .references(() => shows.show_id, { onDelete: "restrict" }),
    status: bookingStatus().notNull().default("PENDING"),
    amount_cents: integer().notNull(),
    expires_at: timestamp({ withTimezone: true }).notNull(),
    /** Owner token of the booking's Redis seat locks: release is compare-and-delete on it. */
    lock_token: uuid().notNull().defaultRandom(),
    created_at: createdAt(),
    updated_at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    // A user's history, newest first.
    index("bookings_user_created_idx").on(table.user_id, table.created_at.desc()),
    // Analytics ranges and the admin list (newest first) are range scans on created_at.
    index("bookings_created_at_idx").on(table.created_at),
    // Seats one user holds or owns for one show: counted by every hold (seats_held_by_user).
    index("bookings_user_show_idx").on(table.user_id, table.show_id),
    // Admin lists, "active bookings of this show" checks, and a show's holds that ran out
    // (every best-available pick asks, so expiry ends the range).
    index("bookings_show_status_expiry_idx").on(table.show_id, table.status, table.expires_at),
    // The cleanup job only ever looks at PENDING holds ordered by expiry: keep that index tiny.
    index("bookings_pending_expiry_idx")
      .on(table.expires_at)
      .where(sql`${table.status} = 'PENDING'`),
    check("bookings_amount_non_negative", sql`${table.amount_cents} >= 0`),
  ],
);

/**
 * One row per (show, seat), created with the show, so a hold always has a row to lock with
 * SELECT ... FOR UPDATE (no phantom inserts). booking_id points at the PENDING/CONFIRMED
 * booking that holds the seat while it is LOCKED or BOOKED; AVAILABLE and OWED seats have none.
 *
 * The hottest table of a sale: every hold, confirm, cancel and expiry updates its rows. No
 * index covers the columns those updates change (status, booking_id, locked_until), and pages
 * keep 20% free (fillfactor 80), so the updates are HOT: no index is touched. A booking's seats
 * are found through booking_seats and the primary key instead of an index on booking_id.
 */
export const showSeats = pgTable(
  "show_seats",
  {
    show_id: integer()
      .notNull()
      .references(() => shows.show_id, { onDelete: "cascade" }),
    seat_id: integer()
      .notNull()
      .references(() => seats.seat_id, { onDelete: "cascade" }),
    status: seatStatus().notNull().default("AVAILABLE"),
    booking_id: integer().references(() => bookings.booking_id, { onDelete: "set null" }),
    locked_until: timestamp({ withTimezone: true }),
  },
  (table) => [
    primaryKey({ columns: [table.show_id, table.seat_id] }),
    // Deleting a seat from a layout checks its rows across shows.
    index("show_seats_seat_idx").on(table.seat_id),
    // Written without naming OWED: a value added to an enum cannot be used in the transaction
    // that adds it, and the migrations run in one.
    check(
      "show_seats_holder_matches_status",
      sql`(${table.status} in ('LOCKED', 'BOOKED')) = (${table.booking_id} is not null)`,
    ),
  ],
);

/**
 * One row per (show, row of seats), created with the show's show_seats rows (a trigger on
 * their insert, see the show_rows migration), for best-available picks of unranked layouts.
 * A picker (pick_adjacent_seats, migration 0016) locks the first row whose
 * `largest_free_hint` says a block may fit, with FOR UPDATE SKIP LOCKED, so concurrent pickers
 * work on different rows; under that lock it reads only the row's seats and writes back the
 * row's longest run of AVAILABLE seats. The hint is never below the truth, except for rows
 * with entries in show_row_releases, which pickers look at too. `ranked`: a seat of the row
 * has a layout rank (such shows are picked by the statement that ranks every seat). Pages
 * keep 90% free (fillfactor 10, set by the migration): every pick updates a row, and the
 * updates stay HOT.
 */
export const showRows = pgTable(
  "show_rows",
  {
    show_id: integer()
      .notNull()
      .references(() => shows.show_id, { onDelete: "cascade" }),
    seat_row: varchar({ length: 10 }).notNull(),
    largest_free_hint: integer().notNull(),
    ranked: boolean().notNull().default(false),
  },
  (table) => [primaryKey({ columns: [table.show_id, table.seat_row] })],
);

/**
 * Seats that became AVAILABLE (a cancel, an expiry, a lapsed offer, owed seats returned)
 * since a picker last read their row: inserted by a trigger on show_seats, so a release never
 * waits for a picker's row lock, and deleted by the picker that reads the row next.
 */
export const showRowReleases = pgTable(
  "show_row_releases",
  {
    show_id: integer().notNull(),
    seat_id: integer().notNull(),
  },
  (table) => [index("show_row_releases_show_idx").on(table.show_id)],
);

/**
 * The seats a booking was made for, copied at hold time. show_seats forgets a booking once it
 * is cancelled or expires; this table is what keeps its seats in the user's history. Row and
 * number are copied so the history survives a later change of the venue's layout.
 */
export const bookingSeats = pgTable(
  "booking_seats",
  {
    booking_id: integer()
      .notNull()
      .references(() => bookings.booking_id, { onDelete: "restrict" }),
    seat_id: integer()
      .notNull()
      .references(() => seats.seat_id, { onDelete: "restrict" }),
    seat_row: varchar({ length: 10 }).notNull(),
    seat_number: integer().notNull(),
  },
  (table) => [primaryKey({ columns: [table.booking_id, table.seat_id] })],
);

/**
 * Simulated payments. A charge that is later refunded keeps its row and becomes REFUNDED, so
 * the money trail of a booking is one row per charge attempt.
 */
export const payments = pgTable(
  "payments",
  {
    payment_id: integer().primaryKey().generatedAlwaysAsIdentity(),
    booking_id: integer()
      .notNull()
      .references(() => bookings.booking_id, { onDelete: "restrict" }),
    amount_cents: integer().notNull(),
    status: paymentStatus().notNull(),
    transaction_id: varchar({ length: 64 }).notNull(),
    refund_transaction_id: varchar({ length: 64 }),
    created_at: createdAt(),
    refunded_at: timestamp({ withTimezone: true }),
  },
  (table) => [
    uniqueIndex("payments_transaction_id_key").on(table.transaction_id),
    index("payments_booking_idx").on(table.booking_id),
    // At most one live charge per booking: paying twice can never take the money twice.
    uniqueIndex("payments_one_success_per_booking")
      .on(table.booking_id)
      .where(sql`${table.status} = 'SUCCEEDED'`),
  ],
);

/**
 * What happened to a booking. HELD and OFFERED (a hold made for the waitlist) start it
 * PENDING; CONFIRMED, CANCELLED and EXPIRED move its status; PAID, PAYMENT_DECLINED and
 * REFUNDED are its money (details carry the amount and transaction id).
 */
export const bookingEvent = pgEnum("booking_event", [
  "HELD",
  "OFFERED",
  "PAID",
  "PAYMENT_DECLINED",
  "CONFIRMED",
  "CANCELLED",
  "EXPIRED",
  "REFUNDED",
]);

/**
 * The booking log: one row per change of a booking, written by the statement that makes the
 * change, in its transaction. Append-only: a trigger (booking_log_append_only migration)
 * refuses UPDATE, DELETE and TRUNCATE. log_id is the order of events: every change of a
 * booking locks its row first, so one booking's entries are written one at a time. The actor
 * is the user who acted (role as of then), null for the system (expiry, waitlist offers);
 * request_id is the X-Request-Id of the HTTP request that caused it, null for the worker.
 */
export const bookingLog = pgTable(
  "booking_log",
  {
    log_id: bigserial({ mode: "number" }).primaryKey(),
    booking_id: integer()
      .notNull()
      .references(() => bookings.booking_id, { onDelete: "restrict" }),
    event: bookingEvent().notNull(),
    at: timestamp({ withTimezone: true }).notNull().default(sql`clock_timestamp()`),
    actor_user_id: integer(),
    actor_role: userRole(),
    request_id: text(),
    details: jsonb(),
  },
  (table) => [index("booking_log_booking_idx").on(table.booking_id, table.log_id)],
);

/**
 * Stored first responses of booking POSTs per (user, Idempotency-Key). A row without a
 * response is a request still in flight.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    user_id: integer()
      .notNull()
      .references(() => users.user_id, { onDelete: "cascade" }),
    key: varchar({ length: 255 }).notNull(),
    request_hash: varchar({ length: 64 }).notNull(),
    response_status: integer(),
    response_body: text(),
    created_at: createdAt(),
  },
  (table) => [
    primaryKey({ columns: [table.user_id, table.key] }),
    // Purging keys older than 24 h scans by age.
    index("idempotency_keys_created_idx").on(table.created_at),
  ],
);

export const waitlistStatus = pgEnum("waitlist_status", [
  "WAITING",
  "OFFERED",
  "FULFILLED",
  "EXPIRED",
  "LEFT",
]);

/**
 * Users waiting for seats of a sold-out show, served FIFO by (created_at, id). An entry is
 * WAITING until freed seats are offered to it (OFFERED, with the PENDING booking of the offer);
 * that booking confirmed → FULFILLED, lapsed or cancelled → EXPIRED; LEFT when the user leaves.
 * A user has at most one active (WAITING or OFFERED) entry per show.
 */
export const waitlistEntries = pgTable(
  "waitlist_entries",
  {
    waitlist_entry_id: integer().primaryKey().generatedAlwaysAsIdentity(),
    show_id: integer()
      .notNull()
      .references(() => shows.show_id, { onDelete: "cascade" }),
    user_id: integer()
      .notNull()
      .references(() => users.user_id, { onDelete: "cascade" }),
    seats_wanted: integer().notNull(),
    status: waitlistStatus().notNull().default("WAITING"),
    booking_id: integer().references(() => bookings.booking_id, { onDelete: "set null" }),
    created_at: createdAt(),
    updated_at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("waitlist_entries_active_key")
      .on(table.show_id, table.user_id)
      .where(sql`${table.status} in ('WAITING', 'OFFERED')`),
    // The head of a show's line, and "does this show have anyone waiting?".
    index("waitlist_entries_waiting_idx")
      .on(table.show_id, table.created_at, table.waitlist_entry_id)
      .where(sql`${table.status} = 'WAITING'`),
    check("waitlist_entries_seats_wanted", sql`${table.seats_wanted} between 1 and 10`),
  ],
);

/** Messages to a user (e.g. WAITLIST_OFFER), listed newest first. */
export const notifications = pgTable(
  "notifications",
  {
    notification_id: integer().primaryKey().generatedAlwaysAsIdentity(),
    user_id: integer()
      .notNull()
      .references(() => users.user_id, { onDelete: "cascade" }),
    kind: varchar({ length: 50 }).notNull(),
    payload: jsonb().notNull(),
    created_at: createdAt(),
    read_at: timestamp({ withTimezone: true }),
  },
  (table) => [
    index("notifications_user_created_idx").on(
      table.user_id,
      table.created_at.desc(),
      table.notification_id.desc(),
    ),
  ],
);

export type User = typeof users.$inferSelect;
export type Venue = typeof venues.$inferSelect;
export type Seat = typeof seats.$inferSelect;
export type Event = typeof events.$inferSelect;
export type Show = typeof shows.$inferSelect;
export type Booking = typeof bookings.$inferSelect;

/** The statuses as TypeScript unions: one definition each, the database enum's. */
export type UserRole = (typeof userRole.enumValues)[number];
export type SeatStatus = (typeof seatStatus.enumValues)[number];
export type BookingStatus = (typeof bookingStatus.enumValues)[number];

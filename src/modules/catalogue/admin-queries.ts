import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Queryable } from "../../db/client";
import {
  type BookingStatus,
  bookings,
  events,
  seats,
  showRowReleases,
  showRows,
  showSeats,
  shows,
  venues,
  waitlistEntries,
} from "../../db/schema";
import { toCents } from "../../lib/money";
import { type Page, seatLayoutOrder, venueView } from "./queries";
import type { EventInput, ShowInput, VenueInput } from "./schemas";

export interface SeatRef {
  seat_id: number;
  seat_row: string;
  seat_number: number;
}

/** Bookings that still hold seats: they block deleting seats or shows. */
const ACTIVE_BOOKING_STATUSES = ["PENDING", "CONFIRMED"] as const satisfies BookingStatus[];

// ---- venues ---------------------------------------------------------------------------------

/** A page of venues (not deleted), in id order, with the total. */
export async function pageOfVenues(db: Queryable, page: Page) {
  const live = isNull(venues.deleted_at);
  const [rows, [count]] = await Promise.all([
    db
      .select()
      .from(venues)
      .where(live)
      .orderBy(venues.venue_id)
      .limit(page.limit)
      .offset((page.page - 1) * page.limit),
    db
      .select({ total: sql<number>`count(*)`.mapWith(Number) })
      .from(venues)
      .where(live),
  ]);
  return { venues: rows.map(venueView), ...page, total: count?.total ?? 0 };
}

export async function findLiveVenue(db: Queryable, venueId: number) {
  const [row] = await db
    .select()
    .from(venues)
    .where(and(eq(venues.venue_id, venueId), isNull(venues.deleted_at)));
  return row;
}

/** The venue's seats (not deleted), in the order a seat map is drawn in. */
export function venueLayout(db: Queryable, venueId: number): Promise<SeatRef[]> {
  return db
    .select({ seat_id: seats.seat_id, seat_row: seats.seat_row, seat_number: seats.seat_number })
    .from(seats)
    .where(and(eq(seats.venue_id, venueId), isNull(seats.deleted_at)))
    .orderBy(...seatLayoutOrder);
}

export async function insertVenue(db: Queryable, input: VenueInput) {
  const [row] = await db.insert(venues).values(input).returning();
  return row;
}

/** The updated venue; undefined for a venue that does not exist or is deleted. */
export async function updateLiveVenue(db: Queryable, venueId: number, input: Partial<VenueInput>) {
  const [row] = await db
    .update(venues)
    .set(input)
    .where(and(eq(venues.venue_id, venueId), isNull(venues.deleted_at)))
    .returning();
  return row;
}

/** Locks the live ones of the venues FOR UPDATE, in id order; how many there were. */
export async function lockLiveVenues(tx: Queryable, venueIds: number[]): Promise<number> {
  const locked = await tx
    .select({ venue_id: venues.venue_id })
    .from(venues)
    .where(and(inArray(venues.venue_id, venueIds), isNull(venues.deleted_at)))
    .orderBy(venues.venue_id)
    .for("update");
  return locked.length;
}

/** Whether a show that is not deleted is scheduled at the venue. */
export async function venueHasLiveShows(tx: Queryable, venueId: number): Promise<boolean> {
  const [show] = await tx
    .select({ show_id: shows.show_id })
    .from(shows)
    .where(and(eq(shows.venue_id, venueId), isNull(shows.deleted_at)))
    .limit(1);
  return show !== undefined;
}

export async function markVenueDeleted(tx: Queryable, venueId: number): Promise<void> {
  await tx.update(venues).set({ deleted_at: sql`now()` }).where(eq(venues.venue_id, venueId));
}

/** The ids of the venue's shows that are not deleted. */
export async function liveShowsAt(db: Queryable, venueId: number): Promise<number[]> {
  const venueShows = await db
    .select({ show_id: shows.show_id })
    .from(shows)
    .where(and(eq(shows.venue_id, venueId), isNull(shows.deleted_at)));
  return venueShows.map((show) => show.show_id);
}

// ---- seats ----------------------------------------------------------------------------------

/** Inserts the seats into the venue's layout; a seat that exists already is a unique violation. */
export function insertSeats(
  tx: Queryable,
  venueId: number,
  wanted: { seat_row: string; seat_number: number; rank?: number }[],
): Promise<SeatRef[]> {
  return tx
    .insert(seats)
    .values(wanted.map((seat) => ({ ...seat, venue_id: venueId })))
    .returning({
      seat_id: seats.seat_id,
      seat_row: seats.seat_row,
      seat_number: seats.seat_number,
    });
}

/** A show_seats row for each of the seats in every live show of the venue. */
export async function addSeatsToShows(
  tx: Queryable,
  venueId: number,
  seatIds: number[],
): Promise<void> {
  await tx.execute(sql`insert into ${showSeats} (show_id, seat_id)
          select ${shows.show_id}, ${seats.seat_id} from ${shows} join ${seats}
            on ${seats.venue_id} = ${shows.venue_id}
          where ${shows.venue_id} = ${venueId} and ${shows.deleted_at} is null
            and ${inArray(seats.seat_id, seatIds)}`);
}

/** Locks those of the seats that are live seats of the venue; their ids. */
export async function lockLiveSeatsOf(
  tx: Queryable,
  venueId: number,
  seatIds: number[],
): Promise<number[]> {
  const found = await tx
    .select({ seat_id: seats.seat_id })
    .from(seats)
    .where(
      and(eq(seats.venue_id, venueId), inArray(seats.seat_id, seatIds), isNull(seats.deleted_at)),
    )
    // Not FOR UPDATE: a hold in flight on these seats has locked their show rows, which the
    // caller waits for next, and still has to insert its booking_seats, whose foreign key check
    // key-share locks these rows; FOR UPDATE would make that a deadlock.
    .for("no key update");
  return found.map((seat) => seat.seat_id);
}

/**
 * Locks the seats' show rows in every show, in the (show, seat) order holds lock them in; the
 * rows that a booking holds.
 */
export async function lockHeldShowSeats(
  tx: Queryable,
  seatIds: number[],
): Promise<{ seat_id: number; booking_id: number | null }[]> {
  return (
    await tx
      .select({ seat_id: showSeats.seat_id, booking_id: showSeats.booking_id })
      .from(showSeats)
      .where(inArray(showSeats.seat_id, seatIds))
      .orderBy(showSeats.show_id, showSeats.seat_id)
      .for("update")
  ).filter((row) => row.booking_id !== null);
}

/** Takes the seats out of every show and marks them deleted (bookings still name them). */
export async function removeSeats(tx: Queryable, seatIds: number[]): Promise<void> {
  await tx.delete(showSeats).where(inArray(showSeats.seat_id, seatIds));
  await tx.update(seats).set({ deleted_at: sql`now()` }).where(inArray(seats.seat_id, seatIds));
}

// ---- events ---------------------------------------------------------------------------------

export async function insertEvent(db: Queryable, input: EventInput) {
  const [row] = await db.insert(events).values(input).returning();
  return row;
}

/** The updated event; undefined for an event that does not exist or is deleted. */
export async function updateLiveEvent(db: Queryable, eventId: number, input: Partial<EventInput>) {
  const [row] = await db
    .update(events)
    .set(input)
    .where(and(eq(events.event_id, eventId), isNull(events.deleted_at)))
    .returning();
  return row;
}

/** Locks the event FOR UPDATE; false for an event that does not exist or is deleted. */
export async function lockLiveEvent(tx: Queryable, eventId: number): Promise<boolean> {
  const [event] = await tx
    .select({ event_id: events.event_id })
    .from(events)
    .where(and(eq(events.event_id, eventId), isNull(events.deleted_at)))
    .for("update");
  return event !== undefined;
}

/** Share-locks the event; undefined for an event that does not exist or is deleted. */
export async function shareLockLiveEvent(db: Queryable, eventId: number) {
  const [row] = await db
    .select()
    .from(events)
    .where(and(eq(events.event_id, eventId), isNull(events.deleted_at)))
    .for("share");
  return row;
}

/** Locks the event's live shows FOR NO KEY UPDATE, in id order; their ids. */
export async function lockLiveShowsOfEvent(tx: Queryable, eventId: number): Promise<number[]> {
  return (
    await tx
      .select({ show_id: shows.show_id })
      .from(shows)
      .where(and(eq(shows.event_id, eventId), isNull(shows.deleted_at)))
      .orderBy(shows.show_id)
      .for("no key update")
  ).map((show) => show.show_id);
}

export async function markEventDeleted(tx: Queryable, eventId: number): Promise<void> {
  await tx.update(events).set({ deleted_at: sql`now()` }).where(eq(events.event_id, eventId));
}

// ---- shows ----------------------------------------------------------------------------------

/** The new show's id. */
export async function insertShow(tx: Queryable, input: ShowInput): Promise<number | undefined> {
  const [show] = await tx
    .insert(shows)
    .values({
      event_id: input.event_id,
      venue_id: input.venue_id,
      start_time: input.start_time,
      end_time: input.end_time,
      sales_open_at: input.sales_open_at ?? null,
      price_cents: toCents(input.price),
    })
    .returning({ show_id: shows.show_id });
  return show?.show_id;
}

/** A show_seats row for each live seat of the venue. */
export function insertShowSeats(db: Queryable, showId: number, venueId: number) {
  return db.execute(sql`insert into ${showSeats} (show_id, seat_id)
    select ${showId}, ${seats.seat_id} from ${seats}
    where ${seats.venue_id} = ${venueId} and ${seats.deleted_at} is null`);
}

/** Locks the show row FOR NO KEY UPDATE; undefined for a show that does not exist or is deleted. */
export async function lockLiveShow(tx: Queryable, showId: number) {
  const [current] = await tx
    .select()
    .from(shows)
    .where(and(eq(shows.show_id, showId), isNull(shows.deleted_at)))
    .for("no key update");
  return current;
}

/**
 * Locks the show row FOR NO KEY UPDATE, reading its id only; false for a show that does not
 * exist or is deleted.
 */
export async function lockLiveShowId(tx: Queryable, showId: number): Promise<boolean> {
  const [show] = await tx
    .select({ show_id: shows.show_id })
    .from(shows)
    .where(and(eq(shows.show_id, showId), isNull(shows.deleted_at)))
    .for("no key update");
  return show !== undefined;
}

/** Whether the show has a booking, whatever its status. */
export async function showHasBookings(tx: Queryable, showId: number): Promise<boolean> {
  const [booking] = await tx
    .select({ booking_id: bookings.booking_id })
    .from(bookings)
    .where(eq(bookings.show_id, showId))
    .limit(1);
  return booking !== undefined;
}

/** Sets what `input` gives; undefined fields stay as they are. */
export async function updateShowRow(
  tx: Queryable,
  showId: number,
  input: Partial<ShowInput>,
): Promise<void> {
  await tx
    .update(shows)
    .set({
      event_id: input.event_id,
      venue_id: input.venue_id,
      start_time: input.start_time,
      end_time: input.end_time,
      sales_open_at: input.sales_open_at,
      price_cents: input.price === undefined ? undefined : toCents(input.price),
    })
    .where(eq(shows.show_id, showId));
}

/**
 * Clears a show's seats before it moves to another venue (it has no active booking), with the
 * best-available rows and release notes made from them: the new venue's seats, inserted next,
 * bring their own rows (the show_seats insert trigger). Rows of the old venue would otherwise
 * stay, and one of them ranked would send every pick of the show to the slower statement.
 */
export async function deleteShowSeatsOf(tx: Queryable, showId: number): Promise<void> {
  await tx.delete(showSeats).where(eq(showSeats.show_id, showId));
  await tx.delete(showRows).where(eq(showRows.show_id, showId));
  await tx.delete(showRowReleases).where(eq(showRowReleases.show_id, showId));
}

// ---- removing shows -------------------------------------------------------------------------

/** Key-share locks the venues of the shows, in id order. */
export async function keyShareLockVenuesOf(tx: Queryable, showIds: number[]): Promise<void> {
  await tx
    .select({ venue_id: venues.venue_id })
    .from(venues)
    .where(
      inArray(
        venues.venue_id,
        tx.select({ venue_id: shows.venue_id }).from(shows).where(inArray(shows.show_id, showIds)),
      ),
    )
    .orderBy(venues.venue_id)
    .for("key share");
}

/** Every seat row of the shows, in the (show, seat) order holds lock them in. */
export async function lockShowSeats(tx: Queryable, showIds: number[]): Promise<void> {
  await tx
    .select({ seat_id: showSeats.seat_id })
    .from(showSeats)
    .where(inArray(showSeats.show_id, showIds))
    .orderBy(showSeats.show_id, showSeats.seat_id)
    .for("update");
}

/** The ids of the shows' PENDING/CONFIRMED bookings. */
export async function activeBookingsOf(tx: Queryable, showIds: number[]): Promise<number[]> {
  const active = await tx
    .select({ booking_id: bookings.booking_id })
    .from(bookings)
    .where(
      and(inArray(bookings.show_id, showIds), inArray(bookings.status, ACTIVE_BOOKING_STATUSES)),
    );
  return active.map((row) => row.booking_id);
}

/** The show's PENDING/CONFIRMED bookings, locked in id order. */
export async function lockActiveBookings(tx: Queryable, showId: number): Promise<void> {
  await tx
    .select({ booking_id: bookings.booking_id })
    .from(bookings)
    .where(and(eq(bookings.show_id, showId), inArray(bookings.status, ACTIVE_BOOKING_STATUSES)))
    .orderBy(bookings.booking_id)
    .for("update");
}

/**
 * Takes shows out of the catalog for good, once their active bookings have ended (under the
 * locks the caller took: AdminService's lockForRemoval). Each keeps its row, marked deleted,
 * and with it its bookings, payments and refunds; its seat rows (what is for sale, not
 * history) go and its waitlist closes.
 */
export async function removeShows(tx: Queryable, showIds: number[]): Promise<void> {
  if (showIds.length === 0) return;
  await tx.delete(showSeats).where(inArray(showSeats.show_id, showIds));
  await tx
    .update(waitlistEntries)
    .set({ status: "EXPIRED", updated_at: sql`now()` })
    .where(
      and(
        inArray(waitlistEntries.show_id, showIds),
        inArray(waitlistEntries.status, ["WAITING", "OFFERED"]),
      ),
    );
  await tx.update(shows).set({ deleted_at: sql`now()` }).where(inArray(shows.show_id, showIds));
}

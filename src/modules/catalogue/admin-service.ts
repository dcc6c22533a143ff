import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Database, Queryable } from "../../db/client";
import { pgErrorCode, UNIQUE_VIOLATION, withRetries } from "../../db/errors";
import type { StaleReads } from "../../db/read-replica";
import {
  type BookingStatus,
  bookings,
  events,
  seats,
  showSeats,
  shows,
  venues,
  waitlistEntries,
} from "../../db/schema";
import type { AfterCommit } from "../../infra/seat-changes";
import { badRequest, conflict, notFound } from "../../lib/errors";
import { toCents } from "../../lib/money";
import { type Actor, endBookings, settleEndedBookings } from "../booking/service";
import { eventView, findShow, type Page, seatLayoutOrder, venueView } from "./queries";
import type { EventInput, ShowInput, VenueInput } from "./schemas";

export type SeatLayoutInput =
  | { rows: { seat_row: string; count: number; start_number?: number }[] }
  | { seats: { seat_row: string; seat_number: number; rank?: number }[] };

interface SeatRef {
  seat_id: number;
  seat_row: string;
  seat_number: number;
}

/** Bookings that still hold seats: they block deleting seats or shows. */
export const ACTIVE_BOOKING_STATUSES = ["PENDING", "CONFIRMED"] as const satisfies BookingStatus[];

export class AdminService {
  constructor(
    private readonly db: Database,
    private readonly after: AfterCommit,
    private readonly reads: StaleReads,
  ) {}

  // ---- venues -------------------------------------------------------------------------------

  async listVenues(page: Page) {
    const live = isNull(venues.deleted_at);
    const [rows, [count]] = await this.reads.run((db) =>
      Promise.all([
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
      ]),
    );
    return { venues: rows.map(venueView), ...page, total: count?.total ?? 0 };
  }

  async getVenue(venueId: number) {
    const venue = await this.requireVenue(this.db, venueId);
    const layout = await this.db
      .select({ seat_id: seats.seat_id, seat_row: seats.seat_row, seat_number: seats.seat_number })
      .from(seats)
      .where(and(eq(seats.venue_id, venueId), isNull(seats.deleted_at)))
      .orderBy(...seatLayoutOrder);
    return { ...venueView(venue), total_seats: layout.length, seats: layout };
  }

  async createVenue(input: VenueInput) {
    const [row] = await this.db.insert(venues).values(input).returning();
    if (!row) throw new Error("venue insert returned no row");
    return venueView(row);
  }

  async updateVenue(venueId: number, input: Partial<VenueInput>) {
    const [row] = await this.db
      .update(venues)
      .set(input)
      .where(and(eq(venues.venue_id, venueId), isNull(venues.deleted_at)))
      .returning();
    if (!row) throw notFound("Venue");
    return venueView(row);
  }

  /**
   * Marks a venue without shows deleted; its seats stay with it, for the bookings that name
   * them. Shows already deleted do not count: they keep their history without a live venue.
   */
  async deleteVenue(venueId: number) {
    await this.db.transaction(async (tx) => {
      // As a show is created: one being scheduled here either commits first and is seen, or
      // waits and finds the venue gone.
      await this.lockVenues(tx, [venueId]);
      const [show] = await tx
        .select({ show_id: shows.show_id })
        .from(shows)
        .where(and(eq(shows.venue_id, venueId), isNull(shows.deleted_at)))
        .limit(1);
      if (show) throw conflict("The venue has shows; delete them first");
      await tx.update(venues).set({ deleted_at: sql`now()` }).where(eq(venues.venue_id, venueId));
    });
  }

  /**
   * Adds seats to a venue's layout, and to every show already scheduled there, so that each
   * (show, seat) keeps its show_seats row. A seat that already exists makes the whole call 409.
   */
  async addSeats(venueId: number, layout: SeatLayoutInput) {
    const wanted =
      "rows" in layout
        ? layout.rows.flatMap((row) =>
            Array.from({ length: row.count }, (_, index) => ({
              seat_row: row.seat_row,
              seat_number: (row.start_number ?? 1) + index,
            })),
          )
        : layout.seats;
    const keys = new Set(wanted.map((seat) => `${seat.seat_row}#${seat.seat_number}`));
    if (keys.size !== wanted.length) throw conflict("The layout lists the same seat twice");
    let result: { venue_id: number; created: number; seats: SeatRef[] };
    try {
      result = await this.db.transaction(async (tx) => {
        await this.lockVenues(tx, [venueId]);
        const created = await tx
          .insert(seats)
          .values(wanted.map((seat) => ({ ...seat, venue_id: venueId })))
          .returning({
            seat_id: seats.seat_id,
            seat_row: seats.seat_row,
            seat_number: seats.seat_number,
          });
        await tx.execute(sql`insert into ${showSeats} (show_id, seat_id)
          select ${shows.show_id}, ${seats.seat_id} from ${shows} join ${seats}
            on ${seats.venue_id} = ${shows.venue_id}
          where ${shows.venue_id} = ${venueId} and ${shows.deleted_at} is null
            and ${inArray(
              seats.seat_id,
              created.map((seat) => seat.seat_id),
            )}`);
        return { venue_id: venueId, created: created.length, seats: created };
      });
    } catch (error) {
      if (pgErrorCode(error) === UNIQUE_VIOLATION) {
        throw conflict("Some of these seats already exist in the venue");
      }
      throw error;
    }
    await this.layoutChanged(venueId);
    return result;
  }

  /**
   * Removes seats from a layout unless an active booking holds one of them: they leave every
   * show of the venue, and are marked deleted rather than deleted, so bookings made for them
   * still name a seat row. A seat already removed is no longer a seat of the venue (400).
   */
  async deleteSeats(venueId: number, seatIds: number[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.lockVenues(tx, [venueId]);
      const found = await tx
        .select({ seat_id: seats.seat_id })
        .from(seats)
        .where(
          and(
            eq(seats.venue_id, venueId),
            inArray(seats.seat_id, seatIds),
            isNull(seats.deleted_at),
          ),
        )
        // Not FOR UPDATE: a hold in flight on these seats has locked their show rows, which
        // we wait for below, and still has to insert its booking_seats, whose foreign key check
        // key-share locks these rows; FOR UPDATE would make that a deadlock.
        .for("no key update");
      const foundIds = new Set(found.map((seat) => seat.seat_id));
      const invalid = seatIds.filter((id) => !foundIds.has(id));
      if (invalid.length > 0) {
        throw badRequest("Some seats are not seats of this venue", { invalid_seats: invalid });
      }
      // Locking the seats' show rows waits out any hold in flight on them, so the check below
      // sees it (holds lock show_seats rows, not seats rows), in the order holds lock them.
      const held = (
        await tx
          .select({ seat_id: showSeats.seat_id, booking_id: showSeats.booking_id })
          .from(showSeats)
          .where(inArray(showSeats.seat_id, seatIds))
          .orderBy(showSeats.show_id, showSeats.seat_id)
          .for("update")
      ).filter((row) => row.booking_id !== null);
      if (held.length > 0) {
        throw conflict("Some seats are held or booked by active bookings", {
          held_seats: [...new Set(held.map((seat) => seat.seat_id))],
        });
      }
      await tx.delete(showSeats).where(inArray(showSeats.seat_id, seatIds));
      await tx.update(seats).set({ deleted_at: sql`now()` }).where(inArray(seats.seat_id, seatIds));
    });
    await this.layoutChanged(venueId);
  }

  /** Every show at the venue now has a different seat map. */
  private async layoutChanged(venueId: number) {
    const venueShows = await this.db
      .select({ show_id: shows.show_id })
      .from(shows)
      .where(and(eq(shows.venue_id, venueId), isNull(shows.deleted_at)));
    await Promise.all(
      venueShows.map((show) =>
        this.after.seatsChanged({ showId: show.show_id, layoutChanged: true }),
      ),
    );
  }

  // ---- events -------------------------------------------------------------------------------

  async createEvent(input: EventInput) {
    const [row] = await this.db.insert(events).values(input).returning();
    if (!row) throw new Error("event insert returned no row");
    return eventView(row);
  }

  async updateEvent(eventId: number, input: Partial<EventInput>) {
    const [row] = await this.db
      .update(events)
      .set(input)
      .where(and(eq(events.event_id, eventId), isNull(events.deleted_at)))
      .returning();
    if (!row) throw notFound("Event");
    return eventView(row);
  }

  /**
   * Marks an event and its shows deleted (see removeShows), unless one of its shows has active
   * bookings.
   */
  async deleteEvent(eventId: number) {
    const removed = await this.db.transaction(async (tx) => {
      const [event] = await tx
        .select({ event_id: events.event_id })
        .from(events)
        .where(and(eq(events.event_id, eventId), isNull(events.deleted_at)))
        .for("update");
      if (!event) throw notFound("Event");
      // Locked like deleteShow locks its show: a concurrent change to one of them (moving it
      // to another event, deleting it) finishes first, and is seen.
      const liveShows = (
        await tx
          .select({ show_id: shows.show_id })
          .from(shows)
          .where(and(eq(shows.event_id, eventId), isNull(shows.deleted_at)))
          .orderBy(shows.show_id)
          .for("no key update")
      ).map((show) => show.show_id);
      if ((await lockForRemoval(tx, liveShows)).length > 0) {
        throw conflict("The event has shows with active bookings; delete those shows first");
      }
      await removeShows(tx, liveShows);
      await tx.update(events).set({ deleted_at: sql`now()` }).where(eq(events.event_id, eventId));
      return liveShows;
    });
    await Promise.all(
      removed.map((showId) => this.after.seatsChanged({ showId, layoutChanged: true })),
    );
  }

  // ---- shows --------------------------------------------------------------------------------

  /** Creates the show and, in the same transaction and one statement, a show_seats row per seat. */
  async createShow(input: ShowInput) {
    assertTimeOrder(input.start_time, input.end_time, input.sales_open_at);
    const showId = await this.db.transaction(async (tx) => {
      await this.requireEvent(tx, input.event_id);
      await this.lockVenues(tx, [input.venue_id]);
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
      if (!show) throw new Error("show insert returned no row");
      await insertShowSeats(tx, show.show_id, input.venue_id);
      return show.show_id;
    });
    return findShow(this.db, showId);
  }

  async updateShow(showId: number, input: Partial<ShowInput>) {
    await this.db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(shows)
        .where(and(eq(shows.show_id, showId), isNull(shows.deleted_at)))
        .for("no key update");
      if (!current) throw notFound("Show");
      assertTimeOrder(
        input.start_time ?? current.start_time,
        input.end_time ?? current.end_time,
        input.sales_open_at === undefined ? current.sales_open_at : input.sales_open_at,
      );
      if (input.event_id !== undefined) await this.requireEvent(tx, input.event_id);
      const venueChanges = input.venue_id !== undefined && input.venue_id !== current.venue_id;
      if (venueChanges && input.venue_id !== undefined) {
        // Both venues, as their layout changes lock them: seats added to the old venue meanwhile
        // either commit first (their show rows are replaced below) or wait and skip the show.
        await this.lockVenues(tx, [current.venue_id, input.venue_id]);
        // Holds in flight hold some seat rows: wait for them, so the check below sees their
        // bookings; no new hold starts on the show until the move commits.
        await lockShowSeats(tx, [showId]);
        const [booking] = await tx
          .select({ booking_id: bookings.booking_id })
          .from(bookings)
          .where(eq(bookings.show_id, showId))
          .limit(1);
        if (booking) throw conflict("A show with bookings cannot move to another venue");
      }
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
      if (venueChanges && input.venue_id !== undefined) {
        await tx.delete(showSeats).where(eq(showSeats.show_id, showId));
        await insertShowSeats(tx, showId, input.venue_id);
      }
    });
    await this.after.seatsChanged({ showId, layoutChanged: true });
    return findShow(this.db, showId);
  }

  /**
   * Marks a show deleted (see removeShows); with active bookings only when forced, which
   * cancels and refunds them first (the booking log names `admin` as who cancelled).
   */
  async deleteShow(showId: number, force: boolean, admin: Actor) {
    // Retried on deadlock: a booking made while the deletion waits for the seats is locked
    // after them, the reverse of a cancel or confirm of it at the same moment.
    const cancelled = await withRetries(() =>
      this.db.transaction(async (tx) => {
        // Not FOR UPDATE: a transaction holding seat rows we wait for below (a cancel making a
        // waitlist offer) still has to insert its booking, whose foreign key check key-share
        // locks this row. Updates and deletions of the show still queue behind this lock.
        const [show] = await tx
          .select({ show_id: shows.show_id })
          .from(shows)
          .where(and(eq(shows.show_id, showId), isNull(shows.deleted_at)))
          .for("no key update");
        if (!show) throw notFound("Show");
        // Cancels and confirms lock their booking before its seats: the bookings to end are
        // locked first here too, so one in flight finishes before the deletion takes a seat.
        if (force) await lockActiveBookings(tx, showId);
        const active = await lockForRemoval(tx, [showId]);
        if (active.length > 0 && !force) {
          throw conflict("The show has active bookings; repeat with ?force=true to cancel them");
        }
        // No waitlist offers: the show and its waitlist go with it.
        const ended = await endBookings(tx, active, "CANCELLED", { by: admin });
        await removeShows(tx, [showId]);
        return ended;
      }),
    );
    await settleEndedBookings(cancelled, this.after);
    await this.after.seatsChanged({ showId, layoutChanged: true });
  }

  private async requireVenue(db: Queryable, venueId: number) {
    const [row] = await db
      .select()
      .from(venues)
      .where(and(eq(venues.venue_id, venueId), isNull(venues.deleted_at)));
    if (!row) throw notFound("Venue");
    return row;
  }

  /**
   * Locks the venues FOR UPDATE, in id order; 404 if one is gone or deleted. Every layout
   * change, venue deletion, show
   * creation and venue move takes it: layout changes serialise with what reads the layout, so
   * no seat is missed, and a venue's new seat ids commit in increasing order (the seat map's
   * layout fingerprint, seatSetFingerprint, relies on it).
   */
  private async lockVenues(tx: Queryable, venueIds: number[]) {
    const locked = await tx
      .select({ venue_id: venues.venue_id })
      .from(venues)
      .where(and(inArray(venues.venue_id, venueIds), isNull(venues.deleted_at)))
      .orderBy(venues.venue_id)
      .for("update");
    if (locked.length < new Set(venueIds).size) throw notFound("Venue");
  }

  /** Share-locked: a deletion of the event in flight finishes first, and is seen. */
  private async requireEvent(db: Queryable, eventId: number) {
    const [row] = await db
      .select()
      .from(events)
      .where(and(eq(events.event_id, eventId), isNull(events.deleted_at)))
      .for("share");
    if (!row) throw notFound("Event");
    return row;
  }
}

function assertTimeOrder(start: Date, end: Date, salesOpenAt?: Date | null) {
  if (end <= start) {
    throw badRequest("end_time must be after start_time", {
      end_time: "must be after start_time",
    });
  }
  if (salesOpenAt && salesOpenAt >= start) {
    throw badRequest("sales_open_at must be before start_time", {
      sales_open_at: "must be before start_time",
    });
  }
}

/**
 * The PENDING/CONFIRMED bookings of shows about to go (their rows already locked by the
 * caller), read once nothing else can add to them. First the shows' venues are key-share
 * locked, so a layout change (which locks its venue FOR UPDATE) cannot add seat rows behind
 * us; then every seat row of the shows, in the (show, seat) order holds lock them in: a hold
 * in flight holds some of those rows, so this waits for it and then sees its booking, and no
 * new hold can start on these shows until the caller's transaction ends.
 */
async function lockForRemoval(tx: Queryable, showIds: number[]): Promise<number[]> {
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
  await lockShowSeats(tx, showIds);
  const active = await tx
    .select({ booking_id: bookings.booking_id })
    .from(bookings)
    .where(
      and(inArray(bookings.show_id, showIds), inArray(bookings.status, ACTIVE_BOOKING_STATUSES)),
    );
  return active.map((row) => row.booking_id);
}

/** The show's PENDING/CONFIRMED bookings, locked in id order. */
async function lockActiveBookings(tx: Queryable, showId: number): Promise<void> {
  await tx
    .select({ booking_id: bookings.booking_id })
    .from(bookings)
    .where(and(eq(bookings.show_id, showId), inArray(bookings.status, ACTIVE_BOOKING_STATUSES)))
    .orderBy(bookings.booking_id)
    .for("update");
}

/** Every seat row of the shows, in the (show, seat) order holds lock them in. */
async function lockShowSeats(tx: Queryable, showIds: number[]): Promise<void> {
  await tx
    .select({ seat_id: showSeats.seat_id })
    .from(showSeats)
    .where(inArray(showSeats.show_id, showIds))
    .orderBy(showSeats.show_id, showSeats.seat_id)
    .for("update");
}

/**
 * Takes shows out of the catalog for good, once their active bookings have ended (under the
 * locks lockForRemoval took). Each keeps its row, marked deleted, and with it its bookings,
 * payments and refunds; its seat rows (what is for sale, not history) go and its waitlist
 * closes.
 */
async function removeShows(tx: Queryable, showIds: number[]): Promise<void> {
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

function insertShowSeats(db: Queryable, showId: number, venueId: number) {
  return db.execute(sql`insert into ${showSeats} (show_id, seat_id)
    select ${showId}, ${seats.seat_id} from ${seats}
    where ${seats.venue_id} = ${venueId} and ${seats.deleted_at} is null`);
}

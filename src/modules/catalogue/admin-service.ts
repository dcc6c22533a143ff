import type { Database, Queryable } from "../../db/client";
import { pgErrorCode, UNIQUE_VIOLATION, withRetries } from "../../db/errors";
import type { StaleReads } from "../../db/read-replica";
import type { AfterCommit } from "../../infra/seat-changes";
import { badRequest, conflict, notFound } from "../../lib/errors";
import { type Actor, endBookings, settleEndedBookings } from "../booking/service";
import {
  activeBookingsOf,
  addSeatsToShows,
  deleteShowSeatsOf,
  findLiveVenue,
  insertEvent,
  insertSeats,
  insertShow,
  insertShowSeats,
  insertVenue,
  keyShareLockVenuesOf,
  liveShowsAt,
  lockActiveBookings,
  lockHeldShowSeats,
  lockLiveEvent,
  lockLiveSeatsOf,
  lockLiveShow,
  lockLiveShowId,
  lockLiveShowsOfEvent,
  lockLiveVenues,
  lockShowSeats,
  markEventDeleted,
  markVenueDeleted,
  pageOfVenues,
  removeSeats,
  removeShows,
  type SeatRef,
  shareLockLiveEvent,
  showHasBookings,
  updateLiveEvent,
  updateLiveVenue,
  updateShowRow,
  venueHasLiveShows,
  venueLayout,
} from "./admin-queries";
import { eventView, findShow, type Page, venueView } from "./queries";
import type { EventInput, ShowInput, VenueInput } from "./schemas";

export type SeatLayoutInput =
  | { rows: { seat_row: string; count: number; start_number?: number }[] }
  | { seats: { seat_row: string; seat_number: number; rank?: number }[] };

export class AdminService {
  constructor(
    private readonly db: Database,
    private readonly after: AfterCommit,
    private readonly reads: StaleReads,
  ) {}

  // ---- venues -------------------------------------------------------------------------------

  listVenues(page: Page) {
    return this.reads.run((db) => pageOfVenues(db, page));
  }

  async getVenue(venueId: number) {
    const venue = await this.requireVenue(this.db, venueId);
    const layout = await venueLayout(this.db, venueId);
    return { ...venueView(venue), total_seats: layout.length, seats: layout };
  }

  async createVenue(input: VenueInput) {
    const row = await insertVenue(this.db, input);
    if (!row) throw new Error("venue insert returned no row");
    return venueView(row);
  }

  async updateVenue(venueId: number, input: Partial<VenueInput>) {
    const row = await updateLiveVenue(this.db, venueId, input);
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
      if (await venueHasLiveShows(tx, venueId)) {
        throw conflict("The venue has shows; delete them first");
      }
      await markVenueDeleted(tx, venueId);
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
        const created = await insertSeats(tx, venueId, wanted);
        await addSeatsToShows(
          tx,
          venueId,
          created.map((seat) => seat.seat_id),
        );
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
      // FOR NO KEY UPDATE, not FOR UPDATE: see lockLiveSeatsOf (a deadlock with holds).
      const foundIds = new Set(await lockLiveSeatsOf(tx, venueId, seatIds));
      const invalid = seatIds.filter((id) => !foundIds.has(id));
      if (invalid.length > 0) {
        throw badRequest("Some seats are not seats of this venue", { invalid_seats: invalid });
      }
      // Locking the seats' show rows waits out any hold in flight on them, so the check below
      // sees it (holds lock show_seats rows, not seats rows), in the order holds lock them.
      const held = await lockHeldShowSeats(tx, seatIds);
      if (held.length > 0) {
        throw conflict("Some seats are held or booked by active bookings", {
          held_seats: [...new Set(held.map((seat) => seat.seat_id))],
        });
      }
      await removeSeats(tx, seatIds);
    });
    await this.layoutChanged(venueId);
  }

  /** Every show at the venue now has a different seat map. */
  private async layoutChanged(venueId: number) {
    const venueShows = await liveShowsAt(this.db, venueId);
    await Promise.all(
      venueShows.map((showId) => this.after.seatsChanged({ showId, layoutChanged: true })),
    );
  }

  // ---- events -------------------------------------------------------------------------------

  async createEvent(input: EventInput) {
    const row = await insertEvent(this.db, input);
    if (!row) throw new Error("event insert returned no row");
    return eventView(row);
  }

  async updateEvent(eventId: number, input: Partial<EventInput>) {
    const row = await updateLiveEvent(this.db, eventId, input);
    if (!row) throw notFound("Event");
    return eventView(row);
  }

  /**
   * Marks an event and its shows deleted (see removeShows), unless one of its shows has active
   * bookings.
   */
  async deleteEvent(eventId: number) {
    const removed = await this.db.transaction(async (tx) => {
      if (!(await lockLiveEvent(tx, eventId))) throw notFound("Event");
      // Locked like deleteShow locks its show: a concurrent change to one of them (moving it
      // to another event, deleting it) finishes first, and is seen.
      const liveShows = await lockLiveShowsOfEvent(tx, eventId);
      if ((await lockForRemoval(tx, liveShows)).length > 0) {
        throw conflict("The event has shows with active bookings; delete those shows first");
      }
      await removeShows(tx, liveShows);
      await markEventDeleted(tx, eventId);
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
      const newShowId = await insertShow(tx, input);
      if (newShowId === undefined) throw new Error("show insert returned no row");
      await insertShowSeats(tx, newShowId, input.venue_id);
      return newShowId;
    });
    return findShow(this.db, showId);
  }

  async updateShow(showId: number, input: Partial<ShowInput>) {
    await this.db.transaction(async (tx) => {
      const current = await lockLiveShow(tx, showId);
      if (!current) throw notFound("Show");
      assertTimeOrder(
        input.start_time ?? current.start_time,
        input.end_time ?? current.end_time,
        input.sales_open_at === undefined ? current.sales_open_at : input.sales_open_at,
      );
      if (input.event_id !== undefined) await this.requireEvent(tx, input.event_id);
      const newVenueId = input.venue_id !== current.venue_id ? input.venue_id : undefined;
      if (newVenueId !== undefined) {
        // Both venues, as their layout changes lock them: seats added to the old venue meanwhile
        // either commit first (their show rows are replaced below) or wait and skip the show.
        await this.lockVenues(tx, [current.venue_id, newVenueId]);
        // Holds in flight hold some seat rows: wait for them, so the check below sees their
        // bookings; no new hold starts on the show until the move commits.
        await lockShowSeats(tx, [showId]);
        if (await showHasBookings(tx, showId))
          throw conflict("A show with bookings cannot move to another venue");
      }
      await updateShowRow(tx, showId, input);
      if (newVenueId !== undefined) {
        await deleteShowSeatsOf(tx, showId);
        await insertShowSeats(tx, showId, newVenueId);
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
        if (!(await lockLiveShowId(tx, showId))) throw notFound("Show");
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
    const row = await findLiveVenue(db, venueId);
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
    const locked = await lockLiveVenues(tx, venueIds);
    if (locked < new Set(venueIds).size) throw notFound("Venue");
  }

  /** Share-locked: a deletion of the event in flight finishes first, and is seen. */
  private async requireEvent(db: Queryable, eventId: number) {
    const row = await shareLockLiveEvent(db, eventId);
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
  await keyShareLockVenuesOf(tx, showIds);
  await lockShowSeats(tx, showIds);
  return activeBookingsOf(tx, showIds);
}

import type { StaleReads } from "../../db/read-replica";
import {
  findEvent,
  findShow,
  type Page,
  pageOfEvents,
  pageOfShows,
  type ShowSearch,
  searchCondition,
  upcoming,
} from "./queries";

// What other modules may build on: the show and seat views, and the SQL fragments that count
// and order seats the way the catalogue does.
export {
  availableSeats,
  effectiveSeatStatus,
  findShow,
  type Page,
  type SeatView,
  type ShowView,
  seatLayoutOrder,
  showIsDeleted,
  totalSeats,
} from "./queries";

/**
 * What anyone browsing sees: shows, search, events. A moment's lag is harmless here (the seat
 * map, which decides what a buyer tries to hold, is read from the primary), so all of it runs
 * on the read replica when there is one.
 */
export class CatalogService {
  constructor(private readonly reads: StaleReads) {}

  listUpcoming(page: Page) {
    return this.reads.run((db) => pageOfShows(db, upcoming(), page));
  }

  search(query: ShowSearch) {
    return this.reads.run((db) => pageOfShows(db, searchCondition(query), query));
  }

  getShow(showId: number) {
    return this.reads.run((db) => findShow(db, showId));
  }

  listEvents(page: Page) {
    return this.reads.run((db) => pageOfEvents(db, page));
  }

  getEvent(eventId: number) {
    return this.reads.run((db) => findEvent(db, eventId));
  }
}

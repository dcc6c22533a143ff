import { and, asc, eq, gte, ilike, isNull, lte, type SQL, sql } from "drizzle-orm";
import type { Queryable } from "../../db/client";
import { events, seats, showSeats, shows, venues } from "../../db/schema";
import { notFound } from "../../lib/errors";
import { fromCents } from "../../lib/money";
import { iso } from "../../lib/time";
import type { EventView, SeatView, ShowView, VenueView } from "./schemas";

export type { SeatView, ShowView };

export interface Page {
  page: number;
  limit: number;
}

export interface ShowSearch extends Page {
  event?: string;
  venue?: string;
  from?: Date;
  to?: Date;
  availability?: "available";
}

/**
 * A seat whose hold ran out counts as AVAILABLE even before the cleanup job has expired it,
 * so nobody ever sees a seat stuck as LOCKED. A seat owed to the waitlist shows as LOCKED: it
 * is not for sale, and whom it is kept for is nobody else's business.
 */
export const effectiveSeatStatus = sql<SeatView["status"]>`case
  when ${showSeats.status} = 'LOCKED' and ${showSeats.locked_until} <= now() then 'AVAILABLE'
  when ${showSeats.status} = 'OWED' then 'LOCKED'
  else ${showSeats.status}::text end`;

const seatIsFree = sql`(${showSeats.status} = 'AVAILABLE'
  or (${showSeats.status} = 'LOCKED' and ${showSeats.locked_until} <= now()))`;

export const availableSeats = sql<number>`(select count(*) from ${showSeats}
  where ${showSeats.show_id} = ${shows.show_id} and ${seatIsFree})`.mapWith(Number);
export const totalSeats = sql<number>`(select count(*) from ${showSeats}
  where ${showSeats.show_id} = ${shows.show_id})`.mapWith(Number);

export const showIsDeleted = sql<boolean>`(${shows.deleted_at} is not null)`;

/** Row A..Z before AA..ZZ, then by number: the order a seat map is drawn in. */
export const seatLayoutOrder = [
  asc(sql`length(${seats.seat_row})`),
  asc(seats.seat_row),
  asc(seats.seat_number),
];

/** `%` and `_` typed by a user match themselves, not "anything". */
const escapeLike = (term: string) => term.replace(/[\\%_]/g, (char) => `\\${char}`);

/** Deleted shows and events (kept for their booking history) are not in the catalog. */
const liveShow = () => isNull(shows.deleted_at);
const liveEvent = () => isNull(events.deleted_at);

function showRows(db: Queryable) {
  return db
    .select({
      show_id: shows.show_id,
      start_time: shows.start_time,
      end_time: shows.end_time,
      sales_open_at: shows.sales_open_at,
      price_cents: shows.price_cents,
      event_id: events.event_id,
      title: events.title,
      description: events.description,
      venue_id: venues.venue_id,
      venue_name: venues.venue_name,
      address: venues.address,
      available_seats: availableSeats,
      total_seats: totalSeats,
      deleted: showIsDeleted,
    })
    .from(shows)
    .innerJoin(events, eq(events.event_id, shows.event_id))
    .innerJoin(venues, eq(venues.venue_id, shows.venue_id));
}

type ShowRow = Awaited<ReturnType<ReturnType<typeof showRows>["execute"]>>[number];

const toShowView = (row: ShowRow): ShowView => ({
  show_id: row.show_id,
  start_time: iso(row.start_time),
  end_time: iso(row.end_time),
  sales_open_at: row.sales_open_at ? iso(row.sales_open_at) : null,
  price: fromCents(row.price_cents),
  event: { event_id: row.event_id, title: row.title, description: row.description },
  venue: { venue_id: row.venue_id, venue_name: row.venue_name, address: row.address },
  available_seats: row.available_seats,
  total_seats: row.total_seats,
  deleted: row.deleted,
});

export async function findShow(db: Queryable, showId: number): Promise<ShowView> {
  const [row] = await showRows(db).where(and(eq(shows.show_id, showId), liveShow()));
  if (!row) throw notFound("Show");
  return toShowView(row);
}

const countShows = (db: Queryable, where: SQL | undefined) =>
  db
    .select({ total: sql<number>`count(*)`.mapWith(Number) })
    .from(shows)
    .innerJoin(events, eq(events.event_id, shows.event_id))
    .innerJoin(venues, eq(venues.venue_id, shows.venue_id))
    .where(where);

/** Shows on sale: not started, not deleted. */
export const upcoming = () => sql`${shows.start_time} > now() and ${liveShow()}`;

/** What a show search asks for, as one condition. */
export function searchCondition(query: ShowSearch): SQL | undefined {
  const conditions: SQL[] = [upcoming()];
  if (query.event) conditions.push(ilike(events.title, `%${escapeLike(query.event)}%`));
  if (query.venue) conditions.push(ilike(venues.venue_name, `%${escapeLike(query.venue)}%`));
  if (query.from) conditions.push(gte(shows.start_time, query.from));
  if (query.to) conditions.push(lte(shows.start_time, query.to));
  if (query.availability === "available") conditions.push(sql`${availableSeats} > 0`);
  return and(...conditions);
}

/** A page of the shows `where` selects, soonest first, with the total. */
export async function pageOfShows(db: Queryable, where: SQL | undefined, page: Page) {
  const [rows, [count]] = await Promise.all([
    showRows(db)
      .where(where)
      .orderBy(asc(shows.start_time), asc(shows.show_id))
      .limit(page.limit)
      .offset((page.page - 1) * page.limit),
    countShows(db, where),
  ]);
  return {
    shows: rows.map(toShowView),
    page: page.page,
    limit: page.limit,
    total: count?.total ?? 0,
  };
}

/** A page of events (not deleted), each with its upcoming shows. */
export async function pageOfEvents(db: Queryable, page: Page) {
  const [rows, [count]] = await Promise.all([
    db
      .select()
      .from(events)
      .where(liveEvent())
      .orderBy(asc(events.event_id))
      .limit(page.limit)
      .offset((page.page - 1) * page.limit),
    db
      .select({ total: sql<number>`count(*)`.mapWith(Number) })
      .from(events)
      .where(liveEvent()),
  ]);
  const upcomingShows = await upcomingShowsOf(
    db,
    rows.map((row) => row.event_id),
  );
  return {
    events: rows.map((row) => ({
      ...eventView(row),
      shows: upcomingShows.filter((show) => show.event.event_id === row.event_id),
    })),
    ...page,
    total: count?.total ?? 0,
  };
}

/** One event (not deleted) with its upcoming shows; 404 otherwise. */
export async function findEvent(db: Queryable, eventId: number) {
  const [row] = await db
    .select()
    .from(events)
    .where(and(eq(events.event_id, eventId), liveEvent()));
  if (!row) throw notFound("Event");
  return { ...eventView(row), shows: await upcomingShowsOf(db, [eventId]) };
}

export const eventView = (row: typeof events.$inferSelect): EventView => ({
  event_id: row.event_id,
  title: row.title,
  description: row.description,
  created_at: iso(row.created_at),
});

export const venueView = (row: typeof venues.$inferSelect): VenueView => ({
  venue_id: row.venue_id,
  venue_name: row.venue_name,
  address: row.address,
  created_at: iso(row.created_at),
});

async function upcomingShowsOf(db: Queryable, eventIds: number[]): Promise<ShowView[]> {
  if (eventIds.length === 0) return [];
  const rows = await showRows(db)
    .where(and(upcoming(), sql`${shows.event_id} in ${eventIds}`))
    .orderBy(asc(shows.start_time), asc(shows.show_id));
  return rows.map(toShowView);
}

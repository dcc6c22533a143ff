import type { Database } from "../db/client";
import { venues } from "../db/schema";
import type { Services } from "./facades";

export const DEMO_USER = {
  email: "user@evently.local",
  password: "user-password-1",
  name: "Demo User",
};
export const DEMO_ADMIN = {
  email: "admin@evently.local",
  password: "admin-password-1",
  name: "Demo Admin",
};

const rowsOf = (letters: string, count: number) =>
  [...letters].map((seat_row) => ({ seat_row, count }));

const DAY_MS = 86_400_000;

async function hasVenues(db: Database): Promise<boolean> {
  const [venue] = await db.select({ venue_id: venues.venue_id }).from(venues).limit(1);
  return venue !== undefined;
}

/** Demo data for a first embedded start: two venues, three events, upcoming shows, two users. */
export async function seedDemoData(
  db: Database,
  { admin, auth }: Pick<Services, "admin" | "auth">,
): Promise<boolean> {
  if (await hasVenues(db)) return false;

  const hall = await admin.createVenue({ venue_name: "Grand Hall", address: "1 Symphony Way" });
  await admin.addSeats(hall.venue_id, { rows: rowsOf("ABCDEFGHIJ", 20) });
  const club = await admin.createVenue({ venue_name: "Riverside Club", address: "42 Quay Street" });
  await admin.addSeats(club.venue_id, { rows: rowsOf("ABCDE", 12) });

  const concert = await admin.createEvent({
    title: "Symphony Night",
    description: "Beethoven's 9th by the City Orchestra",
  });
  const rock = await admin.createEvent({
    title: "Indie Rock Live",
    description: "Three bands, one night",
  });
  const comedy = await admin.createEvent({ title: "Comedy Gala", description: null });

  const at = (days: number, hours: number) =>
    new Date(Date.now() + days * DAY_MS + hours * 3_600_000);
  const schedule = [
    { event: concert, venue: hall, day: 3, price: 79.5 },
    { event: concert, venue: hall, day: 10, price: 89 },
    { event: rock, venue: club, day: 5, price: 35 },
    { event: rock, venue: club, day: 6, price: 35 },
    { event: comedy, venue: hall, day: 14, price: 25.99 },
  ];
  for (const show of schedule) {
    await admin.createShow({
      event_id: show.event.event_id,
      venue_id: show.venue.venue_id,
      start_time: at(show.day, 0),
      end_time: at(show.day, 2),
      price: show.price,
    });
  }
  await auth.register(DEMO_USER);
  await auth.ensureAdmin(DEMO_ADMIN);
  return true;
}

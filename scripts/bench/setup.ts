import { connectPostgres } from "./databases";
import type { HttpClient } from "./http";
import type { Target } from "./server";
import { type BenchUser, createUsersInSql, registerUsers } from "./users";

const ROWS = 50;
const SEATS_PER_ROW = 100;
const USER_COUNT = 1000;

/** What every scenario builds on: a 5,000-seat venue, an event, users with tokens. */
export interface Fixture {
  adminToken: string;
  venueId: number;
  /** The venue's seat ids, in layout order. */
  seatIds: number[];
  eventId: number;
  users: BenchUser[];
  /** How the users and their tokens were made (printed with the results). */
  usersNote: string;
  /** Schedules a new show of the event at the venue; all its seats are AVAILABLE. */
  createShow(label: string): Promise<number>;
}

/** A, B, …, Z, AA, AB, …: spreadsheet-style row names. */
function rowName(index: number): string {
  let name = "";
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  }
  return name;
}

/** Builds the fixture through the admin API (logged in as the admin), users aside. */
export async function setUpFixture(
  http: HttpClient,
  target: Target,
  runId: string,
): Promise<Fixture> {
  const { token: adminToken } = await http.expect<{ token: string }>(200, {
    path: "/api/v1/auth/login",
    json: target.admin,
  });
  const admin = { token: adminToken };

  const { venue } = await http.expect<{ venue: { venue_id: number } }>(201, {
    ...admin,
    path: "/api/v1/admin/venues",
    json: { venue_name: `Bench Arena ${runId}`, address: "127.0.0.1" },
  });
  const layout = await http.expect<{ seats: { seat_id: number }[] }>(201, {
    ...admin,
    path: `/api/v1/admin/venues/${venue.venue_id}/seats`,
    json: {
      rows: Array.from({ length: ROWS }, (_, index) => ({
        seat_row: rowName(index),
        count: SEATS_PER_ROW,
      })),
    },
  });
  const { event } = await http.expect<{ event: { event_id: number } }>(201, {
    ...admin,
    path: "/api/v1/admin/events",
    json: { title: `Flash sale ${runId}`, description: "Created by bun run bench" },
  });

  const { users, note } = await createUsers(http, target, runId);

  const startsAt = Date.now() + 30 * 24 * 3600 * 1000;
  return {
    adminToken,
    venueId: venue.venue_id,
    seatIds: layout.seats.map((seat) => seat.seat_id),
    eventId: event.event_id,
    users,
    usersNote: note,
    async createShow(label) {
      const { show } = await http.expect<{ show: { show_id: number; total_seats: number } }>(201, {
        ...admin,
        path: "/api/v1/admin/shows",
        json: {
          event_id: event.event_id,
          venue_id: venue.venue_id,
          start_time: new Date(startsAt).toISOString(),
          end_time: new Date(startsAt + 3 * 3600 * 1000).toISOString(),
          price: 49.5,
        },
      });
      if (show.total_seats !== layout.seats.length) {
        throw new Error(
          `show for ${label} has ${show.total_seats} seats, not ${layout.seats.length}`,
        );
      }
      return show.show_id;
    },
  };
}

async function createUsers(
  http: HttpClient,
  target: Target,
  runId: string,
): Promise<{ users: BenchUser[]; note: string }> {
  if (target.databaseUrl && target.jwtSecret) {
    const sql = connectPostgres(target.databaseUrl);
    try {
      const users = await createUsersInSql(sql, runId, USER_COUNT, target.jwtSecret);
      return {
        users,
        note:
          `${USER_COUNT} users inserted in one SQL statement sharing one bcrypt (cost 10) hash; ` +
          "their tokens are HS256 JWTs signed by the bench with the target's JWT_SECRET exactly " +
          "as /auth/login issues them. Only S5 logs in for real.",
      };
    } finally {
      await sql.end();
    }
  }
  const users = await registerUsers(http, runId, USER_COUNT);
  return { users, note: `${USER_COUNT} users registered through /api/v1/auth/register.` };
}

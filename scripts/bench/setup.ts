import { connectPostgres } from "./databases";
import type { HttpClient } from "./http";
import type { Target } from "./server";
import { type BenchUser, createUsersInSql, registerUsers } from "./users";

/** The venue, the users and the names of a fixture; the bench's by default. */
export interface FixtureSettings {
  rows: number;
  seatsPerRow: number;
  users: number;
  /** Lifetime of the users' tokens when they are signed in SQL mode. */
  tokenTtlSeconds: number;
  /** Names the venue and the event. */
  label: string;
}

const BENCH_FIXTURE: FixtureSettings = {
  rows: 50,
  seatsPerRow: 100,
  users: 1000,
  tokenTtlSeconds: 3600,
  label: "bench",
};

/** What every scenario builds on: a venue (5,000 seats for the bench), an event, users with tokens. */
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
  overrides: Partial<FixtureSettings> = {},
): Promise<Fixture> {
  const settings = { ...BENCH_FIXTURE, ...overrides };
  const { token: adminToken } = await http.expect<{ token: string }>(200, {
    path: "/api/v1/auth/login",
    json: target.admin,
  });
  const admin = { token: adminToken };

  const { venue } = await http.expect<{ venue: { venue_id: number } }>(201, {
    ...admin,
    path: "/api/v1/admin/venues",
    json: { venue_name: `Evently ${settings.label} arena ${runId}`, address: "127.0.0.1" },
  });
  const layout = await http.expect<{ seats: { seat_id: number }[] }>(201, {
    ...admin,
    path: `/api/v1/admin/venues/${venue.venue_id}/seats`,
    json: {
      rows: Array.from({ length: settings.rows }, (_, index) => ({
        seat_row: rowName(index),
        count: settings.seatsPerRow,
      })),
    },
  });
  const { event } = await http.expect<{ event: { event_id: number } }>(201, {
    ...admin,
    path: "/api/v1/admin/events",
    json: {
      title: `Evently ${settings.label} ${runId}`,
      description: `Created by bun run ${settings.label}`,
    },
  });

  const { users, note } = await createUsers(http, target, runId, settings);

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
  settings: FixtureSettings,
): Promise<{ users: BenchUser[]; note: string }> {
  const count = settings.users;
  if (target.databaseUrl && target.jwtSecret) {
    const sql = connectPostgres(target.databaseUrl);
    try {
      const users = await createUsersInSql(sql, runId, count, target.jwtSecret, {
        tokenTtlSeconds: settings.tokenTtlSeconds,
      });
      return {
        users,
        note:
          `${count} users inserted in one SQL statement sharing one bcrypt (cost 10) hash; ` +
          `their tokens are HS256 JWTs signed by the ${settings.label} with the target's ` +
          "JWT_SECRET exactly as /auth/login issues them.",
      };
    } finally {
      await sql.end();
    }
  }
  const users = await registerUsers(http, runId, count);
  return { users, note: `${count} users registered through /api/v1/auth/register.` };
}

import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { migrationsFolder } from "../src/db/migrate";
import { type Backend, databaseUrl, describeEachBackend } from "./support/services";

/**
 * Upgrading a database that already holds bookings: built with the migrations up to 0006
 * (when deleting an event, a venue or a removed seat still cascaded), filled with venues,
 * seats, events, shows, bookings, payments and refunds, then migrated to the latest schema.
 * No row may be lost, and afterwards no foreign key toward the money trail cascades.
 */

/** The migrations released before soft deletion: 0000–0006. */
const RELEASED_BEFORE_SOFT_DELETION = 7;

const TABLES = [
  "users",
  "venues",
  "seats",
  "events",
  "shows",
  "show_seats",
  "bookings",
  "booking_seats",
  "payments",
  "waitlist_entries",
  "notifications",
  "idempotency_keys",
];

/** A copy of the migrations folder that stops after `count` journal entries. */
function migrationsUpTo(count: number): string {
  const folder = mkdtempSync(join(tmpdir(), "evently-migrations-"));
  const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta/_journal.json"), "utf8"));
  journal.entries = journal.entries.slice(0, count);
  mkdirSync(join(folder, "meta"));
  writeFileSync(join(folder, "meta/_journal.json"), JSON.stringify(journal));
  for (const entry of journal.entries) {
    cpSync(join(migrationsFolder, `${entry.tag}.sql`), join(folder, `${entry.tag}.sql`));
  }
  return folder;
}

/**
 * What a database of the previous schema holds: a live show with a confirmed, paid booking;
 * a show deleted (0006 kept shows with bookings) with a cancelled, refunded one; a removed
 * seat (then erased) still named by a booking; a waitlist entry, a notification and an
 * idempotency key.
 */
const POPULATE = [
  `insert into users (email, password_hash) values ('a@example.com', 'x'), ('b@example.com', 'x')`,
  `insert into venues (venue_name, address) values ('Hall', '1 Street')`,
  `insert into seats (venue_id, seat_row, seat_number)
     select 1, 'A', n from generate_series(1, 4) n`,
  `insert into events (title) values ('Live'), ('Gone')`,
  `insert into shows (event_id, venue_id, start_time, end_time, price_cents, deleted_at) values
     (1, 1, now() + interval '1 day', now() + interval '1 day 2 hours', 1000, null),
     (2, 1, now() + interval '2 days', now() + interval '2 days 2 hours', 1500, now())`,
  `insert into show_seats (show_id, seat_id) select 1, seat_id from seats`,
  `insert into bookings (user_id, show_id, status, amount_cents, expires_at) values
     (1, 1, 'CONFIRMED', 1000, now() + interval '10 minutes'),
     (2, 2, 'CANCELLED', 3000, now() - interval '1 hour')`,
  `update show_seats set status = 'BOOKED', booking_id = 1 where show_id = 1 and seat_id = 1`,
  `insert into booking_seats (booking_id, seat_id, seat_row, seat_number) values
     (1, 1, 'A', 1), (2, 3, 'A', 3), (2, 4, 'A', 4)`,
  // Seat A4 was removed from the layout before seats were kept: its booking still names it.
  `delete from seats where seat_id = 4`,
  `insert into payments (booking_id, amount_cents, status, transaction_id, refund_transaction_id,
       refunded_at) values
     (1, 1000, 'SUCCEEDED', 'txn_1', null, null),
     (2, 3000, 'REFUNDED', 'txn_2', 'rfd_2', now())`,
  `insert into waitlist_entries (show_id, user_id, seats_wanted) values (1, 2, 1)`,
  `insert into notifications (user_id, kind, payload) values (2, 'WAITLIST_OFFER', '{}')`,
  `insert into idempotency_keys (user_id, key, request_hash) values (1, 'k', 'h')`,
];

/** Every foreign key between the catalogue and the money trail, with its ON DELETE action. */
const FOREIGN_KEYS = `select c.conrelid::regclass::text as from_table,
    c.confrelid::regclass::text as to_table, a.attname as column_name,
    c.confdeltype as on_delete
  from pg_constraint c
  join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
  where c.contype = 'f'
    and c.conrelid::regclass::text in ('bookings', 'booking_seats', 'payments', 'shows', 'seats')
    and c.confrelid::regclass::text in ('bookings', 'shows', 'events', 'venues', 'seats')
  order by 1, 2, 3`;

interface ScratchDatabase {
  run(statement: string): Promise<Record<string, unknown>[]>;
  migrate(folder: string): Promise<void>;
  close(): Promise<void>;
}

async function openScratch(backend: Backend): Promise<ScratchDatabase> {
  if (backend === "embedded") {
    const client = new PGlite();
    const db = drizzlePglite(client);
    return {
      run: async (statement) => (await client.query<Record<string, unknown>>(statement)).rows,
      migrate: (migrationsFolder) => migratePglite(db, { migrationsFolder }),
      close: () => client.close(),
    };
  }
  const name = `evently_migration_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(databaseUrl as string, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(databaseUrl as string);
  url.pathname = `/${name}`;
  const client = postgres(url.toString(), { max: 1, onnotice: () => {} });
  const db = drizzlePostgres(client);
  return {
    run: async (statement) => [...(await client.unsafe(statement))],
    migrate: (migrationsFolder) => migratePostgres(db, { migrationsFolder }),
    close: async () => {
      await client.end();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

describeEachBackend("upgrading a populated database on %s", (backend) => {
  let database: ScratchDatabase;
  let released: string;

  const rowCounts = async () => {
    const counts: Record<string, number> = {};
    for (const table of TABLES) {
      const [row] = await database.run(`select count(*)::int as n from ${table}`);
      counts[table] = Number(row?.n);
    }
    return counts;
  };
  const onDelete = async () =>
    Object.fromEntries(
      (await database.run(FOREIGN_KEYS)).map((fk) => [
        `${fk.from_table}.${fk.column_name} -> ${fk.to_table}`,
        fk.on_delete,
      ]),
    );

  beforeAll(async () => {
    released = migrationsUpTo(RELEASED_BEFORE_SOFT_DELETION);
    database = await openScratch(backend);
  });

  afterAll(async () => {
    await database?.close();
    rmSync(released, { recursive: true, force: true });
  });

  test("no row is lost, and no foreign key toward the money trail cascades any more", async () => {
    await database.migrate(released);
    for (const statement of POPULATE) await database.run(statement);
    const before = await rowCounts();
    expect(Object.values(before).every((n) => n > 0)).toBe(true);
    const trailBefore = await database.run(
      `select json_agg(t order by t.payment_id)::text as payments from payments t`,
    );
    // The previous schema: these cascaded (c), so a stray delete took bookings' trail away.
    expect(await onDelete()).toMatchObject({
      "booking_seats.booking_id -> bookings": "c",
      "payments.booking_id -> bookings": "c",
      "seats.venue_id -> venues": "c",
      "shows.event_id -> events": "c",
    });

    await database.migrate(migrationsFolder);

    expect(await rowCounts()).toEqual(before);
    expect(
      await database.run(
        `select json_agg(t order by t.payment_id)::text as payments from payments t`,
      ),
    ).toEqual(trailBefore);
    // r = RESTRICT: every one refuses to delete what the trail points at.
    expect(await onDelete()).toEqual({
      "booking_seats.booking_id -> bookings": "r",
      "booking_seats.seat_id -> seats": "r",
      "bookings.show_id -> shows": "r",
      "payments.booking_id -> bookings": "r",
      "seats.venue_id -> venues": "r",
      "shows.event_id -> events": "r",
      "shows.venue_id -> venues": "r",
    });
    const [deleted] = await database.run(
      `select (select count(*)::int from shows where deleted_at is not null) as shows,
         (select count(*)::int from seats where deleted_at is not null) as seats,
         (select count(*)::int from venues where deleted_at is not null) as venues`,
    );
    expect(deleted).toEqual({ shows: 1, seats: 0, venues: 0 });
    // A seat a booking names can no longer be erased; the one erased before stays named.
    const refused = await database.run("delete from seats where seat_id = 3").then(
      () => "deleted",
      (error: { code?: string }) => error.code ?? "no code",
    );
    // restrict_violation, or foreign_key_violation when met behind the show_seats cascade.
    expect(["23001", "23503"]).toContain(refused);
    const [named] = await database.run(
      "select seat_row, seat_number from booking_seats where seat_id = 4",
    );
    expect(named).toEqual({ seat_row: "A", seat_number: 4 });
  });

  // Runs after the upgrade above, on the same database.
  test("shows that existed get their rows for best-available picks, each open to a first look", async () => {
    expect(
      await database.run(
        `select show_id, seat_row, largest_free_hint, ranked from show_rows order by 1, 2`,
      ),
    ).toEqual([{ show_id: 1, seat_row: "A", largest_free_hint: 2_147_483_647, ranked: false }]);
  });

  // Runs after the upgrade above, on the same database.
  test("bookings made before the booking log get the history their rows tell", async () => {
    const entries = await database.run(
      `select booking_id, event::text as event, details, actor_user_id, request_id
       from booking_log order by log_id`,
    );
    const reconstructed = { reconstructed: true };
    expect(entries).toEqual([
      {
        booking_id: 1,
        event: "HELD",
        details: { amount_cents: 1000, seat_ids: [1], ...reconstructed },
        actor_user_id: null,
        request_id: null,
      },
      {
        booking_id: 1,
        event: "PAID",
        details: { amount_cents: 1000, transaction_id: "txn_1", ...reconstructed },
        actor_user_id: null,
        request_id: null,
      },
      {
        booking_id: 1,
        event: "CONFIRMED",
        details: reconstructed,
        actor_user_id: null,
        request_id: null,
      },
      {
        booking_id: 2,
        event: "HELD",
        details: { amount_cents: 3000, seat_ids: [3, 4], ...reconstructed },
        actor_user_id: null,
        request_id: null,
      },
      {
        booking_id: 2,
        event: "PAID",
        details: { amount_cents: 3000, transaction_id: "txn_2", ...reconstructed },
        actor_user_id: null,
        request_id: null,
      },
      {
        booking_id: 2,
        event: "CANCELLED",
        details: reconstructed,
        actor_user_id: null,
        request_id: null,
      },
      {
        booking_id: 2,
        event: "REFUNDED",
        details: {
          amount_cents: 3000,
          transaction_id: "rfd_2",
          payment_transaction_id: "txn_2",
          ...reconstructed,
        },
        actor_user_id: null,
        request_id: null,
      },
    ]);
  });
});

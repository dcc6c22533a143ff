import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { ok } from "./support/answers";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdBest,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, query, SETUP_TIMEOUT_MS, sql, type TestApp } from "./support/harness";
import { bookingInvariantViolations } from "./support/invariants";
import { backendsWaiting } from "./support/lock-waits";
import { hasPostgresAndRedis } from "./support/services";

/**
 * Interleavings of pick_adjacent_seats (migration 0016) that its snapshots make possible: the
 * function takes a fresh snapshot per command, so what it read at its start may be older than
 * the rows it locks later in the same call. Each race is forced from a separate session.
 */
describe.skipIf(!hasPostgresAndRedis)("best-available attacks on real PostgreSQL and Redis", () => {
  let app: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    app = await createTestApp("postgres", { MAX_SEATS_PER_USER_PER_SHOW: "100" });
    adminToken = (await createAdmin(app)).token;
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app?.close());

  test("a show that moves to another venue while picks spin: the new rows' hints stay true", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["P", "Q"], perRow: 10 });
    const target = await createShowFixture(app, adminToken, { rows: ["X", "Y"], perRow: 10 });
    const pickers = await createUsersDirect(app, 4);
    const session = postgres(app.config.DATABASE_URL as string, { max: 1, onnotice: () => {} });
    try {
      // The move stops after it has cleared the show's rows and before it commits: its new
      // row X waits for this uncommitted row X of the same show.
      await session`begin`;
      await session`insert into show_rows (show_id, seat_row, largest_free_hint)
        values (${show.show_id}, 'X', 0)`;
      const moving = app.request("PUT", `/api/v1/admin/shows/${show.show_id}`, {
        token: adminToken,
        body: { venue_id: target.venue_id },
      });
      await backendsWaiting(session, 1, "the move");
      // Picks started now find every row locked by the move: they look again and again.
      const picks = pickers.map((user: TestUser) => holdBest(app, user, show.show_id, 2));
      await Bun.sleep(150);
      await session`rollback`;
      expect((await moving).status).toBe(200);
      const answers = await Promise.all(picks);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    } finally {
      await session.end();
    }
    const [hints] = await query<{ hints: string }>(
      app,
      sql`select string_agg(seat_row || '=' || largest_free_hint, ' ' order by seat_row) as hints
          from show_rows where show_id = ${show.show_id}`,
    );
    expect(await bookingInvariantViolations(app, show.show_id), hints?.hints).toEqual([]);
    // And the next pick finds a row by its hint, not through the statement that ranks every
    // seat: a hint of 0 on a row with free seats would send every pick there.
    const [next] = await createUsersDirect(app, 1);
    ok(await holdBest(app, next as TestUser, show.show_id, 2), 200);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  }, 60_000);
});

import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdSeats,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, query, sql, type TestApp } from "./support/harness";
import { bookingInvariantViolations } from "./support/invariants";
import { describeEachBackend } from "./support/services";

// The race suites trust an empty list of violations: the checker must see a broken promise.
describeEachBackend("the booking invariant checker on %s", (backend) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(backend);
  });
  afterAll(() => app.close());

  test("reports a seat sold twice, a seat row out of step and a stale seat lock", async () => {
    const show = await createShowFixture(app, (await createAdmin(app)).token, { perRow: 2 });
    const [first, second] = await createUsersDirect(app, 2);
    const [seatId, otherSeatId] = show.seat_ids as [number, number];
    const held = await holdSeats(app, first as TestUser, show.show_id, [seatId]);
    expect(held.status).toBe(200);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);

    // A second active booking of the same seat, written behind the engine's back.
    await query(
      app,
      sql`with twin as (
            insert into bookings (user_id, show_id, status, amount_cents, expires_at, lock_token)
            values (${second?.user_id}, ${show.show_id}, 'PENDING', 100,
              now() + interval '10 minutes', gen_random_uuid())
            returning booking_id)
          insert into booking_seats (booking_id, seat_id, seat_row, seat_number)
          select booking_id, ${seatId}, 'A', 1 from twin`,
    );
    // And a seat marked free although its hold still runs.
    await query(
      app,
      sql`update show_seats set status = 'AVAILABLE', booking_id = null, locked_until = null
          where show_id = ${show.show_id} and seat_id = ${seatId}`,
    );

    const violations = await bookingInvariantViolations(app, show.show_id);
    expect(violations).toContain(`seat ${seatId} is in 2 active bookings`);
    expect(violations).toContain(`seat ${seatId}: in an active booking but not held in show_seats`);
    expect(
      violations.some((line) => line.startsWith(`seat ${seatId} is AVAILABLE but still locked`)),
    ).toBe(true);
    expect(violations.join("\n")).not.toContain(`seat ${otherSeatId}`);
  });

  test("reports a seat owed to a waitlist nobody waits in", async () => {
    const show = await createShowFixture(app, (await createAdmin(app)).token, { perRow: 2 });
    const [seatId] = show.seat_ids as [number];
    await query(
      app,
      sql`update show_seats set status = 'OWED'
          where show_id = ${show.show_id} and seat_id = ${seatId}`,
    );
    const violations = await bookingInvariantViolations(app, show.show_id);
    expect(violations).toEqual([
      `seat ${seatId}: owed to the waitlist while nobody waits in its line`,
    ]);
  });
});

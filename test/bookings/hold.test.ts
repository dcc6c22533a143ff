import { describe, expect, test } from "bun:test";
import { expectError, ok } from "../support/answers";
import {
  type BookingClient,
  bookingCount,
  bookingRow,
  showSeatRows,
  useBookingApp,
} from "../support/booking-api";
import { registerUser } from "../support/fixtures";
import { query, sql, type TestApp } from "../support/harness";
import { bookingInvariantViolations } from "../support/invariants";
import { describeEachBackend } from "../support/services";

describeEachBackend("bookings on %s", (backend) => {
  let app: TestApp;
  let client: BookingClient;
  const { fixture } = useBookingApp(backend, (opened) => {
    ({ app, client } = opened);
  });

  describe("happy flow", () => {
    test("a taken seat answers 409 SEAT_UNAVAILABLE listing exactly the taken requested seats", async () => {
      const show = await fixture();
      const owner = await registerUser(app);
      const rival = await registerUser(app);
      const [s1, s2, s3, s4, s5] = show.seat_ids as [number, number, number, number, number];
      await client.book(owner, show.show_id, [s1, s2]);
      const pending = ok(await client.hold(owner, show.show_id, [s3])).booking_id;

      const partly = await client.hold(rival, show.show_id, [s2, s4]);
      expectError(partly, 409, "SEAT_UNAVAILABLE");
      expect(partly.body.details.failed_seats).toEqual([s2]);

      const mixed = await client.hold(rival, show.show_id, [s4, s1, s3, s2, s5]);
      expectError(mixed, 409, "SEAT_UNAVAILABLE");
      expect([...mixed.body.details.failed_seats].sort((a, b) => a - b)).toEqual([s1, s2, s3]);

      // The owner cannot hold their own booked seat a second time either.
      expectError(await client.hold(owner, show.show_id, [s1]), 409, "SEAT_UNAVAILABLE");

      // Nothing of the refused requests is held.
      expect(await bookingCount(app, rival.user_id)).toBe(0);
      expect((await showSeatRows(app, show.show_id, [s4, s5])).map((row) => row.status)).toEqual([
        "AVAILABLE",
        "AVAILABLE",
      ]);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
      ok(await client.hold(rival, show.show_id, [s4, s5]));
      expect((await bookingRow(app, pending))?.status).toBe("PENDING");
    });

    test("without the fast filter's keys, PostgreSQL alone refuses exactly the taken seats", async () => {
      const show = await fixture();
      const owner = await registerUser(app);
      const rival = await registerUser(app);
      const [s1, s2, s3, s4] = show.seat_ids as [number, number, number, number];
      await client.book(owner, show.show_id, [s1]);
      const pending = ok(await client.hold(owner, show.show_id, [s2])).booking_id;

      // Forget the seat locks as a restarted Redis would.
      const [row] = await query<{ lock_token: string }>(
        app,
        sql`select lock_token::text as lock_token from bookings where booking_id = ${pending}`,
      );
      await app.runtime.shared.locks.clearBooked(show.show_id, [s1], "no-hold-token");
      await app.runtime.shared.locks.release(show.show_id, [s2], row?.lock_token as string);
      expect((await app.runtime.shared.locks.snapshot(show.show_id)).size).toBe(0);

      const refused = await client.hold(rival, show.show_id, [s3, s2, s1]);
      expectError(refused, 409, "SEAT_UNAVAILABLE");
      expect([...refused.body.details.failed_seats].sort((a, b) => a - b)).toEqual([s1, s2]);
      expect(await bookingCount(app, rival.user_id)).toBe(0);
      // The free seat of the refused request was not left locked anywhere.
      expect((await app.runtime.shared.locks.snapshot(show.show_id)).size).toBe(0);
      ok(await client.hold(rival, show.show_id, [s3, s4]));
    });
  });
});

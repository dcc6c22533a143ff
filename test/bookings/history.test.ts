import { describe, expect, test } from "bun:test";
import { expectError, ok } from "../support/answers";
import {
  type BookingClient,
  bySeatId,
  ISO_UTC,
  type SeatRef,
  seatRefs,
  useBookingApp,
} from "../support/booking-api";
import { registerUser } from "../support/fixtures";
import type { TestApp } from "../support/harness";
import { describeEachBackend } from "../support/services";

describeEachBackend("bookings on %s", (backend) => {
  let app: TestApp;
  let client: BookingClient;
  const { fixture } = useBookingApp(backend, (opened) => {
    ({ app, client } = opened);
  });

  describe("happy flow", () => {
    test("GET /bookings/:id and the user's history agree, with show and seats", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const map = await client.seatMap(show.show_id);
      const seatIds = show.seat_ids.slice(0, 2);
      const held = ok(await client.hold(user, show.show_id, seatIds));
      const paid = ok(await client.pay(user, held.booking_id, held.amount));
      ok(await client.confirm(user, held.booking_id));

      const publicShow = ok(await client.show(show.show_id)).show;
      const { booking } = ok(await client.get(user, held.booking_id));
      expect({ ...booking, seats: bySeatId(booking.seats) }).toEqual({
        booking_id: held.booking_id,
        user_id: user.user_id,
        status: "CONFIRMED",
        show_id: show.show_id,
        amount: 51,
        created_at: expect.stringMatching(ISO_UTC),
        expires_at: held.expires_at,
        seats: seatRefs(map, seatIds),
        show: publicShow,
        payment: { transaction_id: paid.transaction_id, amount: 51 },
        refund: null,
        log: (["HELD", "PAID", "CONFIRMED"] as const).map((event) => ({
          event,
          at: expect.stringMatching(ISO_UTC),
        })),
      });
      expect(booking.show.available_seats).toBe(8);
      expect(booking.show.total_seats).toBe(10);

      // The history lists the same booking; its log is read with the booking on its own.
      const { log: _log, ...listed } = booking;
      expect(ok(await client.history(user))).toEqual({
        bookings: [listed],
        page: 1,
        limit: 20,
        total: 1,
      });
      expect(ok(await client.history(user, { status: "CONFIRMED" }))).toEqual({
        bookings: [listed],
        page: 1,
        limit: 20,
        total: 1,
      });
      expect(ok(await client.history(user, { status: "PENDING" }))).toEqual({
        bookings: [],
        page: 1,
        limit: 20,
        total: 0,
      });
      expectError(await client.historyUnchecked(user, "?status=BOGUS"), 400, "VALIDATION_ERROR");
      expectError(await client.historyUnchecked(user, "?limit=0"), 400, "VALIDATION_ERROR");
      expectError(await client.historyUnchecked(user, "?page=abc"), 400, "VALIDATION_ERROR");
    });

    test("history: newest first, paginated, filtered by status, only the caller's", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const other = await registerUser(app);
      const [s1, s2, s3, s4] = show.seat_ids as [number, number, number, number];

      const cancelled = ok(await client.hold(user, show.show_id, [s1])).booking_id;
      ok(await client.cancel(user, cancelled));
      const confirmed = await client.book(user, show.show_id, [s2, s3]);
      const pending = ok(await client.hold(user, show.show_id, [s4])).booking_id;
      const othersBooking = ok(
        await client.hold(other, show.show_id, [show.seat_ids[5] as number]),
      );

      const ids = (body: { bookings: { booking_id: number }[] }) =>
        body.bookings.map((booking) => booking.booking_id);

      const first = ok(await client.history(user, { limit: "2", page: "1" }));
      expect({ ...first, bookings: ids(first) }).toEqual({
        bookings: [pending, confirmed],
        page: 1,
        limit: 2,
        total: 3,
      });
      const second = ok(await client.history(user, { limit: "2", page: "2" }));
      expect({ ...second, bookings: ids(second) }).toEqual({
        bookings: [cancelled],
        page: 2,
        limit: 2,
        total: 3,
      });
      const beyond = ok(await client.history(user, { limit: "2", page: "3" }));
      // Past the last page the envelope still tells the total.
      expect(beyond).toEqual({ bookings: [], page: 3, limit: 2, total: 3 });

      const all = ok(await client.history(user));
      expect(ids(all)).toEqual([pending, confirmed, cancelled]);
      expect(all.bookings.map((booking: { status: string }) => booking.status)).toEqual([
        "PENDING",
        "CONFIRMED",
        "CANCELLED",
      ]);
      for (const booking of all.bookings) {
        expect(booking.show.show_id).toBe(show.show_id);
        expect(booking.show.event.event_id).toBe(show.event_id);
        expect(booking.show.venue.venue_id).toBe(show.venue_id);
        expect(booking.seats.length).toBeGreaterThan(0);
      }
      expect(ids(all)).not.toContain(othersBooking.booking_id);

      const onlyCancelled = ok(await client.history(user, { status: "CANCELLED" }));
      expect(onlyCancelled.total).toBe(1);
      expect(onlyCancelled.bookings[0]?.booking_id).toBe(cancelled);
      expect(onlyCancelled.bookings[0]?.seats.map((seat: SeatRef) => seat.seat_id)).toEqual([s1]);

      const othersHistory = ok(await client.history(other));
      expect(ids(othersHistory)).toEqual([othersBooking.booking_id]);
      expectError(await client.historyUnchecked(user, "?limit=101"), 400, "VALIDATION_ERROR");
    });
  });
});

import { describe, expect, test } from "bun:test";
import { expectError, ok } from "../support/answers";
import {
  type BookingClient,
  bookingRow,
  bySeatId,
  paymentRows,
  seatRefs,
  showSeatRows,
  startShowNow,
  statusesOf,
  useBookingApp,
} from "../support/booking-api";
import { registerUser } from "../support/fixtures";
import type { TestApp } from "../support/harness";
import { bookingInvariantViolations } from "../support/invariants";
import { describeEachBackend } from "../support/services";

describeEachBackend("bookings on %s", (backend) => {
  let app: TestApp;
  let client: BookingClient;
  const { fixture } = useBookingApp(backend, (opened) => {
    ({ app, client } = opened);
  });

  describe("cancel", () => {
    test("cancelling a PENDING hold frees its seats for anyone; twice is 409", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const other = await registerUser(app);
      const map = await client.seatMap(show.show_id);
      const seatIds = show.seat_ids.slice(0, 2);
      const bookingId = ok(await client.hold(user, show.show_id, seatIds)).booking_id;

      const cancelled = ok(await client.cancel(user, bookingId));
      expect({ ...cancelled, cancelled_seats: bySeatId(cancelled.cancelled_seats) }).toEqual({
        booking_id: bookingId,
        status: "CANCELLED",
        cancelled_seats: seatRefs(map, seatIds),
      });
      expect(statusesOf(await client.seatMap(show.show_id), seatIds)).toEqual([
        "AVAILABLE",
        "AVAILABLE",
      ]);
      expect(await showSeatRows(app, show.show_id, seatIds)).toEqual(
        seatIds.map((seat_id) => ({ seat_id, status: "AVAILABLE", booking_id: null })),
      );
      expect((await bookingRow(app, bookingId))?.status).toBe("CANCELLED");

      expectError(await client.cancel(user, bookingId), 409, "INVALID_STATE");
      expectError(await client.confirm(user, bookingId), 409, "INVALID_STATE");
      expectError(await client.pay(user, bookingId, 51), 409, "INVALID_STATE");
      expect(await paymentRows(app, bookingId)).toEqual([]);

      ok(await client.hold(other, show.show_id, seatIds));

      // The cancelled booking keeps its seats in the history.
      const { booking } = ok(await client.get(user, bookingId));
      expect(booking.status).toBe("CANCELLED");
      expect(bySeatId(booking.seats)).toEqual(seatRefs(map, seatIds));
      const { log, ...listed } = booking;
      expect(log.map((entry: { event: string }) => entry.event)).toEqual(["HELD", "CANCELLED"]);
      const history = ok(await client.history(user, { status: "CANCELLED" }));
      expect(history.bookings).toEqual([listed]);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    });

    test("cancelling a paid, CONFIRMED booking refunds the payment and frees the seats", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const other = await registerUser(app);
      const map = await client.seatMap(show.show_id);
      const seatIds = show.seat_ids.slice(2, 4);
      const held = ok(await client.hold(user, show.show_id, seatIds));
      const paid = ok(await client.pay(user, held.booking_id, held.amount));
      ok(await client.confirm(user, held.booking_id));

      const cancelled = ok(await client.cancel(user, held.booking_id));
      expect({ ...cancelled, cancelled_seats: bySeatId(cancelled.cancelled_seats) }).toEqual({
        booking_id: held.booking_id,
        status: "CANCELLED",
        cancelled_seats: seatRefs(map, seatIds),
        refund: { amount: 51, transaction_id: expect.any(String) },
      });
      expect(await paymentRows(app, held.booking_id)).toEqual([
        {
          status: "REFUNDED",
          amount_cents: 5100,
          transaction_id: paid.transaction_id,
          refund_transaction_id: cancelled.refund?.transaction_id ?? null,
        },
      ]);
      expect(statusesOf(await client.seatMap(show.show_id), seatIds)).toEqual([
        "AVAILABLE",
        "AVAILABLE",
      ]);
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);

      expectError(await client.cancel(user, held.booking_id), 409, "INVALID_STATE");
      expect((await paymentRows(app, held.booking_id)).map((row) => row.status)).toEqual([
        "REFUNDED",
      ]);
      // The sold seats are for sale again.
      ok(await client.hold(other, show.show_id, seatIds));
      const { booking } = ok(await client.get(user, held.booking_id));
      expect(booking.seats).toHaveLength(2);
      // Its history shows the charge and its refund.
      // The cancel answer's refund is optional; the booking's is null when absent: compared as values.
      expect<unknown>({ payment: booking.payment, refund: booking.refund }).toEqual({
        payment: { transaction_id: paid.transaction_id, amount: 51 },
        refund: cancelled.refund,
      });
    });

    test("cancelling a paid but unconfirmed hold refunds it too", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const held = ok(await client.hold(user, show.show_id, [show.seat_ids[0] as number]));
      const paid = ok(await client.pay(user, held.booking_id, 25.5));
      const cancelled = ok(await client.cancel(user, held.booking_id));
      expect(cancelled.refund).toEqual({ amount: 25.5, transaction_id: expect.any(String) });
      const [payment] = await paymentRows(app, held.booking_id);
      expect(payment?.status).toBe("REFUNDED");
      expect(payment?.transaction_id).toBe(paid.transaction_id);
      expectError(await client.confirm(user, held.booking_id), 409, "INVALID_STATE");
    });

    test("after the show started, nothing can be cancelled (400) and nothing changes", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const [s1, s2, s3] = show.seat_ids as [number, number, number];
      const confirmed = await client.book(user, show.show_id, [s1, s2]);
      const pending = ok(await client.hold(user, show.show_id, [s3])).booking_id;
      await startShowNow(app, show.show_id);

      expectError(await client.cancel(user, confirmed), 400, "SHOW_STARTED");
      expectError(await client.cancel(user, pending), 400, "SHOW_STARTED");
      expect((await bookingRow(app, confirmed))?.status).toBe("CONFIRMED");
      expect((await bookingRow(app, pending))?.status).toBe("PENDING");
      expect((await paymentRows(app, confirmed)).map((row) => row.status)).toEqual(["SUCCEEDED"]);
      expect(
        (await showSeatRows(app, show.show_id, [s1, s2, s3])).map((row) => row.status),
      ).toEqual(["BOOKED", "BOOKED", "LOCKED"]);
      // Nor can new seats be held.
      expectError(
        await client.hold(user, show.show_id, [show.seat_ids[4] as number]),
        400,
        "SHOW_STARTED",
      );
    });
  });
});

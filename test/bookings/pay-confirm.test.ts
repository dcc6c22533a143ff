import { describe, expect, test } from "bun:test";
import { expectError, ok } from "../support/answers";
import {
  type BookingClient,
  bookingRow,
  bySeatId,
  ISO_UTC,
  paymentRows,
  seatRefs,
  statusesOf,
  useBookingApp,
} from "../support/booking-api";
import { registerUser } from "../support/fixtures";
import { MAX_ID, type TestApp } from "../support/harness";
import { bookingInvariantViolations } from "../support/invariants";
import { describeEachBackend } from "../support/services";

describeEachBackend("bookings on %s", (backend) => {
  let app: TestApp;
  let client: BookingClient;
  const { fixture } = useBookingApp(backend, (opened) => {
    ({ app, client } = opened);
  });

  describe("happy flow", () => {
    test("hold → pay → confirm answers the contract's shapes and the seat map follows", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const map = await client.seatMap(show.show_id);
      const [s1, s2, s3] = show.seat_ids as [number, number, number];

      const requestedAt = Date.now();
      // Requested out of order: the answer lists the same seats.
      const held = ok(await client.hold(user, show.show_id, [s2, s1]));
      expect({ ...held, locked_seats: bySeatId(held.locked_seats) }).toEqual({
        booking_id: expect.any(Number),
        status: "PENDING",
        show_id: show.show_id,
        locked_seats: seatRefs(map, [s1, s2]),
        amount: 51,
        expires_at: expect.stringMatching(ISO_UTC),
        expires_in: 600,
      });
      const expiresIn = Date.parse(held.expires_at) - requestedAt;
      expect(expiresIn).toBeGreaterThan(590_000);
      expect(expiresIn).toBeLessThan(610_000);
      const bookingId: number = held.booking_id;

      const lockedMap = await client.seatMap(show.show_id);
      expect(statusesOf(lockedMap, [s1, s2, s3])).toEqual(["LOCKED", "LOCKED", "AVAILABLE"]);
      expect([...lockedMap.values()].filter((seat) => seat.status !== "AVAILABLE")).toHaveLength(2);

      const paid = ok(await client.pay(user, bookingId, 51));
      expect(paid).toEqual({
        transaction_id: expect.any(String),
        status: "SUCCEEDED",
        booking_id: bookingId,
        amount: 51,
      });
      expect(paid.transaction_id.length).toBeGreaterThan(0);

      // A booking_id in the body is accepted when it matches the path.
      const confirmed = ok(await client.confirm(user, bookingId, { booking_id: bookingId }));
      expect({ ...confirmed, confirmed_seats: bySeatId(confirmed.confirmed_seats) }).toEqual({
        message: "Booking confirmed successfully",
        booking_id: bookingId,
        status: "CONFIRMED",
        confirmed_seats: seatRefs(map, [s1, s2]),
      });
      expect(statusesOf(await client.seatMap(show.show_id), [s1, s2, s3])).toEqual([
        "BOOKED",
        "BOOKED",
        "AVAILABLE",
      ]);

      expectError(await client.confirm(user, bookingId), 409, "INVALID_STATE");
      expect((await bookingRow(app, bookingId))?.status).toBe("CONFIRMED");
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    });
  });

  describe("payment", () => {
    test("amount must match, declines are recorded, confirm needs a succeeded payment, pay once", async () => {
      // 19.99 × 3 = 59.97 exactly, whatever floating point does with it.
      const show = await fixture({ price: 19.99 });
      const user = await registerUser(app);
      const held = ok(await client.hold(user, show.show_id, show.seat_ids.slice(0, 3)));
      expect(held.amount).toBe(59.97);
      const bookingId: number = held.booking_id;

      // Amounts past any booking's once overflowed cents in SQL (500); they are a 400 too.
      const wrongAmounts = [59.96, 59.98, 0, 5997, 59.971, -59.97, "59.97", null];
      for (const amount of [...wrongAmounts, 10_000_000.01, 21_474_837, 1e20]) {
        expectError(await client.payUnchecked(user, bookingId, amount), 400, "VALIDATION_ERROR");
      }
      // A booking that does not exist: the same 400 (the amount is checked first), no crash.
      expectError(await client.pay(user, 2_147_483_647, 1e20), 400, "VALIDATION_ERROR");
      expectError(
        await client.payUnchecked(user, bookingId, 59.97, "maybe"),
        400,
        "VALIDATION_ERROR",
      );
      expect(await paymentRows(app, bookingId)).toEqual([]);

      expectError(await client.confirm(user, bookingId), 402, "PAYMENT_REQUIRED");

      const declined = await client.pay(user, bookingId, 59.97, "decline");
      expectError(declined, 402, "PAYMENT_FAILED");
      const afterDecline = await paymentRows(app, bookingId);
      expect(afterDecline).toEqual([
        {
          status: "DECLINED",
          amount_cents: 5997,
          transaction_id: expect.any(String),
          refund_transaction_id: null,
        },
      ]);
      // A declined payment does not pay for anything.
      expectError(await client.confirm(user, bookingId), 402, "PAYMENT_REQUIRED");
      expect((await bookingRow(app, bookingId))?.status).toBe("PENDING");

      const paid = ok(await client.pay(user, bookingId, 59.97, "success"));
      expect(paid).toEqual({
        transaction_id: expect.any(String),
        status: "SUCCEEDED",
        booking_id: bookingId,
        amount: 59.97,
      });
      expectError(await client.pay(user, bookingId, 59.97), 409, "INVALID_STATE");
      const rows = await paymentRows(app, bookingId);
      expect(rows.map((payment) => payment.status)).toEqual(["DECLINED", "SUCCEEDED"]);
      expect(rows[1]?.transaction_id).toBe(paid.transaction_id);
      expect(rows[1]?.amount_cents).toBe(5997);

      ok(await client.confirm(user, bookingId));
      expectError(await client.pay(user, bookingId, 59.97), 409, "INVALID_STATE");
      expect((await paymentRows(app, bookingId)).map((payment) => payment.status)).toEqual([
        "DECLINED",
        "SUCCEEDED",
      ]);
      expectError(await client.pay(user, MAX_ID, 59.97), 404, "NOT_FOUND");
    });
  });
});

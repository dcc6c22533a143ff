import { describe, expect, test } from "bun:test";
import { expectError, ok } from "../support/answers";
import {
  type BookingClient,
  bookingRow,
  paymentRows,
  type SeatRef,
  showSeatRows,
  statusesOf,
  useBookingApp,
} from "../support/booking-api";
import { createShowFixture, registerUser, type TestUser } from "../support/fixtures";
import type { TestApp } from "../support/harness";
import { describeEachBackend } from "../support/services";

describeEachBackend("bookings on %s", (backend) => {
  describe("holds that run out (HOLD_TTL_SECONDS=1)", () => {
    let shortApp: TestApp;
    let shortAdmin: TestUser;
    let short: BookingClient;
    useBookingApp(
      backend,
      (opened) => {
        ({ app: shortApp, admin: shortAdmin, client: short } = opened);
      },
      { HOLD_TTL_SECONDS: "1" },
    );

    test("an expired paid hold: AVAILABLE at once, EXPIRED on read, 410 on confirm with a refund", async () => {
      const show = await createShowFixture(shortApp, shortAdmin.token);
      const user = await registerUser(shortApp);
      const other = await registerUser(shortApp);
      const seatIds = show.seat_ids.slice(0, 2);
      const held = ok(await short.hold(user, show.show_id, seatIds));
      expect(held.expires_in).toBe(1);
      const paid = ok(await short.pay(user, held.booking_id, held.amount));

      await Bun.sleep(1500);

      // No cleanup has run: the rows still say LOCKED/PENDING, every read says otherwise.
      expect(
        (await showSeatRows(shortApp, show.show_id, seatIds)).map((row) => row.status),
      ).toEqual(["LOCKED", "LOCKED"]);
      expect((await bookingRow(shortApp, held.booking_id))?.status).toBe("PENDING");
      expect(statusesOf(await short.seatMap(show.show_id), seatIds)).toEqual([
        "AVAILABLE",
        "AVAILABLE",
      ]);
      const lapsed = ok(await short.get(user, held.booking_id)).booking;
      expect(lapsed.status).toBe("EXPIRED");
      // Paid, and not refunded yet: the refund comes when the booking is really ended.
      expect({ payment: lapsed.payment, refund: lapsed.refund }).toEqual({
        payment: { transaction_id: paid.transaction_id, amount: 51 },
        refund: null,
      });
      expect(ok(await short.history(user, { status: "EXPIRED" })).total).toBe(1);
      expect(ok(await short.history(user, { status: "PENDING" })).total).toBe(0);

      expectError(await short.confirm(user, held.booking_id), 410, "HOLD_EXPIRED");
      expect((await bookingRow(shortApp, held.booking_id))?.status).toBe("EXPIRED");
      expect(await showSeatRows(shortApp, show.show_id, seatIds)).toEqual(
        seatIds.map((seat_id) => ({ seat_id, status: "AVAILABLE", booking_id: null })),
      );
      expect(await paymentRows(shortApp, held.booking_id)).toEqual([
        {
          status: "REFUNDED",
          amount_cents: 5100,
          transaction_id: paid.transaction_id,
          refund_transaction_id: expect.any(String),
        },
      ]);

      expectError(await short.pay(user, held.booking_id, held.amount), 410, "HOLD_EXPIRED");
      expectError(await short.confirm(user, held.booking_id), 410, "HOLD_EXPIRED");
      expectError(await short.cancel(user, held.booking_id), 409, "INVALID_STATE");
      expect((await paymentRows(shortApp, held.booking_id)).map((row) => row.status)).toEqual([
        "REFUNDED",
      ]);

      const again = ok(await short.hold(other, show.show_id, seatIds));
      expect((await bookingRow(shortApp, again.booking_id))?.status).toBe("PENDING");
      // The history keeps the expired booking with its seats.
      const { booking } = ok(await short.get(user, held.booking_id));
      expect(booking.status).toBe("EXPIRED");
      expect(booking.seats.map((seat: SeatRef) => seat.seat_id).sort()).toEqual(
        [...seatIds].sort(),
      );
      const [refunded] = await paymentRows(shortApp, held.booking_id);
      expect<unknown>(booking.refund).toEqual({
        transaction_id: refunded?.refund_transaction_id,
        amount: 51,
      });
    });

    test("lapsed holds expire on pay, cancel and when another hold reclaims one of their seats", async () => {
      const show = await createShowFixture(shortApp, shortAdmin.token);
      const user = await registerUser(shortApp);
      const other = await registerUser(shortApp);
      const [s1, s2, s3, s4, s5, s6] = show.seat_ids as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      await short.book(user, show.show_id, [s6]);
      const pair = ok(await short.hold(user, show.show_id, [s1, s2])).booking_id;
      const toPay = ok(await short.hold(user, show.show_id, [s3]));
      const toCancel = ok(await short.hold(user, show.show_id, [s4])).booking_id;

      await Bun.sleep(1500);

      // A lapsed hold's seat is not "taken"; a sold one still is.
      const refused = await short.hold(other, show.show_id, [s1, s6]);
      expectError(refused, 409, "SEAT_UNAVAILABLE");
      expect(refused.body.details.failed_seats).toEqual([s6]);
      expect(statusesOf(await short.seatMap(show.show_id), [s1, s6])).toEqual([
        "AVAILABLE",
        "BOOKED",
      ]);

      expectError(await short.pay(user, toPay.booking_id, toPay.amount), 410, "HOLD_EXPIRED");
      expect((await bookingRow(shortApp, toPay.booking_id))?.status).toBe("EXPIRED");
      expect(await paymentRows(shortApp, toPay.booking_id)).toEqual([]);
      expect((await showSeatRows(shortApp, show.show_id, [s3]))[0]?.status).toBe("AVAILABLE");

      expectError(await short.cancel(user, toCancel), 409, "INVALID_STATE");
      expect((await bookingRow(shortApp, toCancel))?.status).toBe("EXPIRED");

      // Taking one seat of a lapsed hold expires the whole hold.
      const reclaim = ok(await short.hold(other, show.show_id, [s2, s5]));
      expect((await bookingRow(shortApp, pair))?.status).toBe("EXPIRED");
      expect(await showSeatRows(shortApp, show.show_id, [s1, s2, s5])).toEqual([
        { seat_id: s1, status: "AVAILABLE", booking_id: null },
        { seat_id: s2, status: "LOCKED", booking_id: reclaim.booking_id },
        { seat_id: s5, status: "LOCKED", booking_id: reclaim.booking_id },
      ]);
      ok(await short.hold(other, show.show_id, [s1, s3, s4]));
      const expired = ok(await short.history(user, { status: "EXPIRED" }));
      expect(expired.total).toBe(3);
    });
  });
});

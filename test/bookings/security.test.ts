import { describe, expect, test } from "bun:test";
import { expectError, ok } from "../support/answers";
import {
  type BookingClient,
  bookingRow,
  heldSeatCount,
  paymentRows,
  showSeatRows,
  useBookingApp,
} from "../support/booking-api";
import { registerUser, type TestUser } from "../support/fixtures";
import { MAX_ID, type TestApp } from "../support/harness";
import { describeEachBackend } from "../support/services";

describeEachBackend("bookings on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let client: BookingClient;
  const { fixture } = useBookingApp(backend, (opened) => {
    ({ app, admin, client } = opened);
  });

  describe("authorization", () => {
    test("another user gets 404 on every route of someone's booking, which stays unchanged", async () => {
      const show = await fixture();
      const owner = await registerUser(app);
      const stranger = await registerUser(app);
      const seatIds = show.seat_ids.slice(0, 2);
      const held = ok(await client.hold(owner, show.show_id, seatIds));
      const bookingId: number = held.booking_id;

      expectError(await client.get(stranger, bookingId), 404, "NOT_FOUND");
      expectError(await client.pay(stranger, bookingId, held.amount), 404, "NOT_FOUND");
      expectError(await client.confirm(stranger, bookingId), 404, "NOT_FOUND");
      expectError(await client.cancel(stranger, bookingId), 404, "NOT_FOUND");
      // Same answer as for a booking that does not exist at all.
      expectError(await client.get(stranger, MAX_ID), 404, "NOT_FOUND");
      expect(ok(await client.history(stranger)).total).toBe(0);

      expect(await bookingRow(app, bookingId)).toEqual({
        status: "PENDING",
        user_id: owner.user_id,
      });
      expect(await showSeatRows(app, show.show_id, seatIds)).toEqual(
        seatIds.map((seat_id) => ({ seat_id, status: "LOCKED", booking_id: bookingId })),
      );
      expect(await paymentRows(app, bookingId)).toEqual([]);

      ok(await client.pay(owner, bookingId, held.amount));
      expectError(await client.confirm(stranger, bookingId), 404, "NOT_FOUND");
      ok(await client.confirm(owner, bookingId));
      expectError(await client.cancel(stranger, bookingId), 404, "NOT_FOUND");
      expect((await bookingRow(app, bookingId))?.status).toBe("CONFIRMED");
      expect((await paymentRows(app, bookingId)).map((row) => row.status)).toEqual(["SUCCEEDED"]);
      expect((await showSeatRows(app, show.show_id, seatIds)).map((row) => row.status)).toEqual([
        "BOOKED",
        "BOOKED",
      ]);
    });

    test("an admin can read any booking; only its owner pays for it", async () => {
      const show = await fixture();
      const owner = await registerUser(app);
      const held = ok(await client.hold(owner, show.show_id, [show.seat_ids[0] as number]));

      const asAdmin = ok(await client.get(admin, held.booking_id));
      const asOwner = ok(await client.get(owner, held.booking_id));
      expect(asAdmin).toEqual(asOwner);
      expect(asAdmin.booking.user_id).toBe(owner.user_id);
      // The admin's own history stays the admin's.
      expect(ok(await client.history(admin)).bookings).toEqual([]);

      expectError(await client.pay(admin, held.booking_id, held.amount), 404, "NOT_FOUND");
      expectError(await client.confirm(admin, held.booking_id), 404, "NOT_FOUND");
      expect(await paymentRows(app, held.booking_id)).toEqual([]);
      expect((await bookingRow(app, held.booking_id))?.status).toBe("PENDING");

      // An admin may cancel it, though (documented in the OpenAPI description).
      expect(ok(await client.cancel(admin, held.booking_id)).status).toBe("CANCELLED");
      expect((await bookingRow(app, held.booking_id))?.status).toBe("CANCELLED");
      expectError(await client.cancel(owner, held.booking_id), 409, "INVALID_STATE");
    });

    test("anonymous callers and bad tokens get 401 on every booking route", async () => {
      const show = await fixture();
      const owner = await registerUser(app);
      const held = ok(await client.hold(owner, show.show_id, [show.seat_ids[0] as number]));
      const id = held.booking_id;
      const routes: [string, string, unknown][] = [
        ["POST", "/api/v1/bookings/lock", { show_id: show.show_id, seat_ids: [show.seat_ids[1]] }],
        ["POST", "/api/v1/bookings/payments/simulate", { booking_id: id, amount: held.amount }],
        ["POST", `/api/v1/bookings/${id}/confirm`, {}],
        ["POST", `/api/v1/bookings/${id}/cancel`, {}],
        ["GET", `/api/v1/bookings/${id}`, undefined],
        ["GET", "/api/v1/user/bookings", undefined],
      ];
      for (const [method, path, body] of routes) {
        expectError(await app.request(method, path, { body }), 401, "UNAUTHENTICATED");
        expectError(
          await app.request(method, path, { body, token: "not-a-jwt" }),
          401,
          "UNAUTHENTICATED",
        );
        expectError(
          await app.request(method, path, { body, headers: { Authorization: owner.token } }),
          401,
          "UNAUTHENTICATED",
        );
      }
      expect(await bookingRow(app, id)).toEqual({ status: "PENDING", user_id: owner.user_id });
      expect(await paymentRows(app, id)).toEqual([]);
      expect(await heldSeatCount(app, [show.show_id])).toBe(1);
    });
  });
});

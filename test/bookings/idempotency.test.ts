import { describe, expect, spyOn, test } from "bun:test";
import { bodyAt, expectError, ok } from "../support/answers";
import {
  type BookingClient,
  bookingCount,
  bookingRow,
  heldSeatCount,
  keyHeader,
  paymentRows,
  showSeatRows,
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

  describe("idempotency", () => {
    const newKey = () => `key-${crypto.randomUUID()}`;

    test("same key and body replays the first answer byte for byte; another body is 409", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const [s1, s2] = show.seat_ids as [number, number];
      const key = newKey();

      const first = await client.hold(user, show.show_id, [s1], keyHeader(key));
      const bookingId = ok(first).booking_id;
      const again = await client.hold(user, show.show_id, [s1], {
        ...keyHeader(key),
        "X-Request-Id": "retry-1",
      });
      expect(again.status).toBe(200);
      expect(again.text).toBe(first.text);
      expect(bodyAt(again, 200).booking_id).toBe(bookingId);
      // A replay is still an ordinary answer of this request.
      expect(again.headers.get("Content-Type")).toContain("application/json");
      expect(again.headers.get("X-Request-Id")).toBe("retry-1");
      expect(await bookingCount(app, user.user_id)).toBe(1);

      expectError(
        await client.hold(user, show.show_id, [s2], keyHeader(key)),
        409,
        "IDEMPOTENCY_KEY_IN_USE",
      );
      // The key belongs to the lock request: paying with it is another request.
      expectError(
        await client.pay(user, bookingId, bodyAt(first, 200).amount, undefined, keyHeader(key)),
        409,
        "IDEMPOTENCY_KEY_IN_USE",
      );
      expect(await bookingCount(app, user.user_id)).toBe(1);
      expect(await paymentRows(app, bookingId)).toEqual([]);
      expect((await showSeatRows(app, show.show_id, [s2]))[0]?.status).toBe("AVAILABLE");

      // Retried payments and confirms replay too, and charge once.
      const payKey = newKey();
      const paid = await client.pay(
        user,
        bookingId,
        bodyAt(first, 200).amount,
        undefined,
        keyHeader(payKey),
      );
      ok(paid);
      const paidAgain = await client.pay(
        user,
        bookingId,
        bodyAt(first, 200).amount,
        undefined,
        keyHeader(payKey),
      );
      expect({ status: paidAgain.status, text: paidAgain.text }).toEqual({
        status: 200,
        text: paid.text,
      });
      expect((await paymentRows(app, bookingId)).map((row) => row.status)).toEqual(["SUCCEEDED"]);

      const confirmKey = newKey();
      const confirmed = await client.confirm(user, bookingId, {}, keyHeader(confirmKey));
      ok(confirmed);
      const confirmedAgain = await client.confirm(user, bookingId, {}, keyHeader(confirmKey));
      expect({ status: confirmedAgain.status, text: confirmedAgain.text }).toEqual({
        status: 200,
        text: confirmed.text,
      });
      // Without the key, a second confirm is a conflict.
      expectError(await client.confirm(user, bookingId, {}), 409, "INVALID_STATE");
    });

    test("an answer that cannot be stored is still given; a retry meanwhile is refused, not run", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const key = newKey();
      const complete = spyOn(app.runtime.services.idempotency, "complete").mockRejectedValueOnce(
        new Error("the database went away"),
      );
      try {
        const first = await client.hold(
          user,
          show.show_id,
          [show.seat_ids[0] as number],
          keyHeader(key),
        );
        expect(ok(first).status).toBe("PENDING");
        expect(complete).toHaveBeenCalledTimes(1);
      } finally {
        complete.mockRestore();
      }
      expectError(
        await client.hold(user, show.show_id, [show.seat_ids[0] as number], keyHeader(key)),
        409,
        "IDEMPOTENCY_KEY_IN_USE",
      );
      expect(await bookingCount(app, user.user_id)).toBe(1);
    });

    test("a declined payment's 402 is stored: the retry replays it and charges nothing more", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const held = ok(await client.hold(user, show.show_id, [show.seat_ids[0] as number]));
      const key = newKey();
      const declined = await client.pay(
        user,
        held.booking_id,
        held.amount,
        "decline",
        keyHeader(key),
      );
      expectError(declined, 402, "PAYMENT_FAILED");
      const retried = await client.pay(
        user,
        held.booking_id,
        held.amount,
        "decline",
        keyHeader(key),
      );
      expectError(retried, 402, "PAYMENT_FAILED");
      expect(retried.text).toBe(declined.text);
      expect((await paymentRows(app, held.booking_id)).map((row) => row.status)).toEqual([
        "DECLINED",
      ]);
    });

    test("a 409 SEAT_UNAVAILABLE is not stored: once the seat frees, the same key succeeds", async () => {
      const show = await fixture();
      const owner = await registerUser(app);
      const waiting = await registerUser(app);
      const seat = show.seat_ids[0] as number;
      const ownerBooking = ok(await client.hold(owner, show.show_id, [seat])).booking_id;
      const key = newKey();

      expectError(
        await client.hold(waiting, show.show_id, [seat], keyHeader(key)),
        409,
        "SEAT_UNAVAILABLE",
      );
      ok(await client.cancel(owner, ownerBooking));
      const later = await client.hold(waiting, show.show_id, [seat], keyHeader(key));
      const bookingId = ok(later).booking_id;
      const replay = await client.hold(waiting, show.show_id, [seat], keyHeader(key));
      expect(replay.text).toBe(later.text);
      expect(await bookingCount(app, waiting.user_id)).toBe(1);
      expect((await bookingRow(app, bookingId))?.status).toBe("PENDING");
      expectError(
        await client.hold(owner, show.show_id, [seat], keyHeader(key)),
        409,
        "SEAT_UNAVAILABLE",
      );
    });

    test("keys are per user: another user's identical key and body is not a replay", async () => {
      const show = await fixture();
      const alice = await registerUser(app);
      const bob = await registerUser(app);
      const [s1, s2] = show.seat_ids as [number, number];
      const key = newKey();

      const alices = ok(await client.hold(alice, show.show_id, [s1], keyHeader(key)));
      // Bob sends Alice's exact request: he must not receive her booking.
      const copied = await client.hold(bob, show.show_id, [s1], keyHeader(key));
      expectError(copied, 409, "SEAT_UNAVAILABLE");
      expect(copied.body.details.failed_seats).toEqual([s1]);
      const bobs = ok(await client.hold(bob, show.show_id, [s2], keyHeader(key)));
      expect(bobs.booking_id).not.toBe(alices.booking_id);
      expect((await bookingRow(app, bobs.booking_id))?.user_id).toBe(bob.user_id);
      expect(await bookingCount(app, alice.user_id)).toBe(1);
      expect(await bookingCount(app, bob.user_id)).toBe(1);
    });

    test("two simultaneous requests with one key make one booking", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const key = newKey();
      const seats = show.seat_ids.slice(0, 2);
      const responses = await Promise.all([
        client.hold(user, show.show_id, seats, keyHeader(key)),
        client.hold(user, show.show_id, seats, keyHeader(key)),
      ]);
      const succeeded = responses.filter((response) => response.status === 200);
      expect(succeeded.length).toBeGreaterThanOrEqual(1);
      for (const response of responses) {
        if (response.status === 200) expect(response.text).toBe(succeeded[0]?.text as string);
        else expectError(response, 409, "IDEMPOTENCY_KEY_IN_USE");
      }
      expect(await bookingCount(app, user.user_id)).toBe(1);
      expectError(
        await client.hold(user, show.show_id, show.seat_ids.slice(2, 3), keyHeader(key)),
        409,
        "IDEMPOTENCY_KEY_IN_USE",
      );
      // Once the first has finished, a retry is a replay.
      const retry = await client.hold(user, show.show_id, seats, keyHeader(key));
      expect({ status: retry.status, text: retry.text }).toEqual({
        status: 200,
        text: succeeded[0]?.text as string,
      });
    });

    test("malformed keys are refused with 400 before anything is held; GETs ignore the header", async () => {
      const show = await fixture();
      const user = await registerUser(app);
      const seat = show.seat_ids[0] as number;
      // A newline cannot travel in an HTTP header at all (fetch refuses to send it).
      expect(() => new Headers(keyHeader("line\nbreak"))).toThrow();
      for (const bad of ["x".repeat(256), "", "bell\x07key", "tab\tkey", "del\x7fkey", "nul\x01"]) {
        const refused = await client.hold(user, show.show_id, [seat], keyHeader(bad));
        expectError(refused, 400, "VALIDATION_ERROR");
        expect(refused.body.details).toHaveProperty("Idempotency-Key");
      }
      expect(await bookingCount(app, user.user_id)).toBe(0);
      expect(await heldSeatCount(app, [show.show_id])).toBe(0);

      const longest = "k".repeat(255);
      const held = ok(await client.hold(user, show.show_id, [seat], keyHeader(longest)));
      expect(
        bodyAt(await client.hold(user, show.show_id, [seat], keyHeader(longest)), 200).booking_id,
      ).toBe(held.booking_id);

      for (const bad of ["x".repeat(256), "bell\x07key"]) {
        expect(ok(await client.get(user, held.booking_id, keyHeader(bad))).booking.booking_id).toBe(
          held.booking_id,
        );
        expect(ok(await client.history(user, {}, keyHeader(bad))).total).toBe(1);
      }
      // A GET with a key used by a POST is not a replay of it either.
      expect(ok(await client.get(user, held.booking_id, keyHeader(longest))).booking.status).toBe(
        "PENDING",
      );
      expectError(await client.get(user, "abc", keyHeader(longest)), 400, "VALIDATION_ERROR");
    });
  });
});

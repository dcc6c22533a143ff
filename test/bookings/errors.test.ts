import { beforeAll, describe, expect, test } from "bun:test";
import { expectError, ok } from "../support/answers";
import {
  type BookingClient,
  bookingCount,
  bookingRow,
  heldSeatCount,
  startShowNow,
  useBookingApp,
} from "../support/booking-api";
import { registerUser, type ShowFixture, type TestUser } from "../support/fixtures";
import { MAX_ID, query, SETUP_TIMEOUT_MS, sql, type TestApp } from "../support/harness";
import { bookingInvariantViolations } from "../support/invariants";
import { describeEachBackend } from "../support/services";

describeEachBackend("bookings on %s", (backend) => {
  let app: TestApp;
  let client: BookingClient;
  const { fixture } = useBookingApp(backend, (opened) => {
    ({ app, client } = opened);
  });

  describe("bad input", () => {
    let show: ShowFixture;
    let otherShow: ShowFixture;
    let startedShow: ShowFixture;
    let user: TestUser;

    beforeAll(async () => {
      show = await fixture({ rows: ["A", "B", "C"], perRow: 5 });
      otherShow = await fixture();
      startedShow = await fixture();
      await startShowNow(app, startedShow.show_id);
      user = await registerUser(app);
    }, SETUP_TIMEOUT_MS);

    test("invalid lock bodies are refused with 400 VALIDATION_ERROR naming the field", async () => {
      const [s1, s2] = show.seat_ids as [number, number];
      const cases: [unknown, string][] = [
        [{ show_id: show.show_id, seat_ids: [] }, "seat_ids"],
        [{ show_id: show.show_id, seat_ids: show.seat_ids.slice(0, 11) }, "seat_ids"],
        [{ show_id: show.show_id, seat_ids: [s1, s2, s1] }, "seat_ids"],
        [{ show_id: show.show_id, seat_ids: [s1, -s2] }, "seat_ids.1"],
        [{ show_id: show.show_id, seat_ids: [0] }, "seat_ids.0"],
        [{ show_id: show.show_id, seat_ids: [String(s1)] }, "seat_ids.0"],
        [{ show_id: show.show_id, seat_ids: [s1, 1.5] }, "seat_ids.1"],
        [{ show_id: show.show_id, seat_ids: [2 ** 31] }, "seat_ids.0"],
        [{ show_id: show.show_id, seat_ids: [s1, null] }, "seat_ids.1"],
        [{ show_id: show.show_id, seat_ids: s1 }, "seat_ids"],
        [{ show_id: show.show_id }, "seat_ids"],
        [{ seat_ids: [s1] }, "show_id"],
        [{ show_id: String(show.show_id), seat_ids: [s1] }, "show_id"],
        [{ show_id: -1, seat_ids: [s1] }, "show_id"],
        [{ show_id: 1.5, seat_ids: [s1] }, "show_id"],
        [{ show_id: 2 ** 31, seat_ids: [s1] }, "show_id"],
        [[show.show_id, s1], "(root)"],
      ];
      expect(show.seat_ids.length).toBeGreaterThanOrEqual(11);
      for (const [body, field] of cases) {
        const refused = await client.lock(user, body);
        expectError(refused, 400, "VALIDATION_ERROR");
        expect({ body, details: Object.keys(refused.body.details ?? {}) }).toEqual({
          body,
          details: expect.arrayContaining([field]),
        });
      }
      for (const raw of ['{"show_id": 1, "seat_ids": [1', "", "not json", "{"]) {
        const malformed = await app.request("POST", "/api/v1/bookings/lock", {
          token: user.token,
          rawBody: raw,
          headers: { "Content-Type": "application/json" },
        });
        expectError(malformed, 400, "VALIDATION_ERROR");
      }
      expect(await bookingCount(app, user.user_id)).toBe(0);
      expect(await heldSeatCount(app, [show.show_id])).toBe(0);
    });

    test("seats outside the show's venue are 400 with exactly those ids in invalid_seats", async () => {
      const [s1, s2] = show.seat_ids as [number, number];
      const [o1, o2] = otherShow.seat_ids as [number, number];
      const missing = MAX_ID - 7;

      const foreign = await client.lock(user, {
        show_id: show.show_id,
        seat_ids: [s1, o1, s2, o2],
      });
      expectError(foreign, 400, "VALIDATION_ERROR");
      expect([...foreign.body.details.invalid_seats].sort((a, b) => a - b)).toEqual([o1, o2]);

      const unknown = await client.lock(user, { show_id: show.show_id, seat_ids: [missing, s1] });
      expectError(unknown, 400, "VALIDATION_ERROR");
      expect(unknown.body.details.invalid_seats).toEqual([missing]);

      const both = await client.lock(user, { show_id: show.show_id, seat_ids: [missing, o2] });
      expectError(both, 400, "VALIDATION_ERROR");
      expect([...both.body.details.invalid_seats].sort((a, b) => a - b)).toEqual([o2, missing]);

      expect(await bookingCount(app, user.user_id)).toBe(0);
      expect(await heldSeatCount(app, [show.show_id, otherShow.show_id])).toBe(0);
      // No lock of the refused requests was left behind.
      expect((await app.runtime.shared.locks.snapshot(show.show_id)).size).toBe(0);
    });

    test("a taken seat beside an id that is no seat is 409 for the taken seat, from either layer", async () => {
      // A show of its own: the tests after this one expect the shared shows unheld.
      const own = await fixture();
      const taken = own.seat_ids[0] as number;
      const missing = MAX_ID - 9;
      const holder = await registerUser(app);
      const held = ok(await client.hold(holder, own.show_id, [taken]));
      const expectTakenRefused = async () => {
        const mixed = await client.hold(user, own.show_id, [taken, missing]);
        expectError(mixed, 409, "SEAT_UNAVAILABLE");
        expect(mixed.body.details).toEqual({ failed_seats: [taken] });
      };
      // Refused by the seat's Redis lock...
      await expectTakenRefused();
      // ...and, with that lock gone (as after a Redis restart), by PostgreSQL the same way.
      const [booking] = await query<{ lock_token: string }>(
        app,
        sql`select lock_token from bookings where booking_id = ${held.booking_id}`,
      );
      await app.runtime.shared.locks.release(own.show_id, [taken], booking?.lock_token ?? "");
      expect((await app.runtime.shared.locks.snapshot(own.show_id)).has(taken)).toBe(false);
      await expectTakenRefused();
      expect(await bookingCount(app, user.user_id)).toBe(0);
    });

    test("unknown show → 404, started show → 400, nothing held", async () => {
      const unknown = await client.hold(user, MAX_ID, [show.seat_ids[0] as number]);
      expectError(unknown, 404, "NOT_FOUND");
      expect(unknown.body.message).toBe("Show not found");
      expectError(
        await client.hold(user, startedShow.show_id, startedShow.seat_ids.slice(0, 2)),
        400,
        "SHOW_STARTED",
      );
      expect(await bookingCount(app, user.user_id)).toBe(0);
      expect(await heldSeatCount(app, [show.show_id, otherShow.show_id, startedShow.show_id])).toBe(
        0,
      );
    });

    test("after all the refusals, the same seats can be held", async () => {
      const seats = show.seat_ids.slice(0, 10);
      const held = ok(await client.hold(user, show.show_id, seats));
      expect(held.locked_seats).toHaveLength(10);
      expect(held.amount).toBe(255);
      expect(await bookingCount(app, user.user_id)).toBe(1);
      const twice = await client.hold(user, show.show_id, [...seats].reverse());
      expectError(twice, 409, "SEAT_UNAVAILABLE");
      expect([...twice.body.details.failed_seats].sort((a, b) => a - b)).toEqual(
        [...seats].sort((a, b) => a - b),
      );
      expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    });

    test("booking ids in paths that are not positive 31-bit integers are 400", async () => {
      for (const id of ["abc", "-1", "1.5", "99999999999", "0", String(2 ** 31)]) {
        for (const response of [
          await client.get(user, id),
          await client.confirm(user, id),
          await client.cancel(user, id),
        ]) {
          expectError(response, 400, "VALIDATION_ERROR");
          expect(response.body.details).toHaveProperty("booking_id");
        }
      }
    });

    test("confirm with a body booking_id that differs from the path is 400 and confirms nothing", async () => {
      const buyer = await registerUser(app);
      const held = ok(
        await client.hold(buyer, otherShow.show_id, [otherShow.seat_ids[0] as number]),
      );
      ok(await client.pay(buyer, held.booking_id, held.amount));
      for (const body of [{ booking_id: held.booking_id + 1 }, { booking_id: "x" }]) {
        const refused = await client.confirmUnchecked(buyer, held.booking_id, body);
        expectError(refused, 400, "VALIDATION_ERROR");
        expect(refused.body.details).toHaveProperty("booking_id");
      }
      expect((await bookingRow(app, held.booking_id))?.status).toBe("PENDING");
      // No body at all is fine.
      expect(ok(await client.confirm(buyer, held.booking_id)).status).toBe("CONFIRMED");
    });
  });
});

import { afterAll, beforeAll, expect, test } from "bun:test";
import { BOOKED_MARKER } from "../src/infra/seat-locks";
import { runCleanup } from "../src/jobs/cleanup";
import { createLogger } from "../src/lib/logger";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdSeats,
  payAndConfirm,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, type TestApp } from "./support/harness";
import { bookingInvariantViolations } from "./support/invariants";
import { describeEachBackendAndCluster } from "./support/services";

const HOLD_TTL_SECONDS = 600;

describeEachBackendAndCluster("seat lock repair on %s", (backend) => {
  let app: TestApp;
  let adminToken: string;
  beforeAll(async () => {
    app = await createTestApp(backend, { HOLD_TTL_SECONDS: String(HOLD_TTL_SECONDS) });
    adminToken = (await createAdmin(app)).token;
  });
  afterAll(() => app.close());

  const cleanup = () => runCleanup({ ...app.runtime.cleanup, logger: createLogger("silent") });
  const locks = () => app.runtime.shared.locks;

  /** Two users: one holds two seats, the other buys one. */
  async function holdAndBuy(showId: number, seatIds: number[]) {
    const [holder, buyer] = await createUsersDirect(app, 2);
    expect((await holdSeats(app, holder as TestUser, showId, seatIds.slice(0, 2))).status).toBe(
      200,
    );
    const bought = await holdSeats(app, buyer as TestUser, showId, seatIds.slice(2, 3));
    expect(bought.status).toBe(200);
    await payAndConfirm(app, buyer as TestUser, bought.body);
  }

  test("locks Redis lost come back with the hold's token or the BOOKED marker", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 6 });
    await holdAndBuy(show.show_id, show.seat_ids);
    const before = await locks().snapshot(show.show_id);
    expect(before.size).toBe(3);

    // What a Redis restart without persistence leaves: nothing.
    await locks().discard(await locks().entries());
    expect(await bookingInvariantViolations(app, show.show_id)).not.toEqual([]);

    const result = await cleanup();

    expect(result.locks.restored).toBeGreaterThanOrEqual(3);
    expect(await locks().snapshot(show.show_id)).toEqual(before);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
    const restored = (await locks().entries()).filter((lock) => lock.showId === show.show_id);
    for (const lock of restored) {
      if (lock.value === BOOKED_MARKER) {
        // Until after the show, which starts in 48 hours.
        expect(lock.ttlMs).toBeGreaterThan(47 * 3_600_000);
      } else {
        expect(lock.ttlMs).toBeLessThanOrEqual(HOLD_TTL_SECONDS * 1000);
        expect(lock.ttlMs).toBeGreaterThan((HOLD_TTL_SECONDS - 60) * 1000);
      }
    }
  });

  test("a confirmed seat still locked by its hold's token gets the BOOKED marker", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 6 });
    await holdAndBuy(show.show_id, show.seat_ids);
    const bookedSeat = show.seat_ids[2] as number;
    // markBooked failed: the key still holds a token, written minutes ago.
    const [marker] = (await locks().entries()).filter(
      (lock) => lock.showId === show.show_id && lock.seatId === bookedSeat,
    );
    expect(marker?.value).toBe(BOOKED_MARKER);
    await locks().discard([marker as NonNullable<typeof marker>]);
    const oldToken = {
      showId: show.show_id,
      seatId: bookedSeat,
      value: "old-token",
      ttlMs: 300_000,
    };
    expect(await locks().restore([oldToken])).toBe(1);

    await cleanup();

    expect((await locks().snapshot(show.show_id)).get(bookedSeat)).toBe(BOOKED_MARKER);
    expect(await bookingInvariantViolations(app, show.show_id)).toEqual([]);
  });

  test("stale locks on free seats go; a young lock of a hold in flight stays", async () => {
    const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 6 });
    const [staleMarkerSeat, agedTokenSeat, youngTokenSeat] = show.seat_ids as [
      number,
      number,
      number,
    ];
    const lock = (seatId: number, value: string, ageMs: number) => ({
      showId: show.show_id,
      seatId,
      value,
      ttlMs: HOLD_TTL_SECONDS * 1000 - ageMs,
    });
    // A cancel whose clearBooked never reached Redis; a release that never did; a hold whose
    // transaction has not committed yet.
    await locks().restore([
      { ...lock(staleMarkerSeat, BOOKED_MARKER, 0), ttlMs: 86_400_000 },
      lock(agedTokenSeat, "abandoned-token", 120_000),
      lock(youngTokenSeat, "in-flight-token", 1_000),
    ]);

    const result = await cleanup();

    expect(result.locks.discarded).toBeGreaterThanOrEqual(2);
    const left = await locks().snapshot(show.show_id);
    expect([...left]).toEqual([[youngTokenSeat, "in-flight-token"]]);
    const [user] = await createUsersDirect(app, 1);
    const hold = await holdSeats(app, user as TestUser, show.show_id, [
      staleMarkerSeat,
      agedTokenSeat,
    ]);
    expect(hold.status).toBe(200);
  });
});

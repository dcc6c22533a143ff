import { describe, expect, test } from "bun:test";
import { SeatChangeAnnouncer } from "../src/services/seat-change-announcer";
import type { SeatChange } from "../src/services/seat-changes";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Redis as the announcer sees it: `failures` calls fail before it comes back. */
function flakyRedis(failures: number) {
  let left = failures;
  const bumped: number[] = [];
  const published: SeatChange[] = [];
  const reachable = () => {
    if (left > 0) {
      left--;
      throw new Error("Redis unreachable");
    }
  };
  return {
    bumped,
    published,
    seatMap: {
      changed: async (showId: number) => {
        reachable();
        bumped.push(showId);
      },
    },
    events: {
      publish: async (change: SeatChange) => {
        reachable();
        published.push(change);
      },
    },
  };
}

describe("SeatChangeAnnouncer", () => {
  test("bumps the show's map version, then publishes the change", async () => {
    const redis = flakyRedis(0);
    const announcer = new SeatChangeAnnouncer(redis.seatMap, redis.events, silent, 10);
    const change = { showId: 4, seatIds: [1, 2], status: "LOCKED" as const };
    await announcer.announce(change);
    expect(redis.bumped).toEqual([4]);
    expect(redis.published).toEqual([change]);
    expect(announcer.pending).toEqual([]);
  });

  test("a show whose change could not be told is resynchronised once Redis answers", async () => {
    const redis = flakyRedis(3);
    const announcer = new SeatChangeAnnouncer(redis.seatMap, redis.events, silent, 10);
    try {
      // Never rejects: the caller's request has committed and must not fail now.
      await announcer.announce({ showId: 4, seatIds: [1], status: "LOCKED" });
      await announcer.announce({ showId: 4, seatIds: [2], status: "BOOKED" });
      await announcer.announce({ showId: 5, seatIds: [3], status: "AVAILABLE" });
      expect(announcer.pending.sort()).toEqual([4, 5]);
      while (announcer.pending.length > 0) await Bun.sleep(5);
      // One resynchronisation per show, covering every change it missed.
      expect(redis.published).toEqual([
        { showId: 4, layoutChanged: true },
        { showId: 5, layoutChanged: true },
      ]);
      expect(redis.bumped).toEqual([4, 5]);
    } finally {
      announcer.close();
    }
  });

  test("after close nothing is retried", async () => {
    const redis = flakyRedis(1);
    const announcer = new SeatChangeAnnouncer(redis.seatMap, redis.events, silent, 10);
    await announcer.announce({ showId: 4, seatIds: [1], status: "LOCKED" });
    announcer.close();
    await Bun.sleep(50);
    expect(redis.published).toEqual([]);
    expect(announcer.pending).toEqual([4]);
  });
});

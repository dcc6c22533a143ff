import { describe, expect, test } from "bun:test";
import type { SeatChange } from "../src/infra/seat-changes";
import { SeatChangeAnnouncer } from "../src/modules/seat-map/announcer";

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

  test("while Redis stays away, one pass at a time tries one show and stops", async () => {
    const redis = flakyRedis(Number.POSITIVE_INFINITY);
    let attempts = 0;
    const counting = {
      changed: async (showId: number) => {
        attempts++;
        await Bun.sleep(15); // a command timing out, slower than the retry period
        await redis.seatMap.changed(showId);
      },
    };
    const announcer = new SeatChangeAnnouncer(counting, redis.events, silent, 5);
    try {
      for (let show = 1; show <= 20; show++) {
        await announcer.announce({ showId: show, seatIds: [1], status: "LOCKED" });
      }
      const afterFirstFailures = attempts;
      await Bun.sleep(200);
      // Passes never overlap, and each stops at its first failure: at most one attempt
      // per 20 ms (15 ms attempt + 5 ms wait), not twenty.
      expect(attempts - afterFirstFailures).toBeLessThanOrEqual(11);
      announcer.close();
      await Bun.sleep(30);
      // The show a pass was trying when it failed is back in the list with the others.
      expect(announcer.pending).toHaveLength(20);
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

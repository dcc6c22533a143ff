import { describe, expect, test } from "bun:test";
import { type FlashSaleRun, summarizeFlashSale } from "../scripts/bench/scenarios/flash-sale";
import { Counter } from "../scripts/bench/stats";

const usage = { wall_s: 1, cpu_s: 0.5, percent_of_one_core: 50 };
const oversell = { checked: true, oversold_seats: 0, violation_count: 0, violations: [] };

/** A sold-out sale of 2-seat holds that succeeded at the given milliseconds (10 seats on sale). */
function saleWithWinsAt(winsAtMs: number[]): FlashSaleRun {
  const lastMs = winsAtMs.at(-1) ?? 0;
  return {
    showId: 1,
    virtualUsers: 2,
    timeLimitMs: 30_000,
    startedAt: 1_000,
    endedAt: 1_000 + lastMs + 50,
    samples: winsAtMs.map((atMs) => ({ startedAt: 1_000 + atMs - 5, ms: 5 })),
    statuses: new Counter(),
    told: new Map(),
    wins: winsAtMs.map((atMs) => ({ atMs, seats: 2 })),
    seatsOnSale: 10,
    soldOut: true,
    seatMapMs: [],
    seatMapFailures: new Counter(),
  };
}

describe("the flash sale's summary", () => {
  test("separates the bulk of the sale (90% of the seats held) from its tail", () => {
    // Four quick holds take 8 of the 10 seats; the fifth (seats 9 and 10) comes 2 s later.
    const result = summarizeFlashSale(saleWithWinsAt([100, 200, 300, 400, 2_400]), usage, oversell);
    expect(result.time_to_sell_out_s).toBe(2.4);
    expect(result.holds_per_s).toBeCloseTo(5 / 2.4, 1);
    // 90% of 10 seats is 9: reached only by the fifth hold.
    expect(result.bulk).toEqual({ seconds: 2.4, holds_per_s: 2.1 });
  });

  test("reports the bulk as soon as the seats held reach 90%, counting each hold's seats", () => {
    const run = saleWithWinsAt([100, 200, 300, 400, 3_000]);
    run.seatsOnSale = 20;
    // 1 + 3 + 5 + 9 seats: 18 of 20 (90%) are held by the fourth hold, at 0.4 s.
    run.wins = run.wins.map((win, index) => ({ ...win, seats: [1, 3, 5, 9, 2][index] as number }));
    expect(summarizeFlashSale(run, usage, oversell).bulk).toEqual({
      seconds: 0.4,
      holds_per_s: 10,
    });
  });

  test("counts successful holds per 250 ms, empty bins included", () => {
    const result = summarizeFlashSale(saleWithWinsAt([10, 240, 260, 900]), usage, oversell);
    expect(result.holds_per_quarter_second).toEqual([2, 1, 0, 1]);
  });

  test("has no bulk when 90% of the seats were never held", () => {
    const run = saleWithWinsAt([100, 200]);
    run.soldOut = false;
    expect(summarizeFlashSale(run, usage, oversell).bulk).toBeNull();
  });
});

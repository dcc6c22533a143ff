import { afterEach, describe, expect, test } from "bun:test";
import type { SeatStatus } from "../src/infra/seat-changes";
import { SeatStatusReconciler, type SeatStatusRow } from "../src/modules/seat-map/reconciler";
import { waitUntil } from "./support/processes";

/** Every reconciler a test made, stopped after it whatever its outcome. */
const made: SeatStatusReconciler[] = [];
afterEach(() => {
  for (const reconciler of made.splice(0)) reconciler.stop();
});

/** A reconciler whose reads of PostgreSQL the test answers, one at a time. */
function reconcilerWithControlledReads() {
  const reads: { seatIds: number[]; answer: (rows: SeatStatusRow[]) => void; fail: () => void }[] =
    [];
  const corrections: { seatIds: number[]; status: SeatStatus }[] = [];
  const failures: unknown[] = [];
  const reconciler = new SeatStatusReconciler(
    (seatIds) =>
      new Promise((resolve, reject) => {
        reads.push({ seatIds, answer: resolve, fail: () => reject(new Error("db down")) });
      }),
    (error) => failures.push(error),
    (seatIds, status) => corrections.push({ seatIds, status }),
    { delayMs: 5, retryMs: 5 },
  );
  const nextRead = async (count: number) => {
    await waitUntil(
      async () => reads.length >= count,
      () => `reads so far: ${JSON.stringify(reads.map((read) => read.seatIds))}`,
    );
    return reads[count - 1] as (typeof reads)[number];
  };
  made.push(reconciler);
  return { reconciler, corrections, failures, nextRead, reads };
}

const settle = () => Bun.sleep(20);

describe("SeatStatusReconciler", () => {
  test("what the streams were told and PostgreSQL agree: no correction", async () => {
    const { reconciler, corrections, nextRead } = reconcilerWithControlledReads();
    reconciler.published([1, 2], "LOCKED");
    const read = await nextRead(1);
    expect(read.seatIds.sort()).toEqual([1, 2]);
    read.answer([
      { seat_id: 1, status: "LOCKED" },
      { seat_id: 2, status: "LOCKED" },
    ]);
    await settle();
    expect(corrections).toEqual([]);
  });

  test("a stale change told last is corrected to the status PostgreSQL has, once", async () => {
    const { reconciler, corrections, nextRead, reads } = reconcilerWithControlledReads();
    reconciler.published([1], "LOCKED");
    reconciler.published([1, 2], "AVAILABLE");
    (await nextRead(1)).answer([
      { seat_id: 1, status: "LOCKED" },
      { seat_id: 2, status: "AVAILABLE" },
    ]);
    await settle();
    expect(corrections).toEqual([{ seatIds: [1], status: "LOCKED" }]);
    expect(reads).toHaveLength(1);
  });

  test("a seat changed while its read runs is left to the next read", async () => {
    const { reconciler, corrections, nextRead } = reconcilerWithControlledReads();
    reconciler.published([7], "LOCKED");
    const first = await nextRead(1);
    // The read's snapshot predates this confirmation; its LOCKED must not undo it.
    reconciler.published([7], "BOOKED");
    first.answer([{ seat_id: 7, status: "LOCKED" }]);
    const second = await nextRead(2);
    expect(second.seatIds).toEqual([7]);
    second.answer([{ seat_id: 7, status: "BOOKED" }]);
    await settle();
    expect(corrections).toEqual([]);
  });

  test("a failed read is reported and tried again", async () => {
    const { reconciler, corrections, failures, nextRead } = reconcilerWithControlledReads();
    reconciler.published([3], "AVAILABLE");
    (await nextRead(1)).fail();
    const retry = await nextRead(2);
    expect(retry.seatIds).toEqual([3]);
    expect(failures).toHaveLength(1);
    retry.answer([{ seat_id: 3, status: "BOOKED" }]);
    await settle();
    expect(corrections).toEqual([{ seatIds: [3], status: "BOOKED" }]);
  });

  test("a lapse announced while a read runs is not undone by that read", async () => {
    const { reconciler, corrections, nextRead } = reconcilerWithControlledReads();
    reconciler.published([5], "LOCKED");
    const read = await nextRead(1);
    reconciler.toldOf([5], "AVAILABLE");
    read.answer([{ seat_id: 5, status: "LOCKED" }]);
    await settle();
    expect(corrections).toEqual([]);
  });

  test("once stopped, a read that ends corrects nothing, reports nothing, retries nothing", async () => {
    for (const ending of ["answer", "fail"] as const) {
      const { reconciler, corrections, failures, nextRead, reads } =
        reconcilerWithControlledReads();
      reconciler.published([6], "AVAILABLE");
      const read = await nextRead(1);
      reconciler.stop();
      if (ending === "answer") read.answer([{ seat_id: 6, status: "BOOKED" }]);
      else read.fail();
      reconciler.published([6], "LOCKED");
      await settle();
      expect({ ending, corrections, failures, reads: reads.length }).toEqual({
        ending,
        corrections: [],
        failures: [],
        reads: 1,
      });
    }
  });

  test("a lapse the streams were told counts as told", async () => {
    const { reconciler, corrections, nextRead } = reconcilerWithControlledReads();
    reconciler.published([4], "LOCKED");
    reconciler.toldOf([4], "AVAILABLE");
    (await nextRead(1)).answer([{ seat_id: 4, status: "AVAILABLE" }]);
    await settle();
    expect(corrections).toEqual([]);
  });
});

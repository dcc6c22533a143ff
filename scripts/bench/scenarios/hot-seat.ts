import { outcomeOf } from "../http";
import { type LoadGeneratorUsage, startMeter } from "../meter";
import type { OversellReport } from "../oversell";
import { Counter, type LatencySummary, seconds, summarizeLatencies } from "../stats";
import type { ScenarioContext } from "./context";
import { hold, recordHold } from "./holds";

/** S2: 500 users ask for the same 2 seats at the same moment; exactly one may win. */

const CONTENDERS = 500;

export interface HotSeatResult {
  show_id: number;
  seat_ids: number[];
  attempts: number;
  winners: number;
  statuses: Record<string, number>;
  wall_s: number;
  latency_ms: LatencySummary;
  load_generator: LoadGeneratorUsage;
  oversell: OversellReport;
}

export async function hotSeat(context: ScenarioContext): Promise<HotSeatResult> {
  const { http, fixture } = context;
  const showId = await fixture.createShow("S2 hot seat");
  const seatIds = fixture.seatIds.slice(0, 2);
  const contenders = fixture.users.slice(0, CONTENDERS);
  if (contenders.length < CONTENDERS) throw new Error(`S2 needs ${CONTENDERS} users`);

  const meter = startMeter();
  const started = performance.now();
  const replies = await Promise.all(
    contenders.map((user) => hold(http, user.token, showId, seatIds)),
  );
  const wallMs = performance.now() - started;
  const usage = meter.stop();

  const told = new Map<number, number>();
  const statuses = new Counter();
  let winners = 0;
  for (const reply of replies) {
    statuses.add(outcomeOf(reply));
    if (recordHold(reply, told)) winners += 1;
  }
  return {
    show_id: showId,
    seat_ids: seatIds,
    attempts: replies.length,
    winners,
    statuses: statuses.toObject(),
    wall_s: seconds(wallMs),
    latency_ms: summarizeLatencies(replies.map((reply) => reply.ms)),
    load_generator: usage,
    oversell: await context.oversell.run(showId, fixture.seatIds, { held: told }),
  };
}

import { type HttpClient, outcomeOf, type Reply } from "../http";
import { type LoadGeneratorUsage, startMeter } from "../meter";
import type { OversellReport } from "../oversell";
import { Counter, type LatencySummary, perSecond, seconds, summarizeLatencies } from "../stats";
import type { BenchUser } from "../users";
import type { ScenarioContext } from "./context";
import { hold, recordHold } from "./holds";

/** S4: 200 users at once each hold one seat of their own, pay the hold's amount, confirm. */

export const BUYERS = 200;

interface StepRecord {
  latencies: number[];
  statuses: Counter;
}

export interface StepResult {
  latency_ms: LatencySummary;
  statuses: Record<string, number>;
}

export interface PurchaseResult {
  show_id: number;
  buyers: number;
  purchases: number;
  wall_s: number;
  purchases_per_s: number;
  /** Lock + pay + confirm of one buyer, for the buyers who got to confirm. */
  flow_ms: LatencySummary;
  steps: { lock: StepResult; pay: StepResult; confirm: StepResult };
  load_generator: LoadGeneratorUsage;
  oversell: OversellReport;
}

interface Purchase {
  held: Map<number, number>;
  confirmed: Map<number, number>;
  steps: { lock: StepRecord; pay: StepRecord; confirm: StepRecord };
  flows: number[];
}

const newStep = (): StepRecord => ({ latencies: [], statuses: new Counter() });

function record(step: StepRecord, reply: Reply): boolean {
  step.latencies.push(reply.ms);
  step.statuses.add(outcomeOf(reply));
  return reply.status === 200;
}

async function buy(
  http: HttpClient,
  user: BenchUser,
  showId: number,
  seatId: number,
  purchase: Purchase,
): Promise<void> {
  const started = performance.now();
  const lockReply = await hold(http, user.token, showId, [seatId]);
  record(purchase.steps.lock, lockReply);
  const held = recordHold(lockReply, purchase.held);
  if (!held) return;
  const payReply = await http.send({
    path: "/api/v1/bookings/payments/simulate",
    token: user.token,
    json: { booking_id: held.booking_id, amount: held.amount },
  });
  if (!record(purchase.steps.pay, payReply)) return;
  const confirmReply = await http.send({
    path: `/api/v1/bookings/${held.booking_id}/confirm`,
    token: user.token,
    json: {},
    read: "json",
  });
  if (!record(purchase.steps.confirm, confirmReply)) return;
  const confirmed = confirmReply.body as {
    booking_id: number;
    confirmed_seats: { seat_id: number }[];
  };
  for (const seat of confirmed.confirmed_seats) {
    purchase.confirmed.set(seat.seat_id, confirmed.booking_id);
  }
  purchase.flows.push(performance.now() - started);
}

const stepResult = (step: StepRecord): StepResult => ({
  latency_ms: summarizeLatencies(step.latencies),
  statuses: step.statuses.toObject(),
});

/** Every buyer at once holds its own seat (the buyer's index in `seatIds`), pays, confirms. */
export async function runPurchases(
  http: HttpClient,
  showId: number,
  buyers: BenchUser[],
  seatIds: number[],
): Promise<Purchase> {
  const run: Purchase = {
    held: new Map(),
    confirmed: new Map(),
    steps: { lock: newStep(), pay: newStep(), confirm: newStep() },
    flows: [],
  };
  await Promise.all(
    buyers.map((user, index) => buy(http, user, showId, seatIds[index] as number, run)),
  );
  return run;
}

export async function purchase(context: ScenarioContext): Promise<PurchaseResult> {
  const { http, fixture } = context;
  const showId = await fixture.createShow("S4 purchase");
  const buyers = fixture.users.slice(0, BUYERS);

  const meter = startMeter();
  const started = performance.now();
  const run = await runPurchases(http, showId, buyers, fixture.seatIds);
  const wallMs = performance.now() - started;
  const usage = meter.stop();

  return {
    show_id: showId,
    buyers: buyers.length,
    purchases: run.flows.length,
    wall_s: seconds(wallMs),
    purchases_per_s: perSecond(run.flows.length, wallMs / 1000),
    flow_ms: summarizeLatencies(run.flows),
    steps: {
      lock: stepResult(run.steps.lock),
      pay: stepResult(run.steps.pay),
      confirm: stepResult(run.steps.confirm),
    },
    load_generator: usage,
    oversell: await context.oversell.run(showId, fixture.seatIds, {
      held: run.held,
      confirmed: run.confirmed,
    }),
  };
}

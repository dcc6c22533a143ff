import { startCpuMeter } from "../cpu";
import { outcomeOf, type Reply } from "../http";
import { startMeter } from "../meter";
import { percentOf } from "../stats";
import type { BenchUser } from "../users";
import type { ScenarioContext } from "./context";
import {
  type FlashSaleResult,
  prepareFlashSale,
  startFlashSaleRun,
  summarizeFlashSale,
} from "./flash-sale";
import { recordHold } from "./holds";

/**
 * S6: virtual users each asking the server for 2 adjacent best-available seats, until every
 * one of them is told there are no 2 together (or S1's time limit runs out). Nobody reads
 * the seat map: the server chooses.
 */

const SEATS_PER_HOLD = 2;
/**
 * The last share of the seats the sale sold, where refusals are expected: requests racing for
 * the last pairs. Seats left over once no 2 adjacent remain (a row's odd seats) are not sold
 * at all, so the tail is measured against what was held, not against the seats on sale.
 */
const TAIL_SHARE = 0.01;

/** When a request was sent and when its answer arrived (performance.now()). */
interface Exchange {
  sentAt: number;
  answeredAt: number;
}

export interface BestAvailableResult extends FlashSaleResult {
  /**
   * 409 answers after which requests sent later still won more than 1% of what the sale
   * finally held: refused for certain while seats remained (goal: 0).
   */
  conflicts_before_tail_percent: number;
  /**
   * The bound the other way: 409 answers after whose request was sent holds answered later
   * won more than 1% (some of those may have committed before the refusal was decided).
   */
  conflicts_before_tail_at_most_percent: number;
  /** Seats on sale that no 2-seat block could take (no adjacent free seat left beside them). */
  seats_left_single: number;
  /** Holds/s of this run over S1's at the same number of virtual users, this bench run. */
  holds_per_s_vs_s1: number | null;
}

function bestAvailableHold(context: ScenarioContext, token: string, showId: number) {
  return context.http.send({
    path: "/api/v1/bookings/lock",
    token,
    json: { show_id: showId, quantity: SEATS_PER_HOLD, adjacent: true },
    read: "json",
  });
}

const isNotEnoughSeats = (reply: Reply) =>
  reply.status === 409 &&
  (reply.body as { code?: string } | undefined)?.code === "NOT_ENOUGH_SEATS";

export async function bestAvailableSale(
  context: ScenarioContext,
  virtualUsers: number,
  s1?: FlashSaleResult,
): Promise<BestAvailableResult> {
  const settings = await prepareFlashSale(context, `S6 ${virtualUsers} VUs`, virtualUsers);
  const { showId, users } = settings;
  const meter = startMeter();
  const cpu = startCpuMeter(context.apiPids);
  const run = startFlashSaleRun(settings);
  const deadline = run.startedAt + settings.timeLimitMs;
  /** When each 409's request was sent and answered, and the same for wins with their seats. */
  const conflicts: Exchange[] = [];
  const wins: (Exchange & { seats: number })[] = [];
  let usersSoldOut = 0;

  const virtualUser = async (vu: number) => {
    for (let request = 0; performance.now() < deadline; request++) {
      const user = users[(vu + request * virtualUsers) % users.length] as BenchUser;
      const reply = await bestAvailableHold(context, user.token, showId);
      run.samples.push({ startedAt: reply.startedAt, ms: reply.ms });
      run.statuses.add(outcomeOf(reply));
      const answer = recordHold(reply, run.told);
      if (answer) {
        run.wins.push({
          atMs: performance.now() - run.startedAt,
          seats: answer.locked_seats.length,
        });
        wins.push({
          sentAt: reply.startedAt,
          answeredAt: reply.startedAt + reply.ms,
          seats: answer.locked_seats.length,
        });
      } else if (reply.status === 409) {
        conflicts.push({ sentAt: reply.startedAt, answeredAt: reply.startedAt + reply.ms });
        if (isNotEnoughSeats(reply)) {
          usersSoldOut += 1;
          return;
        }
      }
    }
  };

  await Promise.all(Array.from({ length: virtualUsers }, (_, vu) => virtualUser(vu)));
  run.endedAt = performance.now();
  run.soldOut = usersSoldOut === virtualUsers;
  const cpuUsage = cpu.stop();
  const usage = meter.stop();
  const oversell = await context.oversell.run(showId, context.fixture.seatIds, { held: run.told });
  const result = summarizeFlashSale(run, usage, oversell);
  // A refusal came before the tail if more than the tail's seats were won after it was
  // decided, somewhere between its request and its answer: for certain by requests sent once
  // it was answered, at most by holds answered after its request was sent.
  const tailSeats = run.told.size * TAIL_SHARE;
  const seatsWonAfter = (moment: number, when: keyof Exchange) =>
    wins.reduce((seats, win) => (win[when] > moment ? seats + win.seats : seats), 0);
  const refusedEarly = (refusal: keyof Exchange, win: keyof Exchange) =>
    conflicts.filter((conflict) => seatsWonAfter(conflict[refusal], win) > tailSeats).length;
  const certainlyEarly = refusedEarly("answeredAt", "sentAt");
  const possiblyEarly = refusedEarly("sentAt", "answeredAt");
  return {
    ...result,
    cpu: cpuUsage,
    conflicts_before_tail_percent: percentOf(certainlyEarly, run.samples.length),
    conflicts_before_tail_at_most_percent: percentOf(possiblyEarly, run.samples.length),
    seats_left_single: run.soldOut ? run.seatsOnSale - run.told.size : 0,
    holds_per_s_vs_s1:
      s1 && s1.holds_per_s > 0
        ? Math.round((result.holds_per_s / s1.holds_per_s) * 100) / 100
        : null,
  };
}

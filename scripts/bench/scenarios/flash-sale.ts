import { type CpuUsage, startCpuMeter } from "../cpu";
import { type HttpClient, outcomeOf } from "../http";
import { type LoadGeneratorUsage, startMeter } from "../meter";
import type { OversellReport } from "../oversell";
import { FreeSeats, readFreeSeats } from "../seat-view";
import {
  Counter,
  type LatencySummary,
  percentOf,
  perSecond,
  seconds,
  summarizeLatencies,
} from "../stats";
import type { BenchUser } from "../users";
import { type ScenarioContext, scaledMs } from "./context";
import { failedSeats, hold, recordHold } from "./holds";

/** S1: virtual users each holding 2 random seats they believe free, until sold out or 30 s. */

const SEATS_PER_HOLD = 2;
const TIME_LIMIT_MS = 30_000;
/** A virtual user re-reads the seat map after this many hold requests. */
const REFRESH_EVERY = 50;
/** The share of the seats on sale that ends the bulk of a sale; the rest is its tail. */
const BULK_SHARE = 0.9;
/** The width of a bin of the sale's timeline. */
const TIMELINE_BIN_MS = 250;

export interface LockSample {
  startedAt: number;
  ms: number;
}

/** The raw record of one flash sale (S5 looks at the samples taken during its storm). */
export interface FlashSaleRun {
  showId: number;
  virtualUsers: number;
  timeLimitMs: number;
  startedAt: number;
  endedAt: number;
  samples: LockSample[];
  statuses: Counter;
  /** Seat → booking, from every 200 answer. */
  told: Map<number, number>;
  /** Milliseconds from the start to each successful hold, with the seats it took, in order. */
  wins: { atMs: number; seats: number }[];
  /** Seats AVAILABLE when the sale opened. */
  seatsOnSale: number;
  /** Every virtual user saw fewer than 2 free seats in a fresh seat map. */
  soldOut: boolean;
  seatMapMs: number[];
  seatMapFailures: Counter;
}

export interface FlashSaleResult {
  show_id: number;
  virtual_users: number;
  time_limit_s: number;
  wall_s: number;
  sold_out: boolean;
  /** From the first request to the last successful hold; null when not sold out. */
  time_to_sell_out_s: number | null;
  holds: number;
  seats_held: number;
  /** Over the time to sell out, or the whole run when not sold out. */
  holds_per_s: number;
  /**
   * The bulk of the sale, until 90% of the seats were held; null if it never got there. The
   * tail after it is bounded by how fast clients with stale views find the last free seats.
   */
  bulk: { seconds: number; holds_per_s: number } | null;
  /** Successful holds in each 250 ms of the sale. */
  holds_per_quarter_second: number[];
  lock_requests: number;
  lock_requests_per_s: number;
  conflict_percent: number;
  /** Lock answers other than 200 and 409, by status. */
  other_errors: Record<string, number>;
  lock_latency_ms: LatencySummary;
  seat_map_reads: LatencySummary & { failures: Record<string, number> };
  load_generator: LoadGeneratorUsage;
  /** Where the machine's CPU went during the sale (not measured for S5's sale). */
  cpu?: CpuUsage;
  oversell: OversellReport;
}

export interface FlashSaleSettings {
  showId: number;
  virtualUsers: number;
  timeLimitMs: number;
  users: BenchUser[];
  /** The AVAILABLE seats of the show when the sale opens (every user's first view). */
  initialFree: number[];
}

/** A sale's record, started now: what every sale scenario fills in as it runs. */
export function startFlashSaleRun(settings: FlashSaleSettings): FlashSaleRun {
  return {
    showId: settings.showId,
    virtualUsers: settings.virtualUsers,
    timeLimitMs: settings.timeLimitMs,
    startedAt: performance.now(),
    endedAt: 0,
    samples: [],
    statuses: new Counter(),
    told: new Map(),
    wins: [],
    seatsOnSale: settings.initialFree.length,
    soldOut: false,
    seatMapMs: [],
    seatMapFailures: new Counter(),
  };
}

export async function runFlashSale(
  http: HttpClient,
  settings: FlashSaleSettings,
): Promise<FlashSaleRun> {
  const { showId, virtualUsers, users } = settings;
  const run = startFlashSaleRun(settings);
  const deadline = run.startedAt + settings.timeLimitMs;
  let usersSoldOut = 0;

  const virtualUser = async (vu: number) => {
    let view = new FreeSeats(settings.initialFree);
    let sinceRefresh = 0;
    // Each request goes out as the next user of this VU's stripe, so all users take part.
    for (let request = 0; performance.now() < deadline; ) {
      if (view.size < SEATS_PER_HOLD || sinceRefresh >= REFRESH_EVERY) {
        const { reply, free } = await readFreeSeats(http, showId);
        run.seatMapMs.push(reply.ms);
        sinceRefresh = 0;
        if (!free) {
          run.seatMapFailures.add(outcomeOf(reply));
          await Bun.sleep(100);
          continue;
        }
        if (free.length < SEATS_PER_HOLD) {
          usersSoldOut += 1;
          return;
        }
        view = new FreeSeats(free);
      }
      const user = users[(vu + request * virtualUsers) % users.length] as BenchUser;
      request += 1;
      const seatIds = view.pick(SEATS_PER_HOLD);
      const reply = await hold(http, user.token, showId, seatIds);
      sinceRefresh += 1;
      run.samples.push({ startedAt: reply.startedAt, ms: reply.ms });
      run.statuses.add(outcomeOf(reply));
      const answer = recordHold(reply, run.told);
      if (answer) {
        run.wins.push({
          atMs: performance.now() - run.startedAt,
          seats: answer.locked_seats.length,
        });
        for (const seat of answer.locked_seats) view.remove(seat.seat_id);
      } else if (reply.status === 409) {
        for (const seatId of failedSeats(reply) ?? seatIds) view.remove(seatId);
      }
    }
  };

  await Promise.all(Array.from({ length: virtualUsers }, (_, vu) => virtualUser(vu)));
  run.endedAt = performance.now();
  run.soldOut = usersSoldOut === virtualUsers;
  return run;
}

export function summarizeFlashSale(
  run: FlashSaleRun,
  loadGenerator: LoadGeneratorUsage,
  oversell: OversellReport,
): FlashSaleResult {
  const wallMs = run.endedAt - run.startedAt;
  const sellOutMs = run.soldOut ? run.wins.at(-1)?.atMs : undefined;
  const lockRequests = run.samples.length;
  return {
    show_id: run.showId,
    virtual_users: run.virtualUsers,
    time_limit_s: seconds(run.timeLimitMs),
    wall_s: seconds(wallMs),
    sold_out: run.soldOut,
    time_to_sell_out_s: sellOutMs === undefined ? null : seconds(sellOutMs),
    holds: run.wins.length,
    seats_held: run.told.size,
    holds_per_s: perSecond(run.wins.length, (sellOutMs ?? wallMs) / 1000),
    bulk: bulkOf(run),
    holds_per_quarter_second: timelineOf(run),
    lock_requests: lockRequests,
    lock_requests_per_s: perSecond(lockRequests, wallMs / 1000),
    conflict_percent: percentOf(run.statuses.get("409"), lockRequests),
    other_errors: run.statuses.toObject(["200", "409"]),
    lock_latency_ms: summarizeLatencies(run.samples.map((sample) => sample.ms)),
    seat_map_reads: {
      ...summarizeLatencies(run.seatMapMs),
      failures: run.seatMapFailures.toObject(),
    },
    load_generator: loadGenerator,
    oversell,
  };
}

function bulkOf(run: FlashSaleRun): FlashSaleResult["bulk"] {
  let seats = 0;
  for (const [index, win] of run.wins.entries()) {
    seats += win.seats;
    if (seats >= BULK_SHARE * run.seatsOnSale) {
      return {
        seconds: seconds(win.atMs),
        holds_per_s: perSecond(index + 1, win.atMs / 1000),
      };
    }
  }
  return null;
}

function timelineOf(run: FlashSaleRun): number[] {
  const bins: number[] = [];
  for (const win of run.wins) {
    const bin = Math.floor(win.atMs / TIMELINE_BIN_MS);
    while (bins.length <= bin) bins.push(0);
    bins[bin] = (bins[bin] as number) + 1;
  }
  return bins;
}

/** A fresh show, its opening seat map, the sale. */
export async function prepareFlashSale(
  context: ScenarioContext,
  label: string,
  virtualUsers: number,
): Promise<FlashSaleSettings> {
  const showId = await context.fixture.createShow(label);
  const { reply, free } = await readFreeSeats(context.http, showId);
  if (!free) throw new Error(`seat map of show ${showId} → ${outcomeOf(reply)}`);
  return {
    showId,
    virtualUsers,
    timeLimitMs: scaledMs(context, TIME_LIMIT_MS),
    users: context.fixture.users,
    initialFree: free,
  };
}

export async function flashSale(
  context: ScenarioContext,
  virtualUsers: number,
): Promise<FlashSaleResult> {
  const settings = await prepareFlashSale(context, `S1 ${virtualUsers} VUs`, virtualUsers);
  const meter = startMeter();
  const cpu = startCpuMeter(context.apiPids);
  const run = await runFlashSale(context.http, settings);
  const cpuUsage = cpu.stop();
  const usage = meter.stop();
  const oversell = await context.oversell.run(settings.showId, context.fixture.seatIds, {
    held: run.told,
  });
  return { ...summarizeFlashSale(run, usage, oversell), cpu: cpuUsage };
}

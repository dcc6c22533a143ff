import { type HttpClient, outcomeOf } from "../http";
import { type LoadGeneratorUsage, startMeter } from "../meter";
import { Counter, type LatencySummary, perSecond, seconds, summarizeLatencies } from "../stats";
import { type BenchUser, USER_PASSWORD } from "../users";
import type { ScenarioContext } from "./context";
import {
  type FlashSaleResult,
  type LockSample,
  prepareFlashSale,
  runFlashSale,
  summarizeFlashSale,
} from "./flash-sale";

/**
 * S5: 1,000 real logins (bcrypt compares) all in flight at once, while an S1 flash sale with
 * 50 virtual users runs on another fresh show: how fast logins go, and how much the sale's
 * p99 moves compared with S1 at 50 users.
 */

const SALE_VIRTUAL_USERS = 50;
/** Hashing on the request path can make logins very slow; they still end. */
const LOGIN_TIMEOUT_MS = 120_000;

export interface LoginStormResult {
  logins: number;
  succeeded: number;
  statuses: Record<string, number>;
  storm_s: number;
  logins_per_s: number;
  login_latency_ms: LatencySummary;
  /** The sale's lock requests sent while logins were in flight. */
  sale_during_storm: LatencySummary;
  /** p99 of S1 at 50 users in this run (null when S1 did not run). */
  baseline_p99_ms: number | null;
  /** sale_during_storm.p99 / baseline_p99_ms. */
  p99_ratio: number | null;
  /** The sale ended (sold out or timed out) before the last login answered. */
  storm_outlasted_sale: boolean;
  sale: FlashSaleResult;
  load_generator: LoadGeneratorUsage;
}

interface Storm {
  startedAt: number;
  endedAt: number;
  latencies: number[];
  statuses: Counter;
}

async function loginStorm(http: HttpClient, users: BenchUser[]): Promise<Storm> {
  const statuses = new Counter();
  const startedAt = performance.now();
  const replies = await Promise.all(
    users.map((user) =>
      http.send({
        path: "/api/v1/auth/login",
        json: { email: user.email, password: USER_PASSWORD },
        timeoutMs: LOGIN_TIMEOUT_MS,
      }),
    ),
  );
  for (const reply of replies) statuses.add(outcomeOf(reply));
  return {
    startedAt,
    endedAt: performance.now(),
    latencies: replies.map((reply) => reply.ms),
    statuses,
  };
}

const during = (samples: LockSample[], storm: Storm) =>
  samples
    .filter((sample) => sample.startedAt >= storm.startedAt && sample.startedAt <= storm.endedAt)
    .map((sample) => sample.ms);

export async function loginStormDuringSale(
  context: ScenarioContext,
  baseline: FlashSaleResult | undefined,
): Promise<LoginStormResult> {
  const settings = await prepareFlashSale(context, "S5 sale", SALE_VIRTUAL_USERS);
  const meter = startMeter();
  const [sale, storm] = await Promise.all([
    runFlashSale(context.http, settings),
    loginStorm(context.http, context.fixture.users),
  ]);
  const usage = meter.stop();
  const oversell = await context.oversell.run(settings.showId, context.fixture.seatIds, {
    held: sale.told,
  });

  const saleDuringStorm = summarizeLatencies(during(sale.samples, storm));
  const baselineP99 = baseline?.lock_latency_ms.p99 ?? null;
  const stormMs = storm.endedAt - storm.startedAt;
  return {
    logins: storm.latencies.length,
    succeeded: storm.statuses.get("200"),
    statuses: storm.statuses.toObject(),
    storm_s: seconds(stormMs),
    logins_per_s: perSecond(storm.statuses.get("200"), stormMs / 1000),
    login_latency_ms: summarizeLatencies(storm.latencies),
    sale_during_storm: saleDuringStorm,
    baseline_p99_ms: baselineP99,
    p99_ratio:
      baselineP99 && saleDuringStorm.count > 0
        ? Math.round((100 * saleDuringStorm.p99) / baselineP99) / 100
        : null,
    storm_outlasted_sale: storm.endedAt > sale.endedAt,
    sale: summarizeFlashSale(sale, usage, oversell),
    load_generator: usage,
  };
}

import { outcomeOf, type Reply } from "../http";
import { type LoadGeneratorUsage, startMeter } from "../meter";
import type { OversellReport } from "../oversell";
import { Counter, type LatencySummary, perSecond, seconds, summarizeLatencies } from "../stats";
import { type BenchUser, USER_PASSWORD } from "../users";
import { type ScenarioContext, scaledMs } from "./context";
import {
  type FlashSaleResult,
  type FlashSaleRun,
  type LockSample,
  prepareFlashSale,
  runFlashSale,
  summarizeFlashSale,
} from "./flash-sale";

/**
 * S5: 1,000 users log in for real (bcrypt compares), all at once, at full load: an S1 flash
 * sale with 50 virtual users runs on a fresh show, and on another fresh show each time one
 * sells out, until the storm is over (or SALE_LIMIT_MS). A login answered 503 (the password
 * threads busy beyond their bound) is tried again after its Retry-After, as a client told
 * so would, until the user is in or STORM_LIMIT_MS has passed. Reports how long
 * login requests took (p50/p99), how many were refused, how many users got in, and how much
 * the sale's p99 moves compared with S1 at 50 users.
 */

const SALE_VIRTUAL_USERS = 50;
/** Logins that wait without bound still end here, as failures. */
const LOGIN_TIMEOUT_MS = 120_000;
/** The sale goes on for at most this long when logins are still unanswered. */
const SALE_LIMIT_MS = 90_000;
/** No login is tried again after this long. */
const STORM_LIMIT_MS = 30_000;
/** Waited before trying a refused login again if its answer has no Retry-After. */
const RETRY_WITHOUT_HEADER_MS = 2_000;

export interface LoginStormResult {
  /** Users who log in. */
  users: number;
  /** Login requests sent, retries included. */
  logins: number;
  succeeded: number;
  /** Logins answered 503 (the password threads were busy beyond their bound). */
  refused: number;
  /** Users still not logged in when the storm ended. */
  users_left_out: number;
  statuses: Record<string, number>;
  storm_s: number;
  logins_per_s: number;
  /** Every answer, refusals included. */
  login_latency_ms: LatencySummary;
  /** Successful logins only. */
  succeeded_latency_ms: LatencySummary;
  /** Refused logins only. */
  refused_latency_ms: LatencySummary;
  /** Logins answered (any status) before the sale ended: the ones measured at full load. */
  answered_during_sale: number;
  /** The sale's lock requests sent while logins were in flight. */
  sale_during_storm: LatencySummary;
  /** p99 of S1 at 50 users in this run (null when S1 did not run). */
  baseline_p99_ms: number | null;
  /** sale_during_storm.p99 / baseline_p99_ms. */
  p99_ratio: number | null;
  /** The sale ended (SALE_LIMIT_MS) before the last login answered. */
  storm_outlasted_sale: boolean;
  /** Shows sold one after the other while the storm ran. */
  shows_sold: number;
  /** The first show's sale. */
  sale: FlashSaleResult;
  /** The oversell checks of the shows sold after the first. */
  later_sales_oversell: OversellReport[];
  load_generator: LoadGeneratorUsage;
}

interface Storm {
  startedAt: number;
  endedAt: number;
  replies: Reply[];
  statuses: Counter;
  /** Users refused until the storm ended. */
  leftOut: number;
}

async function loginStorm(context: ScenarioContext, users: BenchUser[]): Promise<Storm> {
  const statuses = new Counter();
  const replies: Reply[] = [];
  const startedAt = performance.now();
  const lastTry = startedAt + scaledMs(context, STORM_LIMIT_MS);
  let leftOut = 0;
  const logIn = async (user: BenchUser) => {
    for (;;) {
      const reply = await context.http.send({
        path: "/api/v1/auth/login",
        json: { email: user.email, password: USER_PASSWORD },
        timeoutMs: LOGIN_TIMEOUT_MS,
      });
      replies.push(reply);
      statuses.add(outcomeOf(reply));
      if (reply.status !== 503) return;
      const retryAfterMs =
        reply.retryAfterSeconds === undefined
          ? RETRY_WITHOUT_HEADER_MS
          : reply.retryAfterSeconds * 1000;
      if (performance.now() + retryAfterMs > lastTry) {
        leftOut += 1;
        return;
      }
      await Bun.sleep(retryAfterMs);
    }
  };
  await Promise.all(users.map(logIn));
  return { startedAt, endedAt: performance.now(), replies, statuses, leftOut };
}

/** Sales on fresh shows, one after the other, until `done` says stop or the limit passes. */
async function saleUntil(
  context: ScenarioContext,
  done: () => boolean,
): Promise<{ runs: FlashSaleRun[]; startedAt: number; endedAt: number }> {
  const startedAt = performance.now();
  const deadline = startedAt + scaledMs(context, SALE_LIMIT_MS);
  const runs: FlashSaleRun[] = [];
  do {
    const settings = await prepareFlashSale(
      context,
      `S5 sale ${runs.length + 1}`,
      SALE_VIRTUAL_USERS,
    );
    runs.push(await runFlashSale(context.http, settings));
  } while (!done() && performance.now() < deadline);
  return { runs, startedAt, endedAt: performance.now() };
}

const latenciesOf = (replies: Reply[], status?: number) =>
  replies.filter((reply) => status === undefined || reply.status === status).map((r) => r.ms);

export async function loginStormDuringSale(
  context: ScenarioContext,
  baseline: FlashSaleResult | undefined,
): Promise<LoginStormResult> {
  const meter = startMeter();
  let stormDone = false;
  const stormStarted = loginStorm(context, context.fixture.users).finally(() => {
    stormDone = true;
  });
  const [sales, storm] = await Promise.all([saleUntil(context, () => stormDone), stormStarted]);
  const usage = meter.stop();
  const oversells = [];
  for (const run of sales.runs) {
    oversells.push(
      await context.oversell.run(run.showId, context.fixture.seatIds, { held: run.told }),
    );
  }
  const samples: LockSample[] = sales.runs.flatMap((run) => run.samples);
  const saleDuringStorm = summarizeLatencies(
    samples
      .filter((sample) => sample.startedAt >= storm.startedAt && sample.startedAt <= storm.endedAt)
      .map((sample) => sample.ms),
  );
  const baselineP99 = baseline?.lock_latency_ms.p99 ?? null;
  const stormMs = storm.endedAt - storm.startedAt;
  const [firstRun, firstOversell] = [sales.runs[0] as FlashSaleRun, oversells[0]];
  if (!firstOversell) throw new Error("S5 ran no sale");
  return {
    users: context.fixture.users.length,
    logins: storm.replies.length,
    succeeded: storm.statuses.get("200"),
    refused: storm.statuses.get("503"),
    users_left_out: storm.leftOut,
    statuses: storm.statuses.toObject(),
    storm_s: seconds(stormMs),
    logins_per_s: perSecond(storm.statuses.get("200"), stormMs / 1000),
    login_latency_ms: summarizeLatencies(latenciesOf(storm.replies)),
    succeeded_latency_ms: summarizeLatencies(latenciesOf(storm.replies, 200)),
    refused_latency_ms: summarizeLatencies(latenciesOf(storm.replies, 503)),
    answered_during_sale: storm.replies.filter(
      (reply) => reply.startedAt + reply.ms <= sales.endedAt,
    ).length,
    sale_during_storm: saleDuringStorm,
    baseline_p99_ms: baselineP99,
    p99_ratio:
      baselineP99 && saleDuringStorm.count > 0
        ? Math.round((100 * saleDuringStorm.p99) / baselineP99) / 100
        : null,
    storm_outlasted_sale: storm.endedAt > sales.endedAt,
    shows_sold: sales.runs.length,
    sale: summarizeFlashSale(firstRun, usage, firstOversell),
    later_sales_oversell: oversells.slice(1),
    load_generator: usage,
  };
}

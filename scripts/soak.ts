/**
 * `bun run soak`: a bounded soak test (5 minutes by default) of mixed traffic against Evently
 * in production mode, with the worker running and holds short enough to run out during the
 * run. It only talks to this machine.
 *
 * Like `bun run bench` it starts Evently itself (scripts/bench/server.ts): a fresh database
 * `evently_soak_<run id>` (dropped at the end), Redis keys under `soak:<run id>:` (deleted at
 * the end), one API process and the worker, NODE_ENV=production, rate limits off, the waiting
 * room on (threshold 500, so nobody queues at the default SOAK_USERS), HOLD_TTL_SECONDS=20 and
 * CLEANUP_CRON every 5 seconds. Through the admin API: a venue of 1,000 seats, an event,
 * SOAK_SHOWS shows; users are inserted in SQL with tokens the soak signs (scripts/bench/users.ts).
 *
 * Every virtual user loops (scripts/soak/virtual-user.ts): browse, read a seat map, hold 1–4
 * free seats, then buy, buy and cancel, cancel while pending, abandon, or pay and abandon;
 * it confirms some abandoned holds after they ran out (410 expected) and cancels its oldest
 * confirmed booking beyond SOAK_KEEP_CONFIRMED, so seats keep coming back and the run reaches
 * a steady state. RSS of the API and the worker is sampled every SOAK_SAMPLE_SECONDS.
 *
 * After the traffic it waits until the last hold has run out and the cleanup job has expired
 * it, then checks: every booking CONFIRMED, CANCELLED, EXPIRED, or PENDING within its hold;
 * the database's bookings are exactly the clients' ones, each in the status its client
 * expects; payments follow bookings (refunded when a booking ended); the bench's oversell
 * check (no seat in two active bookings, show_seats and Redis locks agree) on every show; no
 * 5xx, timeout or answer outside the contract; the worker expired holds and kept up; the
 * API's RSS at the end within SOAK_MAX_RSS_GROWTH_PERCENT of its RSS after the warm-up.
 * It prints a table, writes bench-results/soak_<run id>.json and exits 1 if a check failed.
 *
 * Knobs (environment):
 *   SOAK_SECONDS=300            length of the traffic, warm-up included (at least 20)
 *   SOAK_WARMUP_SECONDS=        traffic before the memory baseline (default 10% of the run, 5–30)
 *   SOAK_USERS=50               virtual users
 *   SOAK_SHOWS=4                shows on sale
 *   SOAK_SEATS=1000             seats of the venue (whole rows of 50)
 *   SOAK_HOLD_TTL_SECONDS=20    HOLD_TTL_SECONDS of Evently
 *   SOAK_CLEANUP_SECONDS=5      CLEANUP_CRON "*\/N * * * * *" of Evently (1–59)
 *   SOAK_THINK_MS=200           mean pause of a virtual user between steps
 *   SOAK_KEEP_CONFIRMED=3       confirmed bookings a virtual user keeps
 *   SOAK_SAMPLE_SECONDS=10      memory and bookings sampled this often
 *   SOAK_WAITING_ROOM=1         0 switches the waiting room off
 *   SOAK_MAX_RSS_GROWTH_PERCENT=50
 *   SOAK_PG_URL=postgres://postgres@127.0.0.1:5432/postgres   where the scratch database is made
 *   SOAK_REDIS_URL=redis://127.0.0.1:6379
 */
import { startRun } from "./bench/cleanup";
import { connectPostgres } from "./bench/databases";
import { HttpClient } from "./bench/http";
import { startMeter } from "./bench/meter";
import { OversellCheck } from "./bench/oversell";
import { freePort, REPO_ROOT } from "./bench/processes";
import { startRecord, writeResults } from "./bench/report";
import { logLineCounts, phase } from "./bench/run-steps";
import { startLocalTarget } from "./bench/server";
import { setUpFixture } from "./bench/setup";
import { Counter } from "./bench/stats";
import {
  bookingStatuses,
  ledgerAgrees,
  memoryCheck,
  noOverselling,
  paymentsFollowBookings,
  trafficChecks,
  workerChecks,
} from "./soak/checks";
import { bookingsByStatus, waitForExpiries } from "./soak/drain";
import { Ledger } from "./soak/ledger";
import { rssTrend } from "./soak/memory";
import { Monitor } from "./soak/monitor";
import { describeSoakOptions, eventlySettings, readSoakOptions } from "./soak/options";
import { printSoakReport, type SoakResults } from "./soak/report";
import { runTraffic } from "./soak/run-traffic";
import { Traffic } from "./soak/traffic";
import { workerExpirations } from "./soak/worker-metrics";

/** An error's message is cut here in the report (a failed query may quote all its data). */
const MAX_ERROR_CHARS = 2000;
/** Setup, drain and checks take a few minutes at most; this only catches a hang. */
const WATCHDOG_SPARE_MS = 15 * 60 * 1000;

const options = readSoakOptions(process.env);
const runName = `soak_${options.runId}`;
const resultsDir = `${REPO_ROOT}/bench-results`;
const workDir = `${resultsDir}/${runName}`;
const cleanup = startRun(workDir, options.durationS * 1000 + WATCHDOG_SPARE_MS);

const results: SoakResults = {
  ...(await startRecord(runName, options.startedAt, describeSoakOptions(options), options.pgUrl)),
  memory: {},
  samples: [],
  checks: [],
  passed: false,
};

console.log(`Evently soak ${runName}`);
for (const [name, value] of Object.entries(results.options)) console.log(`  ${name}=${value}`);

async function soak(): Promise<void> {
  const workerMetricsPort = freePort();
  const target = await phase("starting Evently (API + worker)", () =>
    startLocalTarget(
      {
        ...options,
        instances: 1,
        purpose: "soak",
        env: { ...eventlySettings(options), WORKER_METRICS_PORT: String(workerMetricsPort) },
      },
      cleanup,
      workDir,
    ),
  );
  results.notes.push(...target.notes);
  const http = new HttpClient(target.baseUrls);
  const fixture = await phase("setting up the venue, the event, the shows and the users", () =>
    setUpFixture(http, target, options.runId, {
      rows: options.rows,
      seatsPerRow: options.seatsPerRow,
      users: options.users,
      label: "soak",
      tokenTtlSeconds: options.durationS + 3600,
    }),
  );
  results.notes.push(fixture.usersNote);
  const showIds: number[] = [];
  for (let show = 1; show <= options.shows; show += 1) {
    showIds.push(await fixture.createShow(`soak show ${show}`));
  }

  const sql = connectPostgres(target.databaseUrl as string);
  cleanup.add("close the soak's connection", () => sql.end());
  const oversell = new OversellCheck(target);
  cleanup.add("close the oversell check's connections", () => oversell.close());

  const traffic = new Traffic();
  const ledger = new Ledger();
  const flows = new Counter();
  const monitor = new Monitor(sql, target.processes, traffic);
  const world = {
    http,
    traffic,
    ledger,
    flows,
    showIds,
    thinkMs: options.thinkMs,
    keepConfirmed: options.keepConfirmed,
    waitingRoom: options.waitingRoom,
  };
  const run = await phase(
    `mixed traffic: ${options.users} virtual users for ${options.durationS} s ` +
      `(warm-up ${options.warmUpS} s)`,
    () => runTraffic(world, fixture.users, monitor, options),
  );
  results.traffic_s = run.traffic_s;
  results.traffic = traffic.summary();
  results.requests_per_s = Math.round((10 * results.traffic.requests) / run.traffic_s) / 10;
  results.flows = flows.toObject();
  results.samples = monitor.samples;
  for (const { name } of target.processes) {
    const trend = rssTrend(monitor.rssSeries(name), run.warm_up_end_s);
    if (trend) results.memory[name] = trend;
  }
  const expiredByWorkerDuringRun = await workerExpirations(
    `http://127.0.0.1:${workerMetricsPort}/metrics`,
  );

  results.drain = await phase("waiting for the last holds to run out and be expired", () =>
    waitForExpiries(sql, options.cleanupEveryS),
  );
  results.bookings_by_status = await bookingsByStatus(sql);
  results.expected_by_clients = ledger.countsByExpected();

  results.checks = await phase("checking", async () => [
    ...trafficChecks(results.traffic as NonNullable<SoakResults["traffic"]>),
    await bookingStatuses(sql),
    await ledgerAgrees(sql, ledger),
    await paymentsFollowBookings(sql),
    await noOverselling(oversell, showIds, fixture.seatIds, ledger),
    ...workerChecks(
      expiredByWorkerDuringRun,
      monitor.maxOverdueS(),
      3 * options.cleanupEveryS + 15,
    ),
    memoryCheck("API", results.memory["api-1"], options.maxRssGrowthPercent),
  ]);
}

let exitCode = 1;
const total = startMeter();
try {
  await soak();
  results.passed = results.checks.every((check) => check.passed);
  exitCode = results.passed ? 0 : 1;
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  results.error =
    message.length > MAX_ERROR_CHARS ? `${message.slice(0, MAX_ERROR_CHARS)}…` : message;
} finally {
  results.load_generator_total = total.stop();
  await phase("cleaning up", () => cleanup.runAll());
  results.server_log_lines = logLineCounts(workDir);
  results.finished_at = new Date().toISOString();
  printSoakReport(results);
  console.log(`Results: ${await writeResults(resultsDir, results)}`);
}
process.exit(exitCode);

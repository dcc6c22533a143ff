/**
 * `bun run bench`: the flash-sale benchmark (issue 5). A load generator in its own process,
 * bounded in requests and time, that only talks to this machine.
 *
 * By default it starts Evently itself in production mode: a fresh database
 * `evently_bench_<run id>` (migrated with scripts/migrate.ts, dropped at the end), Redis keys
 * under `bench:<run id>:` (deleted at the end), the worker and BENCH_INSTANCES API processes
 * with rate limits and the waiting room switched off (RATE_LIMIT_ENABLED=0,
 * WAITING_ROOM_ENABLED=0: they exist to refuse exactly this traffic) and HOLD_TTL_SECONDS=600.
 * The children's logs go to bench-results/<run id>/.
 *
 * Setup goes through the admin API: a venue with 50 rows × 100 seats, an event, and a fresh
 * show for every scenario that sells seats. The 1,000 users are inserted in one SQL statement
 * sharing one real bcrypt (cost 10) hash, and their tokens are HS256 JWTs the bench signs with
 * the JWT_SECRET it generated, exactly as src/modules/auth/service.ts issues them: registering them one
 * by one would cost 1,000 bcrypt hashes. Only S5 logs in for real.
 *
 * Scenarios: S1 flash sale (50, then 200 virtual users), S2 hot seat, S3 seat map (plus
 * If-None-Match and the same bytes served statically), S4 purchase, S5 login storm during an
 * S1 run, S6 best-available sale (S1's sale with every buyer asking the server for 2 adjacent
 * best seats; 50, then 200 virtual users); an oversell check in SQL and Redis after every scenario that sells seats. Machine
 * references first: pgbench TPC-B-like tps and Hono's hello world on Bun. A short, unmeasured
 * warm-up precedes the scenarios, so a subset measures the same as the full run, and after it
 * the database is analysed, as autovacuum keeps a database in service (analyzeDatabase).
 * It prints a table and writes bench-results/<run id>.json.
 *
 * Knobs (environment):
 *   BENCH_INSTANCES=1       API processes to start
 *   BENCH_LOAD_BALANCER=    with several instances: haproxy (the default when it is installed)
 *                           puts them behind HAProxy as docs/scaling.md describes, with
 *                           TRUST_PROXY=1; none spreads the load over them round-robin itself
 *   BENCH_BASE_URL=         target running server(s) instead (comma list, 127.0.0.1 only); needs
 *                           ADMIN_EMAIL/ADMIN_PASSWORD of the target, and REDIS_KEY_PREFIX if it
 *                           uses one; the target must run with RATE_LIMIT_ENABLED=0 and
 *                           WAITING_ROOM_ENABLED=0
 *   BENCH_DATABASE_URL=     with BENCH_BASE_URL: the target's database (and then JWT_SECRET) for
 *                           users in SQL and the oversell checks; without it users register
 *                           through the API and the checks are skipped
 *   BENCH_SKIP_PGBENCH=1    skip the pgbench reference
 *   BENCH_SCENARIOS=S1,S2   run a subset of S1..S6 (default: all)
 *   BENCH_DURATION_SCALE=1  multiply every timed phase (0.2 for a quick check)
 *   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres   where scratch databases are made
 *   BENCH_REDIS_URL=redis://127.0.0.1:6379
 *   BENCH_REDIS_CLUSTER_NODES=  127.0.0.1:7001,… of a local Redis Cluster: Evently gets
 *                           REDIS_CLUSTER_NODES instead of REDIS_URL, and the bench's cleanup and
 *                           lock check use the cluster
 *   BENCH_PGBOUNCER_URL=    postgres://postgres@127.0.0.1:6432/postgres: the API and the worker
 *                           reach the bench's database through this PgBouncer (DB_PGBOUNCER=1);
 *                           the timeouts are set on that database (ALTER DATABASE … SET), the
 *                           migrations and the bench's own queries go to PostgreSQL directly
 */
import { startRun } from "./bench/cleanup";
import { analyzeDatabase } from "./bench/databases";
import { HttpClient } from "./bench/http";
import { startMeter } from "./bench/meter";
import { describeOptions, readOptions } from "./bench/options";
import { OversellCheck } from "./bench/oversell";
import { REPO_ROOT } from "./bench/processes";
import { helloWorldReference, pgbenchReference } from "./bench/references";
import { type BenchResults, printReport, startRecord, writeResults } from "./bench/report";
import { logLineCounts, phase } from "./bench/run-steps";
import { bestAvailableSale } from "./bench/scenarios/best-available";
import type { ScenarioContext } from "./bench/scenarios/context";
import { flashSale } from "./bench/scenarios/flash-sale";
import { hotSeat } from "./bench/scenarios/hot-seat";
import { loginStormDuringSale } from "./bench/scenarios/login-storm";
import { purchase } from "./bench/scenarios/purchase";
import { seatMap } from "./bench/scenarios/seat-map";
import { warmUp } from "./bench/scenarios/warm-up";
import { externalTarget, startLocalTarget } from "./bench/server";
import { setUpFixture } from "./bench/setup";

/** Every phase is bounded; this only catches a hang nobody foresaw. */
const WATCHDOG_MS = 30 * 60 * 1000;
/** An error's message is cut here in the report (a failed query may quote all its data). */
const MAX_ERROR_CHARS = 2000;

const options = readOptions(process.env);
const resultsDir = `${REPO_ROOT}/bench-results`;
const workDir = `${resultsDir}/${options.runId}`;
const cleanup = startRun(workDir, WATCHDOG_MS);

async function runScenarios(
  context: ScenarioContext,
  results: BenchResults,
  databaseUrl: string | undefined,
) {
  const { scenarios } = results;
  const selected = options.scenarios;
  await phase("warm-up (not measured)", () => warmUp(context));
  if (databaseUrl) {
    await phase("ANALYZE, as autovacuum would have by now", () => analyzeDatabase(databaseUrl));
  } else {
    results.notes.push("The target's database was not analysed (no BENCH_DATABASE_URL).");
  }
  if (selected.has("S1")) {
    scenarios.S1 = {};
    scenarios.S1.vus_50 = await phase("S1 flash sale, 50 virtual users", () =>
      flashSale(context, 50),
    );
    scenarios.S1.vus_200 = await phase("S1 flash sale, 200 virtual users", () =>
      flashSale(context, 200),
    );
  }
  if (selected.has("S6")) {
    scenarios.S6 = {};
    scenarios.S6.vus_50 = await phase("S6 best-available sale, 50 virtual users", () =>
      bestAvailableSale(context, 50, scenarios.S1?.vus_50),
    );
    scenarios.S6.vus_200 = await phase("S6 best-available sale, 200 virtual users", () =>
      bestAvailableSale(context, 200, scenarios.S1?.vus_200),
    );
  }
  if (selected.has("S2")) scenarios.S2 = await phase("S2 hot seat", () => hotSeat(context));
  if (selected.has("S3")) scenarios.S3 = await phase("S3 seat map", () => seatMap(context));
  if (selected.has("S4")) scenarios.S4 = await phase("S4 purchase", () => purchase(context));
  if (selected.has("S5")) {
    scenarios.S5 = await phase("S5 login storm during a 50-VU sale", () =>
      loginStormDuringSale(context, scenarios.S1?.vus_50),
    );
  }
}

const results: BenchResults = {
  ...(await startRecord(options.runId, options.startedAt, describeOptions(options), options.pgUrl)),
  references: {},
  scenarios: {},
};

console.log(`Evently benchmark ${options.runId}`);
for (const [name, value] of Object.entries(results.options)) console.log(`  ${name}=${value}`);

let exitCode = 0;
const total = startMeter();
try {
  results.references.pgbench = await phase("pgbench TPC-B-like reference", () =>
    pgbenchReference(options, cleanup),
  );
  results.references.hono_hello_world = await phase("Hono hello world reference", () =>
    helloWorldReference(options, workDir, cleanup),
  );
  const target = await phase("starting the system under test", async () =>
    options.baseUrls
      ? externalTarget(options, process.env)
      : startLocalTarget(options, cleanup, workDir),
  );
  results.notes.push(...target.notes);
  const http = new HttpClient(target.baseUrls);
  const fixture = await phase("setting up the venue, the event and the users", () =>
    setUpFixture(http, target, options.runId),
  );
  results.notes.push(fixture.usersNote);
  const oversell = new OversellCheck(target);
  cleanup.add("close the oversell check's connections", () => oversell.close());
  await runScenarios(
    {
      http,
      fixture,
      oversell,
      durationScale: options.durationScale,
      workDir,
      cleanup,
      apiPids: target.processes.filter((child) => child.name.startsWith("api-")).map((c) => c.pid),
    },
    results,
    target.databaseUrl,
  );
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  results.error =
    message.length > MAX_ERROR_CHARS ? `${message.slice(0, MAX_ERROR_CHARS)}…` : message;
  exitCode = 1;
} finally {
  results.load_generator_total = total.stop();
  await phase("cleaning up", () => cleanup.runAll());
  results.server_log_lines = logLineCounts(workDir);
  results.finished_at = new Date().toISOString();
  printReport(results);
  console.log(`Results: ${await writeResults(resultsDir, results)}`);
}
process.exit(exitCode);

import { mkdirSync } from "node:fs";
import { cpus } from "node:os";
import type { ClosedLoopResult } from "./closed-loop";
import type { CpuUsage } from "./cpu";
import { postgresVersion } from "./databases";
import { type LoadGeneratorUsage, SATURATED_PERCENT } from "./meter";
import type { OversellReport } from "./oversell";
import type { PgbenchResult } from "./references";
import type { BestAvailableResult } from "./scenarios/best-available";
import type { FlashSaleResult } from "./scenarios/flash-sale";
import type { HotSeatResult } from "./scenarios/hot-seat";
import type { LoginStormResult } from "./scenarios/login-storm";
import type { PurchaseResult } from "./scenarios/purchase";
import type { SeatMapResult } from "./scenarios/seat-map";
import { counts, formatTable, latency, latency4, ms, number, type Row } from "./table";

/** What the bench's and the soak's results both start with. */
export interface RunRecord {
  run_id: string;
  started_at: string;
  finished_at?: string;
  options: Record<string, string>;
  machine: { cpus: number; platform: string; bun: string; postgres?: string };
  notes: string[];
  /** Lines in each child's log: the API and worker log only warnings and errors (LOG_LEVEL=warn). */
  server_log_lines: Record<string, number>;
  load_generator_total?: LoadGeneratorUsage;
  error?: string;
}

/** A new run's record, before anything ran. */
export async function startRecord(
  runId: string,
  startedAt: Date,
  options: Record<string, string>,
  pgUrl: string,
): Promise<RunRecord> {
  return {
    run_id: runId,
    started_at: startedAt.toISOString(),
    options,
    machine: {
      cpus: cpus().length,
      platform: `${process.platform} ${process.arch}`,
      bun: Bun.version,
      postgres: await postgresVersion(pgUrl),
    },
    notes: [],
    server_log_lines: {},
  };
}

/** Everything a run measured: printed as a table, saved as JSON. */
export interface BenchResults extends RunRecord {
  references: { pgbench?: PgbenchResult; hono_hello_world?: ClosedLoopResult };
  scenarios: {
    S1?: { vus_50?: FlashSaleResult; vus_200?: FlashSaleResult };
    S2?: HotSeatResult;
    S3?: SeatMapResult;
    S4?: PurchaseResult;
    S5?: LoginStormResult;
    S6?: { vus_50?: BestAvailableResult; vus_200?: BestAvailableResult };
  };
}

/** The targets for this machine, shown next to the figures. */
const TARGETS = {
  s1At50HoldsPerS: 1300,
  s1At200HoldsPerS: 1000,
  s1At200P99Ms: 250,
  s2P99Ms: 100,
  s3RequestsPerS: 1000,
  s4PurchasesPerS: 700,
  /** 2× the original's 12 registrations/s. */
  s5LoginsPerS: 24,
  s5P99Ratio: 2,
};

const atLeast = (value: number, target: number) =>
  `≥ ${number(target)} ${value >= target ? "✓" : "✗"}`;
const below = (value: number, target: number) =>
  `< ${number(target)} ms ${value < target ? "✓" : "✗"}`;

function usage(section: string, load: LoadGeneratorUsage): Row {
  const saturated = load.percent_of_one_core >= SATURATED_PERCENT;
  return [
    section,
    "bench process CPU / wall",
    `${number(load.cpu_s, 1)} s / ${number(load.wall_s, 1)} s (${load.percent_of_one_core}% of a core)`,
    saturated ? "⚠ load generator near saturation" : "",
  ];
}

function oversold(section: string, report: OversellReport): Row[] {
  if (!report.checked)
    return [[section, "oversell check", `skipped: ${report.skipped_reason}`, ""]];
  if (report.violation_count === 0) return [[section, "oversell check", "oversold: 0", "0 ✓"]];
  return [
    [
      section,
      "oversell check",
      `oversold seats: ${report.oversold_seats}, violations: ${report.violation_count}`,
      "0 ✗",
    ],
    ...report.violations.map((violation): Row => [section, "  violation", violation, ""]),
  ];
}

function flashSaleRows(
  section: string,
  result: FlashSaleResult,
  targets: { holds?: string; p99?: string } = {},
): Row[] {
  return [
    [section, "successful holds/s", number(result.holds_per_s, 1), targets.holds ?? ""],
    [section, "lock requests/s", number(result.lock_requests_per_s, 1), ""],
    [
      section,
      "holds / lock requests",
      `${number(result.holds)} / ${number(result.lock_requests)}`,
      "",
    ],
    [section, "409 share", `${result.conflict_percent}%`, ""],
    [section, "other errors", counts(result.other_errors), ""],
    [section, "lock p50 / p95 / p99 / max", latency4(result.lock_latency_ms), targets.p99 ?? ""],
    [
      section,
      "time to sell out",
      result.time_to_sell_out_s === null
        ? `not sold out in ${result.time_limit_s} s (${number(result.seats_held)} seats held)`
        : `${number(result.time_to_sell_out_s, 2)} s (${number(result.seats_held)} seats)`,
      "",
    ],
    [
      section,
      "first 90% of the seats held",
      result.bulk === null
        ? "never"
        : `${number(result.bulk.seconds, 2)} s (${number(result.bulk.holds_per_s, 1)} holds/s)`,
      "",
    ],
    [
      section,
      "seat-map reads (n, p50 / p99 / max)",
      `${number(result.seat_map_reads.count)}, ${latency(result.seat_map_reads)}` +
        (Object.keys(result.seat_map_reads.failures).length > 0
          ? `, failed: ${counts(result.seat_map_reads.failures)}`
          : ""),
      "",
    ],
    ...(result.cpu ? cpuRows(section, result.cpu, result.lock_requests) : []),
    ...oversold(section, result.oversell),
  ];
}

/** Where the machine's CPU went, per operation of the phase. */
function cpuRows(section: string, cpu: CpuUsage, operations: number): Row[] {
  const perOperation = (cpuSeconds: number | null) =>
    cpuSeconds === null || operations === 0 ? "n/a" : number((cpuSeconds * 1e6) / operations);
  const share = (percent: number | null) => (percent === null ? "n/a" : `${percent}%`);
  // Shown when such a process runs on the machine (0 when it served none of this run).
  const intermediaries = [
    ["HAProxy", cpu.balancer_s],
    ["PgBouncer", cpu.pgbouncer_s],
  ] as const;
  const intermediaryRows = intermediaries.flatMap(([name, cpuSeconds]): Row[] =>
    cpuSeconds === null
      ? []
      : [[section, `CPU µs per lock request: ${name}`, perOperation(cpuSeconds), ""]],
  );
  return [
    [
      section,
      "CPU µs per lock request: API / PostgreSQL / Redis / machine",
      [cpu.api_s, cpu.postgres_s, cpu.redis_s, cpu.machine_s].map(perOperation).join(" / "),
      "",
    ],
    ...intermediaryRows,
    [
      section,
      "machine busy / stolen by the host",
      `${share(cpu.machine_busy_percent)} / ${share(cpu.machine_stolen_percent)}`,
      "",
    ],
  ];
}

function closedLoopRows(section: string, result: ClosedLoopResult, rpsTarget = ""): Row[] {
  return [
    [section, "requests/s", number(result.requests_per_s, 1), rpsTarget],
    [section, "p50 / p99 / max", latency(result.latency_ms), ""],
    [section, "bytes per response", number(result.bytes_per_response), ""],
    [section, "statuses", counts(result.statuses), ""],
    usage(section, result.load_generator),
  ];
}

function referenceRows(results: BenchResults): Row[] {
  const rows: Row[] = [];
  const pgbench = results.references.pgbench;
  if (pgbench?.skipped) rows.push(["pgbench", "TPC-B-like tps", `skipped: ${pgbench.reason}`, ""]);
  else if (pgbench) {
    rows.push([
      "pgbench",
      `TPC-B-like tps (scale ${pgbench.scale}, -c ${pgbench.clients} -j ${pgbench.threads} -T ${pgbench.duration_s})`,
      `${number(pgbench.tps)} (avg latency ${ms(pgbench.latency_avg_ms ?? Number.NaN)})`,
      "",
    ]);
  }
  const hello = results.references.hono_hello_world;
  if (hello) rows.push(...closedLoopRows("Hono hello world", hello));
  return rows;
}

function scenarioRows(results: BenchResults): Row[] {
  const rows: Row[] = [];
  const { S1, S2, S3, S4, S5, S6 } = results.scenarios;
  if (S1?.vus_50) {
    const r = S1.vus_50;
    rows.push(
      ...flashSaleRows("S1 flash sale, 50 VUs", r, {
        holds: atLeast(r.holds_per_s, TARGETS.s1At50HoldsPerS),
      }),
      usage("S1 flash sale, 50 VUs", r.load_generator),
    );
  }
  if (S1?.vus_200) {
    const r = S1.vus_200;
    rows.push(
      ...flashSaleRows("S1 flash sale, 200 VUs", r, {
        holds: atLeast(r.holds_per_s, TARGETS.s1At200HoldsPerS),
        p99: `p99 ${below(r.lock_latency_ms.p99, TARGETS.s1At200P99Ms)}`,
      }),
      usage("S1 flash sale, 200 VUs", r.load_generator),
    );
  }
  for (const [label, r, s1Target] of [
    ["50 VUs", S6?.vus_50, TARGETS.s1At50HoldsPerS],
    ["200 VUs", S6?.vus_200, TARGETS.s1At200HoldsPerS],
  ] as const) {
    if (!r) continue;
    const section = `S6 best-available sale, ${label}`;
    rows.push(
      ...flashSaleRows(section, r, {
        holds: atLeast(r.holds_per_s, s1Target),
        p99: `p99 ${below(r.lock_latency_ms.p99, TARGETS.s1At200P99Ms)}`,
      }),
      [
        section,
        "409 share before the last 1% of the seats sold",
        `${r.conflicts_before_tail_percent}% (at most ${r.conflicts_before_tail_at_most_percent}%)`,
        `0% ${r.conflicts_before_tail_percent === 0 ? "✓" : "✗"}`,
      ],
      [section, "seats left single (no 2 together)", number(r.seats_left_single), ""],
      [
        section,
        "holds/s vs S1 at the same VUs",
        r.holds_per_s_vs_s1 === null ? "n/a (S1 not run)" : `× ${r.holds_per_s_vs_s1}`,
        "",
      ],
      usage(section, r.load_generator),
    );
  }
  if (S2) {
    const section = "S2 hot seat";
    rows.push(
      [
        section,
        "winners of 500 holds on 2 seats",
        String(S2.winners),
        `1 ${S2.winners === 1 ? "✓" : "✗"}`,
      ],
      [
        section,
        "p50 / p99 / max",
        latency(S2.latency_ms),
        `p99 ${below(S2.latency_ms.p99, TARGETS.s2P99Ms)}`,
      ],
      [section, "statuses", counts(S2.statuses), ""],
      ...oversold(section, S2.oversell),
      usage(section, S2.load_generator),
    );
  }
  if (S3) {
    const api = S3.plain;
    rows.push(
      [
        "S3 seat map",
        "body / ETag",
        `${number(S3.body_bytes)} bytes, ETag ${S3.etag ?? "not sent"}` +
          (S3.content_encoding ? `, ${S3.content_encoding}` : ""),
        "",
      ],
      ...closedLoopRows("S3 seat map", api, atLeast(api.requests_per_s, TARGETS.s3RequestsPerS)),
    );
    if (S3.conditional) {
      rows.push(
        ["S3 If-None-Match", "304 share", `${S3.conditional.not_modified_percent}%`, ""],
        ...closedLoopRows("S3 If-None-Match", S3.conditional),
      );
    } else {
      rows.push(["S3 If-None-Match", "skipped", "the server sent no ETag", ""]);
    }
    rows.push(...closedLoopRows("S3 same bytes, static", S3.static_copy), [
      "S3 same bytes, static",
      "API req/s as a share of static",
      `${number((100 * api.requests_per_s) / S3.static_copy.requests_per_s, 1)}%`,
      "",
    ]);
  }
  if (S4) {
    const section = "S4 purchase";
    rows.push(
      [
        section,
        "purchases/s (hold + pay + confirm)",
        number(S4.purchases_per_s, 1),
        atLeast(S4.purchases_per_s, TARGETS.s4PurchasesPerS),
      ],
      [
        section,
        "purchases / buyers",
        `${S4.purchases} / ${S4.buyers} in ${number(S4.wall_s, 2)} s`,
        "",
      ],
      [section, "flow p50 / p99 / max", latency(S4.flow_ms), ""],
      [
        section,
        "lock p50 / p99 / max (statuses)",
        `${latency(S4.steps.lock.latency_ms)} (${counts(S4.steps.lock.statuses)})`,
        "",
      ],
      [
        section,
        "pay p50 / p99 / max (statuses)",
        `${latency(S4.steps.pay.latency_ms)} (${counts(S4.steps.pay.statuses)})`,
        "",
      ],
      [
        section,
        "confirm p50 / p99 / max (statuses)",
        `${latency(S4.steps.confirm.latency_ms)} (${counts(S4.steps.confirm.statuses)})`,
        "",
      ],
      ...oversold(section, S4.oversell),
      usage(section, S4.load_generator),
    );
  }
  if (S5) {
    const section = "S5 login storm";
    rows.push(
      [
        section,
        "logins/s (1,000 users at once, 503s retried)",
        number(S5.logins_per_s, 1),
        atLeast(S5.logins_per_s, TARGETS.s5LoginsPerS),
      ],
      [
        section,
        "logins ok / refused (503) / sent, users left out, storm time",
        `${S5.succeeded} / ${S5.refused} / ${S5.logins}, ${S5.users_left_out} of ${S5.users}, ` +
          `${number(S5.storm_s, 2)} s`,
        "",
      ],
      [section, "ok login p50 / p99 / max", latency(S5.succeeded_latency_ms), ""],
      [section, "refused login p50 / p99 / max", latency(S5.refused_latency_ms), ""],
      [section, "every login request p50 / p99 / max", latency(S5.login_latency_ms), ""],
      [section, "login statuses", counts(S5.statuses), ""],
      [
        section,
        "answered while the sale ran",
        `${number(S5.answered_during_sale)} of ${number(S5.logins)} (${S5.shows_sold} show(s) sold)`,
        "",
      ],
      [
        section,
        "S1 (50 VUs) p99 during storm vs S1 at 50",
        `${ms(S5.sale_during_storm.p99)} (${number(S5.sale_during_storm.count)} requests) vs ` +
          `${S5.baseline_p99_ms === null ? "n/a (S1 not run)" : ms(S5.baseline_p99_ms)}` +
          (S5.p99_ratio === null ? "" : ` = ×${S5.p99_ratio}`),
        S5.p99_ratio === null
          ? ""
          : `≤ ×${TARGETS.s5P99Ratio} ${S5.p99_ratio <= TARGETS.s5P99Ratio ? "✓" : "✗"}`,
      ],
      [section, "storm outlasted the sale", S5.storm_outlasted_sale ? "yes" : "no", ""],
      ...flashSaleRows("S5 sale (50 VUs, first show)", S5.sale),
      ...S5.later_sales_oversell.flatMap((report, index) =>
        oversold(`S5 sale, show ${index + 2}`, report),
      ),
      usage("S5 storm + sale", S5.load_generator),
    );
  }
  return rows;
}

export function printReport(results: BenchResults): void {
  console.log(`\nEvently benchmark ${results.run_id}`);
  for (const note of results.notes) console.log(`  - ${note}`);
  const rows = [...referenceRows(results), ...scenarioRows(results)];
  console.log(`\n${formatTable(["scenario", "figure", "value", "target"], rows)}\n`);
  printRunFooter("Bench", results);
}

/** What the bench and the soak print under their table: own CPU, server warnings, errors. */
export function printRunFooter(runner: string, results: RunRecord): void {
  if (results.load_generator_total) {
    const total = results.load_generator_total;
    console.log(
      `${runner} process over the whole run: ${total.cpu_s} s CPU in ${total.wall_s} s wall ` +
        `(${total.percent_of_one_core}% of one core).`,
    );
  }
  for (const [file, lines] of Object.entries(results.server_log_lines)) {
    if (lines > 0) console.log(`${file}: ${lines} line(s) of warnings or errors, have a look.`);
  }
  if (results.error) console.log(`\nThe run stopped early: ${results.error}`);
}

/** Writes bench-results/<run id>.json (the soak's results too); answers its path. */
export async function writeResults(
  directory: string,
  results: { run_id: string },
): Promise<string> {
  mkdirSync(directory, { recursive: true });
  const path = `${directory}/${results.run_id}.json`;
  await Bun.write(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}

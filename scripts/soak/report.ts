import { printRunFooter, type RunRecord } from "../bench/report";
import { counts, formatTable, latency, latency4, number, type Row } from "../bench/table";
import type { Check } from "./checks";
import type { DrainResult } from "./drain";
import type { RssTrend } from "./memory";
import type { Sample } from "./monitor";
import type { TrafficSummary } from "./traffic";

/** Everything a soak run saw: printed as a table, saved as bench-results/soak_<run>.json. */
export interface SoakResults extends RunRecord {
  /** Seconds of traffic, warm-up included. */
  traffic_s?: number;
  requests_per_s?: number;
  traffic?: TrafficSummary;
  /** How the virtual users finished their holds (and the holds that did not happen). */
  flows?: Record<string, number>;
  /** RSS of each child from the end of the warm-up to the end of the traffic. */
  memory: Record<string, RssTrend>;
  samples: Sample[];
  drain?: DrainResult;
  /** In the database after the drain. */
  bookings_by_status?: Record<string, number>;
  /** In the clients' ledger. */
  expected_by_clients?: Record<string, number>;
  checks: Check[];
  passed: boolean;
}

const mark = (passed: boolean) => (passed ? "✓" : "✗");

function trafficRows(results: SoakResults): Row[] {
  const traffic = results.traffic;
  if (!traffic) return [];
  const rows: Row[] = [
    [
      "traffic",
      "requests (per s)",
      `${number(traffic.requests)} in ${number(results.traffic_s ?? 0, 1)} s ` +
        `(${number(results.requests_per_s ?? 0, 1)}/s)`,
      "",
    ],
    ["traffic", "p50 / p95 / p99 / max", latency4(traffic.latency_ms), ""],
    ["traffic", "statuses", counts(traffic.statuses), ""],
    [
      "traffic",
      "5xx, timeouts, network errors",
      number(traffic.failures),
      `0 ${mark(traffic.failures === 0)}`,
    ],
    [
      "traffic",
      "unexpected answers",
      number(traffic.unexpected),
      `0 ${mark(traffic.unexpected === 0)}`,
    ],
  ];
  for (const [kind, summary] of Object.entries(traffic.by_kind)) {
    rows.push([
      "requests by kind",
      kind,
      `${number(summary.requests)}, p50 / p99 / max ${latency(summary.latency_ms)}; ` +
        counts(summary.statuses),
      summary.unexpected > 0 ? `${summary.unexpected} unexpected ✗` : "",
    ]);
  }
  for (const example of traffic.examples) rows.push(["requests by kind", "  example", example, ""]);
  return rows;
}

function bookingRows(results: SoakResults): Row[] {
  const rows: Row[] = [];
  if (results.flows) rows.push(["bookings", "flows", counts(results.flows), ""]);
  if (results.expected_by_clients) {
    rows.push(["bookings", "expected by the clients", counts(results.expected_by_clients), ""]);
  }
  if (results.bookings_by_status) {
    rows.push(["bookings", "in the database at the end", counts(results.bookings_by_status), ""]);
  }
  const drain = results.drain;
  if (drain) {
    rows.push([
      "bookings",
      "holds pending at stop → left",
      `${drain.pending_at_stop} → ${drain.pending_left} ` +
        `after waiting ${number(drain.waited_s, 1)} s`,
      "",
    ]);
  }
  return rows;
}

function describeTrend(trend: RssTrend): string {
  const sign = trend.growth_mb >= 0 ? "+" : "";
  return (
    `${trend.start_mb} / ${trend.end_mb} / ${trend.max_mb} MB ` +
    `(${sign}${trend.growth_mb} MB, ${trend.growth_percent}%); ` +
    `trend ${trend.slope_mb_per_min} MB/min, second half ${trend.second_half_slope_mb_per_min} MB/min`
  );
}

function memoryRows(results: SoakResults): Row[] {
  return Object.entries(results.memory).map(
    ([name, trend]): Row => ["memory (RSS)", `${name} start / end / max`, describeTrend(trend), ""],
  );
}

function checkRows(results: SoakResults): Row[] {
  return results.checks.flatMap((check): Row[] => [
    ["checks", check.name, check.detail, mark(check.passed)],
    ...check.violations.map((violation): Row => ["checks", "  violation", violation, ""]),
  ]);
}

export function printSoakReport(results: SoakResults): void {
  console.log(`\nEvently soak ${results.run_id}`);
  for (const note of results.notes) console.log(`  - ${note}`);
  const rows = [
    ...trafficRows(results),
    ...bookingRows(results),
    ...memoryRows(results),
    ...checkRows(results),
  ];
  console.log(`\n${formatTable(["section", "figure", "value", "verdict"], rows)}\n`);
  printRunFooter("Soak", results);
  console.log(results.passed ? "\nSoak passed." : "\nSoak FAILED.");
}

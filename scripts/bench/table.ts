import type { LatencySummary } from "./stats";

/** The printed results of the bench and the soak: a four-column table and its formatters. */

export type Row = [section: string, figure: string, value: string, target: string];

export const number = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 })
    : "n/a";
export const ms = (value: number) => (Number.isFinite(value) ? `${number(value, 1)} ms` : "n/a");
export const latency = (summary: LatencySummary) =>
  `${ms(summary.p50)} / ${ms(summary.p99)} / ${ms(summary.max)}`;
export const latency4 = (summary: LatencySummary) =>
  `${ms(summary.p50)} / ${ms(summary.p95)} / ${ms(summary.p99)} / ${ms(summary.max)}`;
export const counts = (byStatus: Record<string, number>) => {
  const entries = Object.entries(byStatus);
  return entries.length === 0
    ? "none"
    : entries.map(([status, count]) => `${status}: ${number(count)}`).join(", ");
};

/** Rows grouped by their first cell (printed once per group), a rule between groups. */
export function formatTable(header: Row, rows: Row[]): string {
  const widths = header.map((_, column) =>
    Math.max(...[header, ...rows].map((row) => row[column]?.length ?? 0)),
  );
  const line = (row: Row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join(" │ ")
      .trimEnd();
  const rule = widths.map((width) => "─".repeat(width)).join("─┼─");
  const body: string[] = [];
  rows.forEach((row, index) => {
    const previous = rows[index - 1];
    if (previous && previous[0] !== row[0]) body.push(rule);
    body.push(line([previous?.[0] === row[0] ? "" : row[0], row[1], row[2], row[3]]));
  });
  return [line(header), rule, ...body].join("\n");
}

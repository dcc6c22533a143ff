/** Percentiles (nearest rank on a sorted copy), counts and rates. */

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array; NaN when it is empty. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

const round = (value: number, digits = 1) => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

export function summarizeLatencies(samplesMs: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samplesMs).sort();
  const values = Array.from(sorted);
  return {
    count: values.length,
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    max: round(values.at(-1) ?? Number.NaN),
  };
}

/** Events per second, rounded to 0.1; 0 when no time passed. */
export const perSecond = (count: number, seconds: number) =>
  seconds > 0 ? round(count / seconds) : 0;

/** A share in percent, rounded to 0.1. */
export const percentOf = (part: number, whole: number) =>
  whole > 0 ? round((100 * part) / whole) : 0;

export const seconds = (ms: number) => round(ms / 1000, 2);

/** Counts occurrences of string keys (statuses, failure kinds). */
export class Counter {
  private readonly counts = new Map<string, number>();

  add(key: string, by = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  total(): number {
    let sum = 0;
    for (const count of this.counts.values()) sum += count;
    return sum;
  }

  /** Sorted by key, optionally without some keys (e.g. the expected statuses). */
  toObject(except: readonly string[] = []): Record<string, number> {
    return Object.fromEntries(
      [...this.counts]
        .filter(([key]) => !except.includes(key))
        .sort(([a], [b]) => a.localeCompare(b)),
    );
  }
}

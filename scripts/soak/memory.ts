import { readFileSync } from "node:fs";

/**
 * Resident memory of the children, read from /proc/<pid>/status (VmRSS), and what a series
 * of samples says: start (after the warm-up), end, max, and the trend as a least-squares
 * slope over the whole series and over its second half (a leak keeps climbing there; a
 * heap that has found its size does not).
 */

const MB = 1024 * 1024;

/** VmRSS of `pid` in bytes; undefined when the process is gone or /proc is not there. */
export function residentBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export const megabytes = (bytes: number) => Math.round((bytes / MB) * 10) / 10;

export interface RssPoint {
  /** Seconds since the traffic started. */
  t_s: number;
  mb: number;
}

export interface RssTrend {
  /** The first sample after the warm-up, the last at the end of the traffic. */
  start_mb: number;
  end_mb: number;
  max_mb: number;
  growth_mb: number;
  growth_percent: number;
  /** MB per minute over the samples from the start on. */
  slope_mb_per_min: number;
  /** The same over the second half of those samples. */
  second_half_slope_mb_per_min: number;
}

/** Least-squares slope of mb over t, in MB per minute; 0 with fewer than two points. */
function slopePerMinute(points: readonly RssPoint[]): number {
  if (points.length < 2) return 0;
  const meanT = points.reduce((sum, point) => sum + point.t_s, 0) / points.length;
  const meanMb = points.reduce((sum, point) => sum + point.mb, 0) / points.length;
  let covariance = 0;
  let variance = 0;
  for (const point of points) {
    covariance += (point.t_s - meanT) * (point.mb - meanMb);
    variance += (point.t_s - meanT) ** 2;
  }
  return variance > 0 ? Math.round((covariance / variance) * 60 * 10) / 10 : 0;
}

/** The trend of `series` from its first point at or after `fromS` on; undefined if none. */
export function rssTrend(series: readonly RssPoint[], fromS: number): RssTrend | undefined {
  const counted = series.filter((point) => point.t_s >= fromS);
  const first = counted[0];
  const last = counted.at(-1);
  if (!first || !last) return undefined;
  const growth = last.mb - first.mb;
  return {
    start_mb: first.mb,
    end_mb: last.mb,
    max_mb: Math.max(...counted.map((point) => point.mb)),
    growth_mb: Math.round(growth * 10) / 10,
    growth_percent: Math.round((1000 * growth) / first.mb) / 10,
    slope_mb_per_min: slopePerMinute(counted),
    second_half_slope_mb_per_min: slopePerMinute(counted.slice(Math.floor(counted.length / 2))),
  };
}

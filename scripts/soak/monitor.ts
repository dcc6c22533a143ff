import type { Sql } from "../bench/databases";
import { megabytes, type RssPoint, residentBytes } from "./memory";
import type { Traffic } from "./traffic";

/**
 * Samples the run every few seconds and prints a progress line: resident memory of every
 * child, bookings by status, and the PENDING bookings whose hold has run out but that the
 * cleanup job has not expired yet (how far the worker lags behind).
 */

export interface Sample {
  /** Seconds since the traffic started. */
  t_s: number;
  rss_mb: Record<string, number>;
  bookings: Record<string, number>;
  overdue_pending: number;
  /** How long the oldest overdue hold has been past its expiry. */
  max_overdue_s: number;
  requests: number;
  failures: number;
  unexpected: number;
}

interface BookingRow {
  status: string;
  count: number;
  overdue: number;
  max_overdue_s: number;
}

export class Monitor {
  readonly samples: Sample[] = [];
  private timer?: ReturnType<typeof setInterval>;
  private inFlight: Promise<unknown> = Promise.resolve();
  private readonly startedAt = Date.now();

  constructor(
    private readonly sql: Sql,
    private readonly processes: { name: string; pid: number }[],
    private readonly traffic: Traffic,
  ) {}

  /** Samples now and then every `everyS` seconds until stop(). */
  start(everyS: number): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), everyS * 1000);
  }

  /** Takes one sample now (not overlapping a running one) and answers it. */
  sample(): Promise<Sample> {
    const next = this.inFlight.then(() => this.take());
    this.inFlight = next.catch(() => undefined);
    return next;
  }

  /** Stops the schedule; answers a last sample. */
  async stop(): Promise<Sample> {
    clearInterval(this.timer);
    return this.sample();
  }

  /** The RSS series of one child (e.g. "api-1"). */
  rssSeries(name: string): RssPoint[] {
    return this.samples.flatMap((sample) => {
      const mb = sample.rss_mb[name];
      return mb === undefined ? [] : [{ t_s: sample.t_s, mb }];
    });
  }

  maxOverdueS(): number {
    return Math.max(0, ...this.samples.map((sample) => sample.max_overdue_s));
  }

  private async take(): Promise<Sample> {
    // The warm-up's sample may fall on a scheduled one: one sample per second is enough.
    const last = this.samples.at(-1);
    if (last && Date.now() - this.startedAt - last.t_s * 1000 < 1000) return last;
    const rss: Record<string, number> = {};
    for (const { name, pid } of this.processes) {
      const bytes = residentBytes(pid);
      if (bytes !== undefined) rss[name] = megabytes(bytes);
    }
    const rows = await this.sql<BookingRow[]>`
      select status::text as status, count(*)::int as count,
        (count(*) filter (where status = 'PENDING' and expires_at <= now()))::int as overdue,
        coalesce(extract(epoch from max(now() - expires_at)
          filter (where status = 'PENDING' and expires_at <= now())), 0)::float8 as max_overdue_s
      from bookings group by status order by status`;
    const pending = rows.find((row) => row.status === "PENDING");
    const sample: Sample = {
      t_s: Math.round((Date.now() - this.startedAt) / 100) / 10,
      rss_mb: rss,
      bookings: Object.fromEntries(rows.map((row) => [row.status, row.count])),
      overdue_pending: pending?.overdue ?? 0,
      max_overdue_s: Math.round((pending?.max_overdue_s ?? 0) * 10) / 10,
      ...this.traffic.counts(),
    };
    this.samples.push(sample);
    console.log(`  ${progressLine(sample)}`);
    return sample;
  }
}

function progressLine(sample: Sample): string {
  const rss = Object.entries(sample.rss_mb)
    .map(([name, mb]) => `${name} ${mb} MB`)
    .join(", ");
  const bookings = Object.entries(sample.bookings)
    .map(([status, count]) => `${status} ${count}`)
    .join(" ");
  return [
    `t=${sample.t_s.toFixed(0)}s`,
    `RSS ${rss}`,
    `requests ${sample.requests} (failures ${sample.failures}, unexpected ${sample.unexpected})`,
    `bookings ${bookings || "none"}`,
    `overdue holds ${sample.overdue_pending} (oldest ${sample.max_overdue_s} s)`,
  ].join("  ");
}

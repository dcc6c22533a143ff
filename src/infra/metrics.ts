import { createHash, timingSafeEqual } from "node:crypto";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { AppError } from "../lib/errors";

export type HoldResult = "won" | "conflicted" | "invalid" | "refused";

/**
 * A source of a gauge's value read at scrape time (queue depths, pool use, line lengths): one
 * value per label value, or a single value for a gauge without a label.
 */
export type GaugeReader = () => Promise<Record<string, number> | number>;

export interface GaugeSource {
  help: string;
  label?: string;
  read: GaugeReader;
  /** The value shown when the read fails or is late; without it the gauge has no samples. */
  unanswered?: number;
}

/**
 * Everything /metrics exposes, in one registry per app (so tests and several apps in one
 * process never share counters). The domain calls the small record* methods; prom-client
 * stays in here.
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly httpRequests = new Counter({
    name: "evently_http_requests_total",
    help: "HTTP requests by method, route template and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });

  private readonly httpDuration = new Histogram({
    name: "evently_http_request_duration_seconds",
    help: "HTTP request latency by method, route template and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  private readonly holds = new Counter({
    name: "evently_holds_total",
    help: "Hold attempts by result: won, conflicted (seat taken), invalid (not the venue's seats), refused (show not on sale)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });

  private readonly bookingEnds = new Counter({
    name: "evently_booking_transitions_total",
    help: "Bookings confirmed, cancelled and expired",
    labelNames: ["to"] as const,
    registers: [this.registry],
  });

  private readonly admissions = new Counter({
    name: "evently_waiting_room_admissions_total",
    help: "Users admitted from a waiting room's line",
    registers: [this.registry],
  });

  /**
   * A reader that fails or takes longer than `readTimeoutMs` (a Redis that is down or hung)
   * costs its own gauge that scrape, never the rest of it.
   */
  constructor(
    readers: Record<string, GaugeSource> = {},
    private readonly readTimeoutMs = 1000,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: "evently_" });
    this.addGauges(readers);
  }

  /** Gauges read at each scrape; a process adds its own once what they read exists. */
  addGauges(readers: Record<string, GaugeSource>): void {
    const readTimeoutMs = this.readTimeoutMs;
    for (const [name, { help, label, read, unanswered }] of Object.entries(readers)) {
      new Gauge({
        name,
        help,
        labelNames: label ? [label] : [],
        registers: [this.registry],
        async collect() {
          this.reset();
          const values = await withDeadline(read(), readTimeoutMs).catch(() => unanswered);
          if (typeof values === "number") this.set(values);
          else if (label && values) {
            for (const [key, value] of Object.entries(values)) this.set({ [label]: key }, value);
          }
        },
      });
    }
  }

  recordRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  recordHold(result: HoldResult): void {
    this.holds.inc({ result });
  }

  recordTransition(to: "CONFIRMED" | "CANCELLED" | "EXPIRED", count = 1): void {
    if (count > 0) this.bookingEnds.inc({ to }, count);
  }

  recordAdmissions(count: number): void {
    if (count > 0) this.admissions.inc(count);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: Timer | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * Refuses a scrape without `Authorization: Bearer <token>` when a METRICS_TOKEN is set
 * (compared in constant time).
 */
export function requireMetricsToken(authorization: string | undefined, token?: string): void {
  if (token === undefined) return;
  const presented = /^Bearer (.+)$/.exec(authorization ?? "")?.[1] ?? "";
  if (!timingSafeEqual(digest(presented), digest(token))) {
    throw new AppError("UNAUTHENTICATED", {
      message: "Metrics need the METRICS_TOKEN bearer token",
    });
  }
}

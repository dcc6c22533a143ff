import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export type HoldResult = "won" | "conflicted" | "invalid" | "refused";

/** A source of a gauge's value read at scrape time (queue depths, pool use, line lengths). */
export type GaugeReader = () => Promise<Record<string, number>>;

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

  constructor(readers: Record<string, { help: string; label: string; read: GaugeReader }> = {}) {
    collectDefaultMetrics({ register: this.registry, prefix: "evently_" });
    for (const [name, { help, label, read }] of Object.entries(readers)) {
      new Gauge({
        name,
        help,
        labelNames: [label],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const [key, value] of Object.entries(await read()))
            this.set({ [label]: key }, value);
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

import { outcomeOf, type Reply } from "../bench/http";
import { Counter, type LatencySummary, summarizeLatencies } from "../bench/stats";

/**
 * Every request of the soak, by kind: statuses, latencies, and the answers that break the
 * run. A failure is a 5xx or no answer at all (timeout, network error); an unexpected answer
 * is any other status the contract does not allow for that request (a 409 to the confirm of
 * a hold the user has just paid, a 200 to a confirm after the hold ran out…).
 */

export type RequestKind =
  | "browse: shows"
  | "browse: events"
  | "browse: search"
  | "browse: show"
  | "seat map"
  | "my bookings"
  | "my booking"
  | "hold"
  | "hold replayed"
  | "pay"
  | "confirm"
  | "cancel pending"
  | "cancel confirmed"
  | "confirm after expiry";

export interface KindSummary {
  requests: number;
  statuses: Record<string, number>;
  latency_ms: LatencySummary;
  unexpected: number;
}

export interface TrafficSummary {
  requests: number;
  /** 5xx answers, timeouts and network errors. */
  failures: number;
  unexpected: number;
  latency_ms: LatencySummary;
  statuses: Record<string, number>;
  by_kind: Partial<Record<RequestKind, KindSummary>>;
  /** The first failures and unexpected answers, as sentences. */
  examples: string[];
}

const SHOWN_EXAMPLES = 20;
const BODY_CHARS = 200;

interface KindRecord {
  latencies: number[];
  statuses: Counter;
  unexpected: number;
}

export class Traffic {
  private readonly kinds = new Map<RequestKind, KindRecord>();
  private failures = 0;
  private unexpected = 0;
  private readonly examples: string[] = [];

  /** Records `reply`; true when its status is one of `expected`. */
  record(kind: RequestKind, reply: Reply, expected: readonly number[]): boolean {
    const entry = this.kindRecord(kind);
    entry.latencies.push(reply.ms);
    entry.statuses.add(outcomeOf(reply));
    if (expected.includes(reply.status)) return true;
    if (reply.status === 0 || reply.status >= 500) this.failures += 1;
    else this.unexpected += 1;
    entry.unexpected += 1;
    this.example(`${kind} → ${outcomeOf(reply)}: ${bodyText(reply)}`);
    return false;
  }

  /** An expected status with the wrong content (e.g. a replay naming another booking). */
  mismatch(kind: RequestKind, what: string): void {
    this.kindRecord(kind).unexpected += 1;
    this.unexpected += 1;
    this.example(`${kind}: ${what}`);
  }

  /** Requests, failures and unexpected answers so far (for the progress lines). */
  counts(): { requests: number; failures: number; unexpected: number } {
    let requests = 0;
    for (const entry of this.kinds.values()) requests += entry.latencies.length;
    return { requests, failures: this.failures, unexpected: this.unexpected };
  }

  summary(): TrafficSummary {
    const all: number[] = [];
    const statuses = new Counter();
    const byKind: TrafficSummary["by_kind"] = {};
    for (const [kind, entry] of [...this.kinds].sort(([a], [b]) => a.localeCompare(b))) {
      for (const latency of entry.latencies) all.push(latency);
      for (const [status, count] of Object.entries(entry.statuses.toObject())) {
        statuses.add(status, count);
      }
      byKind[kind] = {
        requests: entry.latencies.length,
        statuses: entry.statuses.toObject(),
        latency_ms: summarizeLatencies(entry.latencies),
        unexpected: entry.unexpected,
      };
    }
    return {
      requests: all.length,
      failures: this.failures,
      unexpected: this.unexpected,
      latency_ms: summarizeLatencies(all),
      statuses: statuses.toObject(),
      by_kind: byKind,
      examples: [...this.examples],
    };
  }

  private kindRecord(kind: RequestKind): KindRecord {
    let entry = this.kinds.get(kind);
    if (!entry) {
      entry = { latencies: [], statuses: new Counter(), unexpected: 0 };
      this.kinds.set(kind, entry);
    }
    return entry;
  }

  private example(text: string): void {
    if (this.examples.length < SHOWN_EXAMPLES) this.examples.push(text);
  }
}

function bodyText(reply: Reply): string {
  if (reply.body === undefined) return "(no JSON body)";
  const text = JSON.stringify(reply.body);
  return text.length > BODY_CHARS ? `${text.slice(0, BODY_CHARS)}…` : text;
}

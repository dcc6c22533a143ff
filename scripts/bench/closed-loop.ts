import { type HttpClient, outcomeOf } from "./http";
import { type LoadGeneratorUsage, startMeter } from "./meter";
import { Counter, type LatencySummary, perSecond, seconds, summarizeLatencies } from "./stats";

/**
 * A fixed number of connections, each sending the next GET as soon as the previous answer's
 * body is read, for a fixed time: S3's seat map and the machine references (static bytes,
 * Hono hello world) are all measured this way.
 */
/** S3's load, also used for the references so they compare: 100 connections for 15 s. */
export const STANDARD_LOAD = { connections: 100, durationMs: 15_000 };

export interface ClosedLoopResult {
  connections: number;
  wall_s: number;
  requests: number;
  requests_per_s: number;
  latency_ms: LatencySummary;
  /** Mean body bytes per answer (304s count as their empty body). */
  bytes_per_response: number;
  statuses: Record<string, number>;
  load_generator: LoadGeneratorUsage;
}

export interface ClosedLoopSettings {
  path: string;
  connections: number;
  durationMs: number;
  headers?: Record<string, string>;
}

export async function closedLoop(
  http: HttpClient,
  settings: ClosedLoopSettings,
): Promise<ClosedLoopResult> {
  const latencies: number[] = [];
  const statuses = new Counter();
  let bytes = 0;
  const meter = startMeter();
  const started = performance.now();
  const deadline = started + settings.durationMs;
  const connection = async () => {
    while (performance.now() < deadline) {
      const reply = await http.send({
        path: settings.path,
        headers: settings.headers,
        read: "bytes",
      });
      latencies.push(reply.ms);
      statuses.add(outcomeOf(reply));
      bytes += reply.bytes;
    }
  };
  await Promise.all(Array.from({ length: settings.connections }, connection));
  const wallMs = performance.now() - started;
  return {
    connections: settings.connections,
    wall_s: seconds(wallMs),
    requests: latencies.length,
    requests_per_s: perSecond(latencies.length, wallMs / 1000),
    latency_ms: summarizeLatencies(latencies),
    bytes_per_response: latencies.length > 0 ? Math.round(bytes / latencies.length) : 0,
    statuses: statuses.toObject(),
    load_generator: meter.stop(),
  };
}

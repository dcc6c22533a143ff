/** The benchmark's knobs, read once from the environment (documented in scripts/bench.ts). */

const SCENARIOS = ["S1", "S2", "S3", "S4", "S5", "S6"] as const;
type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  /** `20251126_013000`: names the database, the Redis prefix and the results file. */
  runId: string;
  startedAt: Date;
  /** API processes to start (ignored with baseUrls). */
  instances: number;
  /** What spreads the load over several instances: HAProxy, or the bench itself round-robin. */
  loadBalancer: "haproxy" | "none";
  /** Target these running servers instead of starting Evently. */
  baseUrls?: string[];
  /** With baseUrls: the target's database, for users in SQL and the oversell check. */
  targetDatabaseUrl?: string;
  skipPgbench: boolean;
  scenarios: Set<ScenarioName>;
  /** Multiplies every timed phase (S1's 30 s, S3's 15 s, pgbench's 20 s…). */
  durationScale: number;
  /** Maintenance database of the local PostgreSQL, used to create and drop scratch databases. */
  pgUrl: string;
  redisUrl: string;
  /** `host:port` of a local Redis Cluster's nodes: Evently and the bench use it instead of redisUrl. */
  redisClusterNodes?: string[];
  /** A local PgBouncer (transaction pooling) the API and the worker reach the database through. */
  pgbouncerUrl?: string;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** The benchmark (and the soak) only ever send load to this machine. */
export function requireLoopback(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} is not a URL: ${value}`);
  }
  if (!LOOPBACK_HOSTS.has(url.hostname)) {
    throw new Error(
      `${name} must point at 127.0.0.1 (got ${url.hostname}): the bench is local only`,
    );
  }
  return value.replace(/\/+$/, "");
}

export function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} must be a positive number`);
  return parsed;
}

function scenarioList(value: string | undefined): Set<ScenarioName> {
  if (!value) return new Set(SCENARIOS);
  const picked = value.split(",").map((name) => name.trim().toUpperCase());
  const unknown = picked.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(`BENCH_SCENARIOS: unknown ${unknown.join(", ")} (use ${SCENARIOS.join(",")})`);
  }
  return new Set(picked as ScenarioName[]);
}

const pad = (value: number) => String(value).padStart(2, "0");

/** `20251126_013000`, in local time. */
export function runIdOf(date: Date): string {
  return (
    `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}_` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`
  );
}

export function readOptions(env: Record<string, string | undefined>): BenchOptions {
  const startedAt = new Date();
  const instances = positiveNumber("BENCH_INSTANCES", env.BENCH_INSTANCES, 1);
  if (!Number.isInteger(instances) || instances > 8) {
    throw new Error("BENCH_INSTANCES must be an integer from 1 to 8");
  }
  const loadBalancer = env.BENCH_LOAD_BALANCER ?? (Bun.which("haproxy") ? "haproxy" : "none");
  if (loadBalancer !== "haproxy" && loadBalancer !== "none") {
    throw new Error("BENCH_LOAD_BALANCER must be haproxy or none");
  }
  const baseUrls = env.BENCH_BASE_URL
    ? env.BENCH_BASE_URL.split(",").map((url) => requireLoopback("BENCH_BASE_URL", url.trim()))
    : undefined;
  return {
    runId: runIdOf(startedAt),
    startedAt,
    instances,
    loadBalancer,
    baseUrls,
    targetDatabaseUrl: env.BENCH_DATABASE_URL
      ? requireLoopback("BENCH_DATABASE_URL", env.BENCH_DATABASE_URL)
      : undefined,
    skipPgbench: flag("BENCH_SKIP_PGBENCH", env.BENCH_SKIP_PGBENCH, false),
    scenarios: scenarioList(env.BENCH_SCENARIOS),
    durationScale: positiveNumber("BENCH_DURATION_SCALE", env.BENCH_DURATION_SCALE, 1),
    ...localServices(env, "BENCH"),
    redisClusterNodes: env.BENCH_REDIS_CLUSTER_NODES
      ? loopbackNodes("BENCH_REDIS_CLUSTER_NODES", env.BENCH_REDIS_CLUSTER_NODES)
      : undefined,
    pgbouncerUrl: env.BENCH_PGBOUNCER_URL
      ? requireLoopback("BENCH_PGBOUNCER_URL", env.BENCH_PGBOUNCER_URL)
      : undefined,
  };
}

/** `127.0.0.1:7001,127.0.0.1:7002`: a comma list of loopback `host:port`. */
function loopbackNodes(name: string, value: string): string[] {
  return value
    .split(",")
    .map((node) => node.trim())
    .map((node) => {
      if (!/^[\w.-]+:\d{1,5}$/.test(node)) throw new Error(`${name}: not host:port: ${node}`);
      requireLoopback(name, `redis://${node}`);
      return node;
    });
}

/** A timed phase's length after BENCH_DURATION_SCALE (at least one second). */
export const scaleDuration = (ms: number, scale: number) => Math.max(1000, Math.round(ms * scale));

/** "1", "true" or "yes" is on, "0", "false", "no" or "" off; unset is `fallback`. */
export function flag(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (["1", "true", "yes"].includes(value)) return true;
  if (["0", "false", "no", ""].includes(value)) return false;
  throw new Error(`${name} must be 1 or 0`);
}

/**
 * The local PostgreSQL (its maintenance database, where scratch databases are made) and Redis,
 * from `<PREFIX>_PG_URL` and `<PREFIX>_REDIS_URL`; loopback only.
 */
export function localServices(
  env: Record<string, string | undefined>,
  prefix: string,
): { pgUrl: string; redisUrl: string } {
  return {
    pgUrl: requireLoopback(
      `${prefix}_PG_URL`,
      env[`${prefix}_PG_URL`] ?? "postgres://postgres@127.0.0.1:5432/postgres",
    ),
    redisUrl: requireLoopback(
      `${prefix}_REDIS_URL`,
      env[`${prefix}_REDIS_URL`] ?? "redis://127.0.0.1:6379",
    ),
  };
}

/** Hides the password of a connection URL before it is printed or saved. */
export function redactUrl(value: string): string {
  const url = new URL(value);
  if (url.password) url.password = "***";
  return url.toString();
}

/** The knobs as printed at the start and saved in the JSON. */
export function describeOptions(options: BenchOptions): Record<string, string> {
  return {
    BENCH_INSTANCES: options.baseUrls ? "(ignored: BENCH_BASE_URL)" : String(options.instances),
    BENCH_LOAD_BALANCER:
      options.baseUrls || options.instances === 1 ? "(unused: one target)" : options.loadBalancer,
    BENCH_BASE_URL: options.baseUrls?.join(",") ?? "(unset: start Evently locally)",
    BENCH_DATABASE_URL: options.targetDatabaseUrl
      ? redactUrl(options.targetDatabaseUrl)
      : "(unset)",
    BENCH_SKIP_PGBENCH: options.skipPgbench ? "1" : "0",
    BENCH_SCENARIOS: [...options.scenarios].join(","),
    BENCH_DURATION_SCALE: String(options.durationScale),
    BENCH_PG_URL: redactUrl(options.pgUrl),
    BENCH_REDIS_URL: options.redisClusterNodes
      ? "(unused: BENCH_REDIS_CLUSTER_NODES)"
      : redactUrl(options.redisUrl),
    BENCH_REDIS_CLUSTER_NODES: options.redisClusterNodes?.join(",") ?? "(unset: one Redis)",
    BENCH_PGBOUNCER_URL: options.pgbouncerUrl
      ? redactUrl(options.pgbouncerUrl)
      : "(unset: PostgreSQL directly)",
  };
}

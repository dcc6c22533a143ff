import { describe } from "bun:test";

/**
 * Which real services this run has. Without DATABASE_URL the suites run on the embedded
 * backends only and the others show as skipped; with REQUIRE_SERVICES=1 (CI) a missing
 * service is an error, never a skip.
 */
export const databaseUrl = process.env.DATABASE_URL || undefined;
export const redisUrl = process.env.REDIS_URL || undefined;
export const servicesRequired = process.env.REQUIRE_SERVICES === "1";

if (servicesRequired && (!databaseUrl || !redisUrl)) {
  throw new Error("REQUIRE_SERVICES=1 but DATABASE_URL or REDIS_URL is not set");
}

/**
 * A Redis Cluster (`host:port,…`) for the cluster variants of the Redis suites; `.ci/run`
 * starts one. Those variants are skipped without it, or fail when REQUIRE_SERVICES=1.
 */
const clusterNodeList = process.env.REDIS_CLUSTER_TEST_NODES?.split(",").filter(Boolean) ?? [];
export const redisClusterNodes = clusterNodeList.length > 0 ? clusterNodeList : undefined;
export const clusterSuitesRun = redisClusterNodes !== undefined || servicesRequired;

/** The cluster's nodes; throws (failing the suite) when CI required a cluster it lacks. */
export function requireRedisCluster(): string[] {
  if (!redisClusterNodes) {
    throw new Error(
      "REQUIRE_SERVICES=1 but REDIS_CLUSTER_TEST_NODES is not set (.ci/run starts a Redis Cluster)",
    );
  }
  return redisClusterNodes;
}

/** "postgres-cluster": PostgreSQL with a Redis Cluster in place of the one Redis. */
export type Backend = "embedded" | "postgres" | "postgres-cluster";

/** Every backend the suites must pass on in this run. */
export const backends: Backend[] = databaseUrl ? ["embedded", "postgres"] : ["embedded"];

/** PgBouncer in transaction pooling in front of DATABASE_URL's server (.ci/run starts one). */
export const pgbouncerUrl = process.env.PGBOUNCER_URL || undefined;
/** A streaming replica of DATABASE_URL's server (.ci/run starts one). */
export const replicaUrl = process.env.DATABASE_REPLICA_URL || undefined;

/**
 * A suite that needs `url` runs when it is set, and also when REQUIRE_SERVICES=1 (so that a
 * missing one fails the run instead of skipping it); `requireUrl` then says what is missing.
 */
export const serviceAbsent = (url: string | undefined) => !url && !servicesRequired;

export function requireUrl(url: string | undefined, variable: string): string {
  if (!url) throw new Error(`REQUIRE_SERVICES=1 but ${variable} is not set (.ci/run sets it)`);
  return url;
}

/** Real PostgreSQL: the "postgres" backend, a second session, server-side faults. */
export const hasPostgres = databaseUrl !== undefined;
/** Real PostgreSQL and Redis: the worker, BullMQ, state shared between instances. */
export const hasPostgresAndRedis = hasPostgres && redisUrl !== undefined;
/**
 * A program a suite starts itself (redis-server, chromium): absent, the suite is skipped,
 * except under REQUIRE_SERVICES=1 where it runs and fails.
 */
export const canRun = (program: string) => servicesRequired || Bun.which(program) !== null;

/**
 * A `describe.each` whose cases this run may lack a service for: those are listed as skipped
 * in the summary rather than left out. `%s` in the title is the case's name.
 */
export function describeEachIfAvailable<T>(
  cases: readonly T[],
  name: (testCase: T) => string,
  isAvailable: (testCase: T) => boolean,
) {
  return (title: string, suite: (testCase: T) => void): void => {
    for (const testCase of cases) {
      describe.skipIf(!isAvailable(testCase))(title.replace("%s", name(testCase)), () =>
        suite(testCase),
      );
    }
  };
}

/** `describe.each(backends)` over every backend the suites are written for. */
export const describeEachBackend = describeEachIfAvailable<Backend>(
  ["embedded", "postgres"],
  (backend) => backend,
  (backend) => backends.includes(backend),
);

/** The cluster backend, for the suites that also run on it (the key races, the failover). */
export const clusterBackends: Backend[] = clusterSuitesRun ? ["postgres-cluster"] : [];

/** Every backend the suites are written for, the Redis Cluster one included. */
export const describeEachBackendAndCluster = describeEachIfAvailable<Backend>(
  ["embedded", "postgres", "postgres-cluster"],
  (backend) => backend,
  (backend) => backends.includes(backend) || clusterBackends.includes(backend),
);

/**
 * Which real services this run has. Without DATABASE_URL the suites run on the embedded
 * backends only; with REQUIRE_SERVICES=1 (CI) a missing service is an error, never a skip.
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

/** The cluster backend, for the suites that also run on it (the key races, the failover). */
export const clusterBackends: Backend[] = clusterSuitesRun ? ["postgres-cluster"] : [];

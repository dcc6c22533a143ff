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

export type Backend = "embedded" | "postgres";

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

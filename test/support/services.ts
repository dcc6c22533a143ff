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

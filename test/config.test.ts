import { describe, expect, spyOn, test } from "bun:test";
import { ConfigError, loadConfig } from "../src/config";

const SECRET = "0123456789abcdef0123456789abcdef";
const PG_URL = "postgres://evently@db.internal:5432/evently";

/** Runs loadConfig and returns the ConfigError it throws (fails the test when it does not). */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** The variable names a ConfigError complains about. */
const badVariables = (error: ConfigError) =>
  [...new Set(error.problems.map((problem) => problem.split(":")[0]))].sort();

describe("loadConfig", () => {
  test("an empty environment gives the documented defaults in embedded mode", () => {
    const config = loadConfig({ NODE_ENV: "test" });
    expect(config).toMatchObject({
      NODE_ENV: "test",
      PORT: 3000,
      JWT_TTL_SECONDS: 3600,
      HOLD_TTL_SECONDS: 600,
      MAX_SEATS_PER_USER_PER_SHOW: 10,
      CLEANUP_CRON: "*/2 * * * *",
      RATE_LIMIT_ENABLED: true,
      RATE_LIMIT_PER_MINUTE: 60,
      BOOKING_RATE_LIMIT_PER_MINUTE: 30,
      WAITING_ROOM_ENABLED: true,
      WAITING_ROOM_THRESHOLD: 500,
      WAITING_ROOM_ADMIT_CONCURRENCY: 10,
      BODY_LIMIT_BYTES: 64 * 1024,
      CORS_ORIGINS: ["*"],
      TRUST_PROXY: 0,
      SEAT_STREAM_MAX_PER_CLIENT: 4,
      SEAT_STREAM_WRITE_TIMEOUT_SECONDS: 30,
      LOG_LEVEL: "info",
      embedded: true,
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.ADMIN_EMAIL).toBeUndefined();
    expect(config.ADMIN_PASSWORD).toBeUndefined();
  });

  test("NODE_ENV defaults to development", () => {
    const warn = spyOn(console, "warn").mockImplementation(() => {});
    try {
      expect(loadConfig({}).NODE_ENV).toBe("development");
    } finally {
      warn.mockRestore();
    }
  });

  test("numbers and flags given as strings are parsed", () => {
    const config = loadConfig({
      NODE_ENV: "test",
      PORT: "8080",
      JWT_TTL_SECONDS: "900",
      HOLD_TTL_SECONDS: "120",
      RATE_LIMIT_PER_MINUTE: "5",
      BOOKING_RATE_LIMIT_PER_MINUTE: "3",
      WAITING_ROOM_THRESHOLD: "2",
      WAITING_ROOM_ADMIT_CONCURRENCY: "1",
      RATE_LIMIT_ENABLED: "0",
      WAITING_ROOM_ENABLED: "false",
      TRUST_PROXY: "2",
      CLEANUP_CRON: "*/30 * * * * *",
    });
    expect(config).toMatchObject({
      PORT: 8080,
      JWT_TTL_SECONDS: 900,
      HOLD_TTL_SECONDS: 120,
      RATE_LIMIT_PER_MINUTE: 5,
      BOOKING_RATE_LIMIT_PER_MINUTE: 3,
      WAITING_ROOM_THRESHOLD: 2,
      WAITING_ROOM_ADMIT_CONCURRENCY: 1,
      RATE_LIMIT_ENABLED: false,
      WAITING_ROOM_ENABLED: false,
      TRUST_PROXY: 2,
      CLEANUP_CRON: "*/30 * * * * *",
    });
  });

  test("TRUST_PROXY counts trusted proxy hops; the flag spellings read as off or one hop", () => {
    const hops = (value: string | undefined) =>
      loadConfig({ NODE_ENV: "test", TRUST_PROXY: value }).TRUST_PROXY;
    expect([undefined, "", "0", "false", "no", "FALSE"].map(hops)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(["1", "true", "yes", " True "].map(hops)).toEqual([1, 1, 1, 1]);
    expect(hops("3")).toBe(3);
    for (const bad of ["-1", "1.5", "on", "proxy"]) {
      expect(() => hops(bad)).toThrow(ConfigError);
    }
  });

  test("empty strings count as unset", () => {
    const config = loadConfig({
      NODE_ENV: "test",
      DATABASE_URL: "",
      REDIS_URL: "",
      JWT_SECRET: "",
      ADMIN_EMAIL: "",
      ADMIN_PASSWORD: "",
    });
    expect(config.embedded).toBe(true);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.ADMIN_EMAIL).toBeUndefined();
    expect(config.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
  });

  test("production mode: DATABASE_URL and REDIS_URL with a JWT_SECRET", () => {
    const config = loadConfig({
      NODE_ENV: "production",
      DATABASE_URL: PG_URL,
      REDIS_URL: "rediss://cache.internal:6380",
      JWT_SECRET: SECRET,
    });
    expect(config.embedded).toBe(false);
    expect(config.DATABASE_URL).toBe(PG_URL);
    expect(config.REDIS_URL).toBe("rediss://cache.internal:6380");
    expect(config.JWT_SECRET).toBe(SECRET);
    expect(loadConfig({ DATABASE_URL: "postgresql://x@y/z", JWT_SECRET: SECRET }).embedded).toBe(
      false,
    );
  });

  test("REDIS_CLUSTER_NODES: a host:port list instead of REDIS_URL, never beside it", () => {
    const config = loadConfig({
      DATABASE_URL: PG_URL,
      JWT_SECRET: SECRET,
      REDIS_CLUSTER_NODES: "10.0.0.1:7000, redis-2.internal:7001",
    });
    expect(config.REDIS_CLUSTER_NODES).toEqual(["10.0.0.1:7000", "redis-2.internal:7001"]);
    expect(config.REDIS_URL).toBeUndefined();
    expect(
      loadConfig({ NODE_ENV: "test", REDIS_CLUSTER_NODES: "" }).REDIS_CLUSTER_NODES,
    ).toBeUndefined();
    expect(badVariables(configError({ REDIS_CLUSTER_NODES: "redis://10.0.0.1:7000" }))).toEqual([
      "REDIS_CLUSTER_NODES",
    ]);
    expect(badVariables(configError({ REDIS_CLUSTER_NODES: "10.0.0.1" }))).toEqual([
      "REDIS_CLUSTER_NODES",
    ]);
    const both = configError({
      REDIS_URL: "redis://cache.internal:6379",
      REDIS_CLUSTER_NODES: "10.0.0.1:7000",
    });
    expect(badVariables(both)).toEqual(["REDIS_CLUSTER_NODES"]);
    expect(both.message).toContain("not both");
  });

  test("every bad variable is listed in one ConfigError", () => {
    const error = configError({
      NODE_ENV: "staging",
      PORT: "abc",
      DATABASE_URL: "mysql://db.internal/evently",
      REDIS_URL: "http://cache.internal",
      JWT_SECRET: "too-short",
      JWT_TTL_SECONDS: "-5",
      HOLD_TTL_SECONDS: "1.5",
      MAX_SEATS_PER_USER_PER_SHOW: "0",
      RATE_LIMIT_PER_MINUTE: "0",
      BCRYPT_COST: "99",
      LOG_LEVEL: "loud",
      RATE_LIMIT_ENABLED: "maybe",
      BODY_LIMIT_BYTES: "lots",
    });
    expect(badVariables(error)).toEqual(
      [
        "NODE_ENV",
        "PORT",
        "DATABASE_URL",
        "REDIS_URL",
        "JWT_SECRET",
        "JWT_TTL_SECONDS",
        "HOLD_TTL_SECONDS",
        "MAX_SEATS_PER_USER_PER_SHOW",
        "RATE_LIMIT_PER_MINUTE",
        "BCRYPT_COST",
        "LOG_LEVEL",
        "RATE_LIMIT_ENABLED",
        "BODY_LIMIT_BYTES",
      ].sort(),
    );
    // The message names every problem too, one per line.
    for (const problem of error.problems) expect(error.message).toContain(problem);
    expect(error.message).toStartWith("Invalid configuration:");
    expect(error.name).toBe("ConfigError");
  });

  test("a bad value never echoes a secret's value in the problem list", () => {
    const error = configError({ NODE_ENV: "test", JWT_SECRET: "short-secret-value" });
    expect(badVariables(error)).toEqual(["JWT_SECRET"]);
    expect(error.message).not.toContain("short-secret-value");
  });

  test("PORT outside 0..65535 is rejected", () => {
    expect(badVariables(configError({ NODE_ENV: "test", PORT: "70000" }))).toEqual(["PORT"]);
    expect(badVariables(configError({ NODE_ENV: "test", PORT: "-1" }))).toEqual(["PORT"]);
  });

  test("JWT_SECRET is required when DATABASE_URL is set", () => {
    const error = configError({ NODE_ENV: "production", DATABASE_URL: PG_URL });
    expect(badVariables(error)).toEqual(["JWT_SECRET"]);
    expect(error.problems.join("\n")).toContain("DATABASE_URL");
  });

  test("a missing JWT_SECRET is listed together with other bad variables", () => {
    // "Lists every bad variable": the production-mode rule must not hide behind a typo elsewhere.
    const error = configError({ NODE_ENV: "production", DATABASE_URL: PG_URL, PORT: "abc" });
    expect(badVariables(error)).toEqual(["JWT_SECRET", "PORT"]);
  });

  test("ADMIN_EMAIL and ADMIN_PASSWORD must be set together and be valid", () => {
    expect(badVariables(configError({ NODE_ENV: "test", ADMIN_EMAIL: "ops@example.com" }))).toEqual(
      ["ADMIN_PASSWORD"],
    );
    expect(badVariables(configError({ NODE_ENV: "test", ADMIN_PASSWORD: "long-enough" }))).toEqual([
      "ADMIN_PASSWORD",
    ]);
    expect(
      badVariables(
        configError({ NODE_ENV: "test", ADMIN_EMAIL: "not-an-email", ADMIN_PASSWORD: "short" }),
      ),
    ).toEqual(["ADMIN_EMAIL", "ADMIN_PASSWORD"]);
    expect(
      badVariables(
        configError({
          NODE_ENV: "test",
          ADMIN_EMAIL: "ops@example.com",
          ADMIN_PASSWORD: " ".repeat(12),
        }),
      ),
    ).toEqual(["ADMIN_PASSWORD"]);
    const config = loadConfig({
      NODE_ENV: "test",
      ADMIN_EMAIL: "ops@example.com",
      ADMIN_PASSWORD: "long-enough",
    });
    expect(config.ADMIN_EMAIL).toBe("ops@example.com");
    expect(config.ADMIN_PASSWORD).toBe("long-enough");
  });

  test("embedded mode without JWT_SECRET generates a random secret per load", () => {
    const first = loadConfig({ NODE_ENV: "test" });
    const second = loadConfig({ NODE_ENV: "test" });
    expect(first.JWT_SECRET).toMatch(/^[0-9a-f]{64}$/);
    expect(second.JWT_SECRET).toMatch(/^[0-9a-f]{64}$/);
    expect(first.JWT_SECRET).not.toBe(second.JWT_SECRET);
  });

  test("a JWT_SECRET given in embedded mode is used as is", () => {
    expect(loadConfig({ NODE_ENV: "test", JWT_SECRET: SECRET }).JWT_SECRET).toBe(SECRET);
  });

  test("the generated secret is announced outside tests, as one JSON log line, and stays quiet in tests", () => {
    // The logger writes warnings to stderr.
    const warn = spyOn(console, "error").mockImplementation(() => {});
    try {
      loadConfig({ NODE_ENV: "development" });
      expect(warn).toHaveBeenCalledTimes(1);
      const line = JSON.parse(String(warn.mock.calls[0]?.[0]));
      expect(line.level).toBe("warn");
      expect(line.msg).toContain("JWT_SECRET");
      loadConfig({ NODE_ENV: "test" });
      loadConfig({ NODE_ENV: "development", LOG_LEVEL: "silent" });
      loadConfig({ NODE_ENV: "development", JWT_SECRET: SECRET });
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });

  test("HOST is loopback in embedded mode, every interface with DATABASE_URL, or as given", () => {
    expect(loadConfig({ NODE_ENV: "test" }).HOST).toBe("127.0.0.1");
    expect(loadConfig({ NODE_ENV: "test", DATABASE_URL: PG_URL, JWT_SECRET: SECRET }).HOST).toBe(
      "0.0.0.0",
    );
    expect(loadConfig({ NODE_ENV: "test", HOST: "0.0.0.0" }).HOST).toBe("0.0.0.0");
    expect(
      loadConfig({ NODE_ENV: "test", DATABASE_URL: PG_URL, JWT_SECRET: SECRET, HOST: "10.0.0.7" })
        .HOST,
    ).toBe("10.0.0.7");
    expect(loadConfig({ NODE_ENV: "test", HOST: "" }).HOST).toBe("127.0.0.1");
  });

  test("CORS_ORIGINS is split on commas, trimmed, and empty entries dropped", () => {
    expect(
      loadConfig({
        NODE_ENV: "test",
        CORS_ORIGINS: " https://a.example ,https://b.example:8443,, ",
      }).CORS_ORIGINS,
    ).toEqual(["https://a.example", "https://b.example:8443"]);
    expect(
      loadConfig({ NODE_ENV: "test", CORS_ORIGINS: "https://only.example" }).CORS_ORIGINS,
    ).toEqual(["https://only.example"]);
    expect(loadConfig({ NODE_ENV: "test", CORS_ORIGINS: "*" }).CORS_ORIGINS).toEqual(["*"]);
  });
});

import { randomBytes } from "node:crypto";
import { z } from "zod";
import { DEFAULT_POOL_MAX } from "./db/pool-size";
import { createLogger } from "./lib/logger";
import { passwordSchema } from "./lib/password-rules";

const flag = (fallback: boolean) =>
  z
    .enum(["1", "0", "true", "false", "yes", "no", ""])
    .optional()
    .transform((value) => (value ? ["1", "true", "yes"].includes(value) : fallback));

/** Flag spellings TRUST_PROXY also accepts, as hop counts: `true` means one proxy in front. */
const FLAG_HOPS: Record<string, string> = { "": "0", false: "0", no: "0", true: "1", yes: "1" };

/** How many proxies in front append to X-Forwarded-For and are trusted (0: none). */
const proxyHops = z
  .string()
  .optional()
  .transform((value = "") => FLAG_HOPS[value.trim().toLowerCase()] ?? value.trim())
  .pipe(
    z
      .string()
      .regex(/^\d{1,2}$/, "must be the number of trusted proxies in front (0 = none)")
      .transform(Number),
  );

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === "" ? undefined : value));

/** Every environment variable Evently reads, in one place. */
export const configSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    /** Listen address; unset: loopback in embedded mode, every interface in production. */
    HOST: optionalString,
    WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    /** When set, /metrics (API and worker) answers only `Authorization: Bearer <token>`. */
    METRICS_TOKEN: optionalString,
    DATABASE_URL: optionalString.pipe(
      z.url({ protocol: /^postgres(ql)?$/, message: "must be a postgres:// URL" }).optional(),
    ),
    /** A streaming replica for reads that may lag a moment (browsing, admin lists, analytics). */
    DATABASE_READ_URL: optionalString.pipe(
      z.url({ protocol: /^postgres(ql)?$/, message: "must be a postgres:// URL" }).optional(),
    ),
    /** A replica further behind than this is not read from (probed every half of it). */
    DATABASE_READ_MAX_LAG_SECONDS: positiveInt(5),
    DATA_DIR: z.string().default("./data/pglite"),
    REDIS_URL: optionalString.pipe(
      z.url({ protocol: /^rediss?$/, message: "must be a redis:// URL" }).optional(),
    ),
    /** `host:port,…` of Redis Cluster nodes (any few: the rest are discovered). */
    REDIS_CLUSTER_NODES: optionalString.pipe(
      z
        .string()
        .regex(/^\s*[\w.-]+:\d{1,5}\s*(,\s*[\w.-]+:\d{1,5}\s*)*$/, "must be host:port,host:port,…")
        .transform((value) => value.split(",").map((node) => node.trim()))
        .optional(),
    ),
    REDIS_KEY_PREFIX: z
      .string()
      .max(64)
      .regex(/^[A-Za-z0-9:_-]*$/, "letters, digits, ':', '_' and '-' only")
      .default(""),
    JWT_SECRET: optionalString.pipe(
      z.string().min(32, "must be at least 32 characters").optional(),
    ),
    JWT_TTL_SECONDS: positiveInt(3600),
    BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(10),
    /** Worker threads that run bcrypt: the hashes that run at once. */
    PASSWORD_WORKERS: z.coerce.number().int().min(1).max(64).default(navigator.hardwareConcurrency),
    /** Hashes that may wait for a password thread; one more is answered 503 at once. */
    PASSWORD_QUEUE_LIMIT: z.coerce.number().int().min(0).max(100_000).default(32),
    /** How long a hash may wait for a password thread before its request is answered 503. */
    PASSWORD_QUEUE_WAIT_MS: positiveInt(2000),
    HOLD_TTL_SECONDS: positiveInt(600),
    /** Seats one user may hold or own for one show (PENDING and CONFIRMED bookings). */
    MAX_SEATS_PER_USER_PER_SHOW: positiveInt(10),
    /** How long a waitlist offer (a PENDING hold made for the next in line) lasts. */
    WAITLIST_OFFER_TTL_SECONDS: positiveInt(300),
    CLEANUP_CRON: z.string().min(1).default("*/2 * * * *"),
    /** Lapsed holds expired per cleanup transaction. */
    CLEANUP_BATCH_SIZE: positiveInt(500),
    RATE_LIMIT_ENABLED: flag(true),
    RATE_LIMIT_PER_MINUTE: positiveInt(60),
    BOOKING_RATE_LIMIT_PER_MINUTE: positiveInt(30),
    /** Failed logins at one account (email) per window, from any address, before 429. */
    LOGIN_FAILURES_PER_EMAIL: positiveInt(10),
    LOGIN_FAILURE_WINDOW_SECONDS: positiveInt(900),
    WAITING_ROOM_ENABLED: flag(true),
    WAITING_ROOM_THRESHOLD: positiveInt(500),
    WAITING_ROOM_ADMIT_CONCURRENCY: positiveInt(10),
    ADMISSION_TTL_SECONDS: positiveInt(600),
    SEAT_STREAM_MAX_PER_INSTANCE: positiveInt(1000),
    /** Live seat map streams one user (or, anonymous, one IP) holds open on an instance. */
    SEAT_STREAM_MAX_PER_CLIENT: positiveInt(4),
    /** A stream whose client has not taken an event for this long is dropped. */
    SEAT_STREAM_WRITE_TIMEOUT_SECONDS: positiveInt(30),
    SEAT_STREAM_HEARTBEAT_SECONDS: positiveInt(15),
    QUEUE_ABANDON_SECONDS: positiveInt(300),
    ADMIN_EMAIL: optionalString.pipe(z.email().optional()),
    ADMIN_PASSWORD: optionalString.pipe(passwordSchema.optional()),
    CORS_ORIGINS: z
      .string()
      .default("*")
      .transform((value) =>
        value
          .split(",")
          .map((origin) => origin.trim())
          .filter(Boolean),
      ),
    TRUST_PROXY: proxyHops,
    DB_POOL_MAX: positiveInt(DEFAULT_POOL_MAX),
    DB_PREPARE: flag(true),
    /**
     * PgBouncer in transaction pooling in front of PostgreSQL: no startup parameters, no prepared
     * statements; the timeouts come from the role, checked at start.
     */
    DB_PGBOUNCER: flag(false),
    /** 0: a pooled connection stays open however long it idles (postgres.js idle_timeout). */
    DB_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().min(0).default(0),
    /** Upper bound of opening a connection (postgres.js connect_timeout). */
    DB_CONNECT_TIMEOUT_SECONDS: positiveInt(5),
    DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
    DB_LOCK_TIMEOUT_MS: z.coerce.number().int().min(0).default(5_000),
    DB_PLAN_CACHE_MODE: z
      .enum(["auto", "force_generic_plan", "force_custom_plan"])
      .default("force_generic_plan"),
    REDIS_TIMEOUT_MS: positiveInt(500),
    BODY_LIMIT_BYTES: positiveInt(64 * 1024),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
    SEED_DEMO_DATA: flag(true),
  })
  .superRefine(
    (env, ctx) => {
      if (env.DATABASE_URL && !env.JWT_SECRET) {
        ctx.addIssue({
          code: "custom",
          path: ["JWT_SECRET"],
          message: "is required when DATABASE_URL is set (production mode)",
        });
      }
      if (env.REDIS_URL && env.REDIS_CLUSTER_NODES) {
        ctx.addIssue({
          code: "custom",
          path: ["REDIS_CLUSTER_NODES"],
          message: "set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a cluster), not both",
        });
      }
      if (Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD)) {
        ctx.addIssue({
          code: "custom",
          path: ["ADMIN_PASSWORD"],
          message: "ADMIN_EMAIL and ADMIN_PASSWORD must be set together",
        });
      }
    },
    { when: () => true },
  );

export type Config = Omit<z.output<typeof configSchema>, "JWT_SECRET" | "HOST"> & {
  JWT_SECRET: string;
  HOST: string;
  /** True when no DATABASE_URL is set: PGlite and in-memory adapters in one process. */
  embedded: boolean;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment once; throws ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join(".") || "(env)"}: ${issue.message}`),
    );
  }
  const embedded = !parsed.data.DATABASE_URL;
  let secret = parsed.data.JWT_SECRET;
  if (!secret) {
    secret = randomBytes(32).toString("hex");
    if (parsed.data.NODE_ENV !== "test") {
      createLogger(parsed.data.LOG_LEVEL).warn(
        "JWT_SECRET is not set: generated a random one for this embedded run; tokens will not survive a restart",
      );
    }
  }
  const host = parsed.data.HOST ?? (embedded ? "127.0.0.1" : "0.0.0.0");
  return { ...parsed.data, JWT_SECRET: secret, HOST: host, embedded };
}

import { flag, localServices, positiveNumber, redactUrl, runIdOf } from "../bench/options";

/** The soak's knobs, read once from the environment (documented in scripts/soak.ts). */
export interface SoakOptions {
  /** `20251126_013000`: names the database, the Redis prefix and the results file. */
  runId: string;
  startedAt: Date;
  /** Length of the traffic, warm-up included. */
  durationS: number;
  /** Traffic before the first memory sample that counts as the start. */
  warmUpS: number;
  /** Virtual users, each a user of its own running the mixed loop. */
  users: number;
  shows: number;
  /** The venue every show uses: `rows` rows of SEATS_PER_ROW seats. */
  rows: number;
  seatsPerRow: number;
  /** HOLD_TTL_SECONDS of the system under test. */
  holdTtlS: number;
  /** CLEANUP_CRON runs every this many seconds. */
  cleanupEveryS: number;
  /** Mean pause of a virtual user between two steps (uniform in 0..2×). */
  thinkMs: number;
  /** Confirmed bookings a virtual user keeps; it cancels its oldest beyond that. */
  keepConfirmed: number;
  sampleEveryS: number;
  waitingRoom: boolean;
  /** The run fails when the API's RSS at the end exceeds its start by more than this. */
  maxRssGrowthPercent: number;
  pgUrl: string;
  redisUrl: string;
}

const SEATS_PER_ROW = 50;

function integer(name: string, value: string | undefined, fallback: number, max: number) {
  const parsed = positiveNumber(name, value, fallback);
  if (!Number.isInteger(parsed) || parsed > max) {
    throw new Error(`${name} must be an integer from 1 to ${max}`);
  }
  return parsed;
}

export function readSoakOptions(env: Record<string, string | undefined>): SoakOptions {
  const startedAt = new Date();
  const durationS = integer("SOAK_SECONDS", env.SOAK_SECONDS, 300, 6 * 3600);
  if (durationS < 20) throw new Error("SOAK_SECONDS must be at least 20");
  const warmUpS = integer(
    "SOAK_WARMUP_SECONDS",
    env.SOAK_WARMUP_SECONDS,
    Math.min(30, Math.max(5, Math.round(durationS / 10))),
    durationS,
  );
  if (warmUpS > durationS / 2) throw new Error("SOAK_WARMUP_SECONDS must be at most half the run");
  return {
    runId: runIdOf(startedAt),
    startedAt,
    durationS,
    warmUpS,
    users: integer("SOAK_USERS", env.SOAK_USERS, 50, 1000),
    shows: integer("SOAK_SHOWS", env.SOAK_SHOWS, 4, 50),
    rows: Math.ceil(integer("SOAK_SEATS", env.SOAK_SEATS, 1000, 10_000) / SEATS_PER_ROW),
    seatsPerRow: SEATS_PER_ROW,
    holdTtlS: integer("SOAK_HOLD_TTL_SECONDS", env.SOAK_HOLD_TTL_SECONDS, 20, 3600),
    cleanupEveryS: integer("SOAK_CLEANUP_SECONDS", env.SOAK_CLEANUP_SECONDS, 5, 59),
    thinkMs: positiveNumber("SOAK_THINK_MS", env.SOAK_THINK_MS, 200),
    keepConfirmed: integer("SOAK_KEEP_CONFIRMED", env.SOAK_KEEP_CONFIRMED, 3, 100),
    sampleEveryS: integer("SOAK_SAMPLE_SECONDS", env.SOAK_SAMPLE_SECONDS, 10, 600),
    waitingRoom: flag("SOAK_WAITING_ROOM", env.SOAK_WAITING_ROOM, true),
    maxRssGrowthPercent: positiveNumber(
      "SOAK_MAX_RSS_GROWTH_PERCENT",
      env.SOAK_MAX_RSS_GROWTH_PERCENT,
      50,
    ),
    ...localServices(env, "SOAK"),
  };
}

/** The knobs as printed at the start and saved in the JSON. */
export function describeSoakOptions(options: SoakOptions): Record<string, string> {
  return {
    SOAK_SECONDS: String(options.durationS),
    SOAK_WARMUP_SECONDS: String(options.warmUpS),
    SOAK_USERS: String(options.users),
    SOAK_SHOWS: String(options.shows),
    SOAK_SEATS: `${options.rows * options.seatsPerRow} per show (${options.rows} rows)`,
    SOAK_HOLD_TTL_SECONDS: String(options.holdTtlS),
    SOAK_CLEANUP_SECONDS: String(options.cleanupEveryS),
    SOAK_THINK_MS: String(options.thinkMs),
    SOAK_KEEP_CONFIRMED: String(options.keepConfirmed),
    SOAK_SAMPLE_SECONDS: String(options.sampleEveryS),
    SOAK_WAITING_ROOM: options.waitingRoom ? "1" : "0",
    SOAK_MAX_RSS_GROWTH_PERCENT: String(options.maxRssGrowthPercent),
    SOAK_PG_URL: redactUrl(options.pgUrl),
    SOAK_REDIS_URL: redactUrl(options.redisUrl),
  };
}

/** The system under test's settings that make holds run out, and get expired, during the run. */
export function eventlySettings(options: SoakOptions): Record<string, string> {
  return {
    HOLD_TTL_SECONDS: String(options.holdTtlS),
    CLEANUP_CRON: `*/${options.cleanupEveryS} * * * * *`,
    WAITING_ROOM_ENABLED: options.waitingRoom ? "1" : "0",
  };
}

import type Redis from "ioredis";

/**
 * A counter per show, bumped after every committed change to its seats. Cached seat maps are
 * labelled with the counter they were built under; a different counter means rebuild.
 * In Redis the counter is shared, so a change made through one API instance invalidates the
 * caches of all of them.
 */
export interface SeatMapVersions {
  current(showId: number): Promise<number>;
  bump(showId: number): Promise<void>;
}

/**
 * A counter Redis lost (a restart without persistence, a failover) or rolled back (an older
 * snapshot) must not count again through values that maps cached before carry. So a counter is
 * the clock in microseconds: a bump sets it to the clock, or adds one if it is already there
 * (a thousand bumps in one millisecond), and a missing counter starts from the clock. Values
 * only grow, whatever Redis forgets (losing a key takes it longer than the clock's millisecond). KEYS: the counter. ARGV: the clock. The clock stays a
 * string: Lua would print a number this large in exponent notation.
 */
const START_IF_MISSING = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('GET', KEYS[1])`;
const BUMP = `
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
  return ARGV[1]
end
return redis.call('INCR', KEYS[1])`;

const microsecondClock = () => String(Date.now() * 1000);

type ScriptRedis = Redis & {
  seatMapVersionStart(key: string, start: string): Promise<string>;
  seatMapVersionBump(key: string, start: string): Promise<number | string>;
};

export class RedisSeatMapVersions implements SeatMapVersions {
  private readonly redis: ScriptRedis;

  constructor(
    redis: Redis,
    private readonly prefix = "",
  ) {
    redis.defineCommand("seatMapVersionStart", { numberOfKeys: 1, lua: START_IF_MISSING });
    redis.defineCommand("seatMapVersionBump", { numberOfKeys: 1, lua: BUMP });
    this.redis = redis as ScriptRedis;
  }

  /** A plain GET while the counter exists, as it does for every show being read. */
  async current(showId: number) {
    const key = this.key(showId);
    const value =
      (await this.redis.get(key)) ??
      (await this.redis.seatMapVersionStart(key, microsecondClock()));
    return Number(value);
  }

  async bump(showId: number) {
    await this.redis.seatMapVersionBump(this.key(showId), microsecondClock());
  }

  private key(showId: number) {
    return `${this.prefix}seatmap_version:{${showId}}`;
  }
}

export class MemorySeatMapVersions implements SeatMapVersions {
  private readonly versions = new Map<number, number>();

  async current(showId: number) {
    return this.versions.get(showId) ?? 0;
  }

  async bump(showId: number) {
    this.versions.set(showId, (this.versions.get(showId) ?? 0) + 1);
  }
}

import type { RedisClient } from "./redis";

/**
 * A version per show, moved forward after every committed change to its seats. Cached seat
 * maps are labelled with the version they were built under; a different version means rebuild.
 * In Redis the version is shared, so a change made through one API instance invalidates the
 * caches of all of them.
 */
export interface SeatMapVersions {
  /** The show's version; undefined while it has none (no change since the store started). */
  current(showId: number): Promise<number | undefined>;
  /** Gives the show a version if it has none; answers the version it has. */
  start(showId: number): Promise<number>;
  bump(showId: number): Promise<void>;
}

/**
 * A version Redis lost (a restart without persistence, a failover) must not come back to a
 * value that maps cached before the loss carry, so a version is Redis's own clock in
 * microseconds: a bump sets it to the clock, or adds one if it is already there (two bumps in
 * one microsecond), and a version starts from the clock. One clock for every instance; values
 * only grow, whatever Redis forgets. (A rollback to an older snapshot can serve maps cached
 * before it until their age limit.) The clock is built as a string: Lua would print a number
 * this large in exponent notation.
 */
const CLOCK = `
local function clock()
  local time = redis.call('TIME')
  return time[1] .. string.format('%06d', tonumber(time[2]))
end
`;
const START = `${CLOCK}
local now = clock()
if redis.call('SET', KEYS[1], now, 'NX') then return now end
return redis.call('GET', KEYS[1])`;
const BUMP = `${CLOCK}
local now = clock()
local version = redis.call('GET', KEYS[1])
if not version or tonumber(version) < tonumber(now) then
  redis.call('SET', KEYS[1], now)
  return now
end
return redis.call('INCR', KEYS[1])`;

type ScriptRedis = RedisClient & {
  seatMapVersionStart(key: string): Promise<string>;
  seatMapVersionBump(key: string): Promise<number | string>;
};

export class RedisSeatMapVersions implements SeatMapVersions {
  private readonly redis: ScriptRedis;

  constructor(
    redis: RedisClient,
    private readonly prefix = "",
  ) {
    redis.defineCommand("seatMapVersionStart", { numberOfKeys: 1, lua: START });
    redis.defineCommand("seatMapVersionBump", { numberOfKeys: 1, lua: BUMP });
    this.redis = redis as ScriptRedis;
  }

  async current(showId: number) {
    const version = await this.redis.get(this.key(showId));
    return version === null ? undefined : Number(version);
  }

  async start(showId: number) {
    return Number(await this.redis.seatMapVersionStart(this.key(showId)));
  }

  async bump(showId: number) {
    await this.redis.seatMapVersionBump(this.key(showId));
  }

  private key(showId: number) {
    return `${this.prefix}seatmap_version:{${showId}}`;
  }
}

export class MemorySeatMapVersions implements SeatMapVersions {
  private readonly versions = new Map<number, number>();

  async current(showId: number) {
    return this.versions.get(showId);
  }

  async start(showId: number) {
    const version = this.versions.get(showId) ?? 0;
    this.versions.set(showId, version);
    return version;
  }

  async bump(showId: number) {
    this.versions.set(showId, (this.versions.get(showId) ?? 0) + 1);
  }
}

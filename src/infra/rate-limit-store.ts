import type { Store } from "hono-rate-limiter";
import type { RedisClient } from "./redis";

type StoreOptions = Parameters<NonNullable<Store["init"]>>[0];

// KEYS: counter. ARGV: window ms. Fixed window: the first hit starts it.
const INCREMENT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {hits, ttl}`;

// KEYS: counter. Never below zero: a negative count would hand out free requests.
const DECREMENT = `
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then return redis.call('DECR', KEYS[1]) end
return 0`;

type ScriptRedis = RedisClient & {
  rateLimitIncrement(key: string, windowMs: number): Promise<[number, number]>;
  rateLimitDecrement(key: string): Promise<number>;
};

/**
 * hono-rate-limiter's store on ioredis, so every API instance counts against the same
 * window (its bundled RedisStore expects an Upstash-shaped client). defineCommand retries
 * with EVAL after NOSCRIPT, e.g. when Redis restarted and lost its script cache.
 */
export class RedisRateLimitStore implements Store {
  private readonly redis: ScriptRedis;
  private windowMs = 60_000;

  constructor(
    redis: RedisClient,
    private readonly keyPrefix: string,
  ) {
    redis.defineCommand("rateLimitIncrement", { numberOfKeys: 1, lua: INCREMENT });
    redis.defineCommand("rateLimitDecrement", { numberOfKeys: 1, lua: DECREMENT });
    this.redis = redis as ScriptRedis;
  }

  init(options: StoreOptions) {
    this.windowMs = options.windowMs;
  }

  async increment(key: string) {
    const [hits, ttl] = await this.redis.rateLimitIncrement(this.keyPrefix + key, this.windowMs);
    return { totalHits: hits, resetTime: new Date(Date.now() + ttl) };
  }

  async decrement(key: string) {
    await this.redis.rateLimitDecrement(this.keyPrefix + key);
  }

  async resetKey(key: string) {
    await this.redis.del(this.keyPrefix + key);
  }
}

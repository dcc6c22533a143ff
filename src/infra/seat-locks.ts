import type Redis from "ioredis";

/**
 * The fast, cross-instance filter in front of PostgreSQL's row locks. A seat's key holds either
 * the token of the hold that owns it (expiring with the hold) or the BOOKED marker (no expiry,
 * removed on cancel), so requests for held or sold seats are refused without a transaction.
 * PostgreSQL stays the source of truth: these locks can only refuse, never grant, a seat.
 */
export interface SeatLocks {
  /** Takes every seat for `token` or none; answers the seats that were already taken. */
  acquire(showId: number, seatIds: number[], token: string, ttlMs: number): Promise<number[]>;
  /** Deletes the locks still owned by `token`. */
  release(showId: number, seatIds: number[], token: string): Promise<void>;
  /**
   * Turns the hold's locks into BOOKED markers lasting `ttlMs` (until the show starts, after
   * which no hold is accepted anyway). Only keys still owned by `token` change, so a marker can
   * never land after the booking was cancelled.
   */
  markBooked(showId: number, seatIds: number[], token: string, ttlMs: number): Promise<void>;
  /** A confirmed booking was cancelled: removes BOOKED markers and the booking's own locks. */
  clearBooked(showId: number, seatIds: number[], token: string): Promise<void>;
  /** Raw key values, for invariant checks: seat id → owner token or BOOKED_MARKER. */
  snapshot(showId: number): Promise<Map<number, string>>;
}

export const BOOKED_MARKER = "BOOKED";

/**
 * `seat_lock:{<show>}:<seat>`: the hash tag on the show puts every seat of one hold in one Redis
 * Cluster slot. `prefix` (REDIS_KEY_PREFIX) lets several deployments or test runs share a Redis.
 */
export const seatLockKey = (showId: number, seatId: number, prefix = "") =>
  `${prefix}${showLockPrefix(showId)}${seatId}`;
const showLockPrefix = (showId: number) => `seat_lock:{${showId}}:`;

// KEYS: seat keys. ARGV: token, ttl ms. All-or-nothing: returns the indexes of taken keys.
const ACQUIRE = `
local taken = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then taken[#taken + 1] = i end
end
if #taken > 0 then return taken end
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
end
return taken`;

// KEYS: seat keys. ARGV: accepted values (one or more). Compare-and-delete.
const DELETE_IF_EQUALS = `
local deleted = 0
for _, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  for _, accepted in ipairs(ARGV) do
    if value == accepted then
      deleted = deleted + redis.call('DEL', key)
      break
    end
  end
end
return deleted`;

// KEYS: seat keys. ARGV: owner token, marker, ttl ms. Compare-and-set.
const REPLACE_IF_EQUALS = `
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('SET', key, ARGV[2], 'PX', ARGV[3]) end
end
return 0`;

type ScriptRedis = Redis & {
  seatLockAcquire(...args: (string | number)[]): Promise<number[]>;
  seatLockDeleteIfEquals(...args: (string | number)[]): Promise<number>;
  seatLockReplaceIfEquals(...args: (string | number)[]): Promise<number>;
};

export class RedisSeatLocks implements SeatLocks {
  private readonly redis: ScriptRedis;

  constructor(
    redis: Redis,
    private readonly prefix = "",
  ) {
    // defineCommand runs EVALSHA and falls back to EVAL on NOSCRIPT (e.g. after a restart).
    redis.defineCommand("seatLockAcquire", { lua: ACQUIRE });
    redis.defineCommand("seatLockDeleteIfEquals", { lua: DELETE_IF_EQUALS });
    redis.defineCommand("seatLockReplaceIfEquals", { lua: REPLACE_IF_EQUALS });
    this.redis = redis as ScriptRedis;
  }

  async acquire(showId: number, seatIds: number[], token: string, ttlMs: number) {
    const keys = this.keys(showId, seatIds);
    const taken = await this.redis.seatLockAcquire(keys.length, ...keys, token, ttlMs);
    return taken.map((index) => seatIds[index - 1] as number);
  }

  async release(showId: number, seatIds: number[], token: string) {
    await this.deleteIfEquals(showId, seatIds, token);
  }

  async markBooked(showId: number, seatIds: number[], token: string, ttlMs: number) {
    if (seatIds.length === 0) return;
    const keys = this.keys(showId, seatIds);
    await this.redis.seatLockReplaceIfEquals(keys.length, ...keys, token, BOOKED_MARKER, ttlMs);
  }

  async clearBooked(showId: number, seatIds: number[], token: string) {
    await this.deleteIfEquals(showId, seatIds, BOOKED_MARKER, token);
  }

  async snapshot(showId: number) {
    const found = new Map<number, string>();
    const prefix = this.prefix + showLockPrefix(showId);
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const values = await this.redis.mget(...keys);
      keys.forEach((key, index) => {
        const value = values[index];
        if (value) found.set(Number(key.slice(prefix.length)), value);
      });
    } while (cursor !== "0");
    return found;
  }

  private keys(showId: number, seatIds: number[]) {
    return seatIds.map((seatId) => seatLockKey(showId, seatId, this.prefix));
  }

  private async deleteIfEquals(showId: number, seatIds: number[], ...accepted: string[]) {
    if (seatIds.length === 0) return;
    const keys = this.keys(showId, seatIds);
    await this.redis.seatLockDeleteIfEquals(keys.length, ...keys, ...accepted);
  }
}

/** The same contract in process memory, for embedded mode (one process, no Redis). */
export class MemorySeatLocks implements SeatLocks {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();

  async acquire(showId: number, seatIds: number[], token: string, ttlMs: number) {
    const now = Date.now();
    const taken = seatIds.filter((seatId) => {
      const entry = this.entries.get(seatLockKey(showId, seatId));
      return entry !== undefined && entry.expiresAt > now;
    });
    if (taken.length > 0) return taken;
    for (const seatId of seatIds) {
      this.entries.set(seatLockKey(showId, seatId), { value: token, expiresAt: now + ttlMs });
    }
    return [];
  }

  async release(showId: number, seatIds: number[], token: string) {
    this.deleteIfEquals(showId, seatIds, token);
  }

  async markBooked(showId: number, seatIds: number[], token: string, ttlMs: number) {
    const now = Date.now();
    for (const seatId of seatIds) {
      const key = seatLockKey(showId, seatId);
      const entry = this.entries.get(key);
      if (entry?.value === token && entry.expiresAt > now) {
        this.entries.set(key, { value: BOOKED_MARKER, expiresAt: now + ttlMs });
      }
    }
  }

  async clearBooked(showId: number, seatIds: number[], token: string) {
    this.deleteIfEquals(showId, seatIds, BOOKED_MARKER, token);
  }

  async snapshot(showId: number) {
    const found = new Map<number, string>();
    const prefix = showLockPrefix(showId);
    const now = Date.now();
    for (const [key, entry] of this.entries) {
      if (key.startsWith(prefix) && entry.expiresAt > now) {
        found.set(Number(key.slice(prefix.length)), entry.value);
      }
    }
    return found;
  }

  private deleteIfEquals(showId: number, seatIds: number[], ...accepted: string[]) {
    for (const seatId of seatIds) {
      const key = seatLockKey(showId, seatId);
      const value = this.entries.get(key)?.value;
      if (value !== undefined && accepted.includes(value)) this.entries.delete(key);
    }
  }
}

import { type RedisClient, scanKeys } from "./redis";

/**
 * The fast, cross-instance filter in front of PostgreSQL's row locks. A seat's key holds either
 * the token of the hold that owns it (expiring with the hold) or the BOOKED marker (removed on
 * cancel, expiring an hour after the show starts), so requests for held or sold seats are
 * refused without a transaction.
 * PostgreSQL stays the source of truth: these locks can only refuse, never grant, a seat.
 */
export interface SeatLocks {
  /** Takes every seat for `token` or none; answers the seats that were already taken. */
  acquire(showId: number, seatIds: number[], token: string, ttlMs: number): Promise<number[]>;
  /**
   * Sets every seat's key to `token`, whatever it held: for seats PostgreSQL has just given to
   * this hold (best available picks there first), so any other value is stale or belongs to a
   * hold that PostgreSQL is about to refuse.
   */
  claim(showId: number, seatIds: number[], token: string, ttlMs: number): Promise<void>;
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
  /** Every seat lock of every show, with the milliseconds it has left to live. */
  entries(): Promise<SeatLockEntry[]>;
  /** Sets each lock whose key is free (SET NX): brings back locks Redis lost. Answers how many. */
  restore(entries: SeatLockEntry[]): Promise<number>;
  /** Deletes each key still holding the value given: drops locks PostgreSQL disowns. */
  discard(entries: SeatLockEntry[]): Promise<number>;
}

export interface SeatLockEntry {
  showId: number;
  seatId: number;
  value: string;
  ttlMs: number;
}

export const BOOKED_MARKER = "BOOKED";

/**
 * A BOOKED marker outlives its show's start by an hour: no hold is accepted after the start
 * anyway, and the marker must not vanish while a late hold could still race it.
 */
const MARKER_GRACE_MS = 3_600_000;
export const bookedMarkerTtlMs = (showStartsAtMs: number, now = Date.now()) =>
  Math.max(showStartsAtMs - now, 0) + MARKER_GRACE_MS;

/**
 * `seat_lock:{<show>}:<seat>`: the hash tag on the show puts every seat of one hold in one Redis
 * Cluster slot. `prefix` (REDIS_KEY_PREFIX) lets several deployments or test runs share a Redis.
 */
export const seatLockKey = (showId: number, seatId: number, prefix = "") =>
  `${prefix}${showLockPrefix(showId)}${seatId}`;
const SEAT_LOCK_KEY_PREFIX = "seat_lock:{";
const showLockPrefix = (showId: number) => `${SEAT_LOCK_KEY_PREFIX}${showId}}:`;

function parseSeatLockKey(key: string): { showId: number; seatId: number } | undefined {
  const match = /^seat_lock:\{(\d+)\}:(\d+)$/.exec(key);
  return match ? { showId: Number(match[1]), seatId: Number(match[2]) } : undefined;
}

/** Scripts touch one show's keys at a time: they share a Redis Cluster slot. */
function groupByShow(entries: SeatLockEntry[]): Map<number, SeatLockEntry[]> {
  const groups = new Map<number, SeatLockEntry[]>();
  for (const entry of entries) {
    const group = groups.get(entry.showId);
    if (group) group.push(entry);
    else groups.set(entry.showId, [entry]);
  }
  return groups;
}

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

// KEYS: seat keys. ARGV: token, ttl ms. Overwrites.
const CLAIM = `
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
end
return 0`;

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

// KEYS: seat keys. ARGV: the value each key must hold to be deleted, in the same order.
const DELETE_EACH_IF_EQUALS = `
local deleted = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i] then deleted = deleted + redis.call('DEL', key) end
end
return deleted`;

// KEYS: seat keys. ARGV: value and ttl ms for each key, in pairs. SET NX: never overwrites.
const SET_EACH_IF_ABSENT = `
local set = 0
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[2 * i - 1], 'PX', ARGV[2 * i], 'NX') then set = set + 1 end
end
return set`;

// KEYS: seat keys. ARGV: owner token, marker, ttl ms. Compare-and-set.
const REPLACE_IF_EQUALS = `
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('SET', key, ARGV[2], 'PX', ARGV[3]) end
end
return 0`;

type ScriptRedis = RedisClient & {
  seatLockAcquire(...args: (string | number)[]): Promise<number[]>;
  seatLockClaim(...args: (string | number)[]): Promise<number>;
  seatLockDeleteIfEquals(...args: (string | number)[]): Promise<number>;
  seatLockReplaceIfEquals(...args: (string | number)[]): Promise<number>;
  seatLockDeleteEachIfEquals(...args: (string | number)[]): Promise<number>;
  seatLockSetEachIfAbsent(...args: (string | number)[]): Promise<number>;
};

export class RedisSeatLocks implements SeatLocks {
  private readonly redis: ScriptRedis;

  constructor(
    redis: RedisClient,
    private readonly prefix = "",
  ) {
    // defineCommand runs EVALSHA and falls back to EVAL on NOSCRIPT (e.g. after a restart).
    redis.defineCommand("seatLockAcquire", { lua: ACQUIRE });
    redis.defineCommand("seatLockClaim", { lua: CLAIM });
    redis.defineCommand("seatLockDeleteIfEquals", { lua: DELETE_IF_EQUALS });
    redis.defineCommand("seatLockReplaceIfEquals", { lua: REPLACE_IF_EQUALS });
    redis.defineCommand("seatLockDeleteEachIfEquals", { lua: DELETE_EACH_IF_EQUALS });
    redis.defineCommand("seatLockSetEachIfAbsent", { lua: SET_EACH_IF_ABSENT });
    this.redis = redis as ScriptRedis;
  }

  async acquire(showId: number, seatIds: number[], token: string, ttlMs: number) {
    const keys = this.keys(showId, seatIds);
    const taken = await this.redis.seatLockAcquire(keys.length, ...keys, token, ttlMs);
    return taken.map((index) => seatIds[index - 1] as number);
  }

  async claim(showId: number, seatIds: number[], token: string, ttlMs: number) {
    if (seatIds.length === 0) return;
    const keys = this.keys(showId, seatIds);
    await this.redis.seatLockClaim(keys.length, ...keys, token, ttlMs);
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
    for (const entry of await this.scan(showLockPrefix(showId))) {
      found.set(entry.seatId, entry.value);
    }
    return found;
  }

  entries() {
    return this.scan(SEAT_LOCK_KEY_PREFIX);
  }

  async restore(entries: SeatLockEntry[]) {
    let restored = 0;
    for (const [showId, ofShow] of groupByShow(entries)) {
      const keys = this.keys(
        showId,
        ofShow.map((entry) => entry.seatId),
      );
      const values = ofShow.flatMap((entry) => [entry.value, Math.max(Math.ceil(entry.ttlMs), 1)]);
      restored += await this.redis.seatLockSetEachIfAbsent(keys.length, ...keys, ...values);
    }
    return restored;
  }

  async discard(entries: SeatLockEntry[]) {
    let discarded = 0;
    for (const [showId, ofShow] of groupByShow(entries)) {
      const keys = this.keys(
        showId,
        ofShow.map((entry) => entry.seatId),
      );
      const values = ofShow.map((entry) => entry.value);
      discarded += await this.redis.seatLockDeleteEachIfEquals(keys.length, ...keys, ...values);
    }
    return discarded;
  }

  /** The locks whose key (after REDIS_KEY_PREFIX) starts with `keyPrefix`, on every primary. */
  private async scan(keyPrefix: string): Promise<SeatLockEntry[]> {
    const found: SeatLockEntry[] = [];
    for await (const { server, keys } of scanKeys(this.redis, `${this.prefix}${keyPrefix}*`)) {
      const pipeline = server.pipeline();
      for (const key of keys) pipeline.get(key).pttl(key);
      const replies = (await pipeline.exec()) ?? [];
      keys.forEach((key, index) => {
        const value = replies[2 * index]?.[1] as string | null;
        const pttl = replies[2 * index + 1]?.[1] as number;
        const seat = parseSeatLockKey(key.slice(this.prefix.length));
        // -1: no expiry (BOOKED markers written by older releases); -2: gone since the SCAN.
        const ttlMs = pttl === -1 ? Number.POSITIVE_INFINITY : pttl;
        if (value && seat && ttlMs > 0) found.push({ ...seat, value, ttlMs });
      });
    }
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
  private readonly locks = new Map<string, { value: string; expiresAt: number }>();

  async acquire(showId: number, seatIds: number[], token: string, ttlMs: number) {
    const now = Date.now();
    const taken = seatIds.filter((seatId) => {
      const entry = this.locks.get(seatLockKey(showId, seatId));
      return entry !== undefined && entry.expiresAt > now;
    });
    if (taken.length > 0) return taken;
    for (const seatId of seatIds) {
      this.locks.set(seatLockKey(showId, seatId), { value: token, expiresAt: now + ttlMs });
    }
    return [];
  }

  async claim(showId: number, seatIds: number[], token: string, ttlMs: number) {
    const expiresAt = Date.now() + ttlMs;
    for (const seatId of seatIds) {
      this.locks.set(seatLockKey(showId, seatId), { value: token, expiresAt });
    }
  }

  async release(showId: number, seatIds: number[], token: string) {
    this.deleteIfEquals(showId, seatIds, token);
  }

  async markBooked(showId: number, seatIds: number[], token: string, ttlMs: number) {
    const now = Date.now();
    for (const seatId of seatIds) {
      const key = seatLockKey(showId, seatId);
      const entry = this.locks.get(key);
      if (entry?.value === token && entry.expiresAt > now) {
        this.locks.set(key, { value: BOOKED_MARKER, expiresAt: now + ttlMs });
      }
    }
  }

  async clearBooked(showId: number, seatIds: number[], token: string) {
    this.deleteIfEquals(showId, seatIds, BOOKED_MARKER, token);
  }

  async snapshot(showId: number) {
    const found = new Map<number, string>();
    for (const entry of await this.entries()) {
      if (entry.showId === showId) found.set(entry.seatId, entry.value);
    }
    return found;
  }

  /** Also forgets expired entries, as Redis would: the cleanup's repair calls this each run. */
  async entries() {
    const now = Date.now();
    const found: SeatLockEntry[] = [];
    for (const [key, entry] of this.locks) {
      const seat = parseSeatLockKey(key);
      if (entry.expiresAt <= now) this.locks.delete(key);
      else if (seat) found.push({ ...seat, value: entry.value, ttlMs: entry.expiresAt - now });
    }
    return found;
  }

  async restore(entries: SeatLockEntry[]) {
    const now = Date.now();
    let restored = 0;
    for (const { showId, seatId, value, ttlMs } of entries) {
      const key = seatLockKey(showId, seatId);
      const current = this.locks.get(key);
      if (current && current.expiresAt > now) continue;
      this.locks.set(key, { value, expiresAt: now + ttlMs });
      restored++;
    }
    return restored;
  }

  async discard(entries: SeatLockEntry[]) {
    let discarded = 0;
    for (const { showId, seatId, value } of entries) {
      const key = seatLockKey(showId, seatId);
      if (this.locks.get(key)?.value === value) {
        this.locks.delete(key);
        discarded++;
      }
    }
    return discarded;
  }

  private deleteIfEquals(showId: number, seatIds: number[], ...accepted: string[]) {
    for (const seatId of seatIds) {
      const key = seatLockKey(showId, seatId);
      const value = this.locks.get(key)?.value;
      if (value !== undefined && accepted.includes(value)) this.locks.delete(key);
    }
  }
}

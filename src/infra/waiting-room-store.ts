import { type RedisClient, scanKeys } from "./redis";

export type RoomState =
  | { status: "admitted"; admittedUntil: number }
  | { status: "queued"; position: number }
  | { status: "open" };

/** What a show's line did lately: its pace is `admissions` per `spanMs`. */
export interface LinePace {
  /** People admitted from the line in the last admission TTL, after the first of them. */
  admissions: number;
  /** Time from the first to the last of those admissions. */
  spanMs: number;
}

export interface RoomSettings {
  /** Admitted users per show before arrivals are queued. */
  threshold: number;
  /**
   * An admission lasts this long unless renewed by progress; also the span over which the
   * line's pace is measured.
   */
  admissionTtlMs: number;
  /** A queued user who has not polled for this long loses the place. */
  abandonMs: number;
  /** Told how many were admitted from a line, whichever call admitted them (metrics). */
  onLineAdmissions?: (count: number) => void;
}

/**
 * One show's virtual waiting room: who is admitted (until when) and who waits, in arrival
 * order. Every call first tidies the room (lapsed admissions, abandoned places) and admits
 * from the head of the line while there is room, so the line moves even if no job runs.
 */
export interface WaitingRoomStore {
  /**
   * A hold attempt: admitted users stay admitted (without renewal); others are admitted or
   * queued. A queued caller's call counts as a poll, unless they were already silent too long.
   */
  enter(showId: number, userId: number, now: number): Promise<RoomState>;
  /** The caller's state, without joining the line. Polling keeps a queued place. */
  status(showId: number, userId: number, now: number): Promise<RoomState>;
  /** Progress: an admission still running lasts admissionTtlMs from now; others are untouched. */
  renew(showId: number, userId: number, now: number): Promise<RoomState>;
  /** The user's session ended (booking confirmed or cancelled): free the place. */
  leave(showId: number, userId: number): Promise<void>;
  /** Admits from the head of the line while there is room; returns who was admitted. */
  admitNext(showId: number, now: number): Promise<number[]>;
  /** Places in the line, abandoned ones included until a call of that show tidies them. */
  queueLength(showId: number): Promise<number>;
  /** Users still waiting (polled within abandonMs) per show id, for every show with a line. */
  lineLengths(now: number): Promise<Record<string, number>>;
  /** Admissions from the show's line over the last admissionTtlMs, for ETAs. */
  linePace(showId: number, now: number): Promise<LinePace>;
  /** Before sales open: remember the caller for the opening draw; returns how many wait. */
  preEnter(showId: number, userId: number): Promise<number>;
  /**
   * At sales opening, once per show: the pre-queue joins the line in an order drawn from
   * `seed`, so arriving early or on a faster connection gives no edge. Returns how many
   * joined, or undefined when the line was already opened.
   */
  openLine(showId: number, seed: number, now: number): Promise<number | undefined>;
}

/**
 * Fisher–Yates driven by MINSTD (products stay below 2^53, so Lua and JavaScript compute the
 * same draw). The seed comes from crypto at opening time; nobody can predict the order.
 */
const SHUFFLE = `
local state = tonumber(ARGV[1])
local function draw(n)
  state = (state * 48271) % 2147483647
  return state % n + 1
end
local function shuffle(items)
  for i = #items, 2, -1 do
    local j = draw(i)
    items[i], items[j] = items[j], items[i]
  end
end`;

export function seededShuffle<T>(items: T[], seed: number): T[] {
  const shuffled = [...items];
  let state = seed;
  for (let i = shuffled.length; i >= 2; i--) {
    state = (state * 48271) % 2147483647;
    const j = (state % i) + 1;
    [shuffled[i - 1], shuffled[j - 1]] = [shuffled[j - 1] as T, shuffled[i - 1] as T];
  }
  return shuffled;
}

// KEYS: pre-queue (set), queue, seen, seq, opened flag. ARGV: seed, now.
const OPEN_LINE = `${SHUFFLE}
if not redis.call('SET', KEYS[5], '1', 'NX', 'PX', 86400000) then return -1 end
local members = redis.call('SMEMBERS', KEYS[1])
for i, member in ipairs(members) do members[i] = tonumber(member) end
table.sort(members)
shuffle(members)
for _, member in ipairs(members) do
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), member)
  redis.call('ZADD', KEYS[3], ARGV[2], member)
end
redis.call('DEL', KEYS[1])
return #members`;

// KEYS: admitted, queue, seen, seq, line admissions. ARGV: mode (enter|status|renew|admit),
// user, now, threshold, admission ttl ms, abandon-before timestamp.
// Returns {state, value, admitted users...}.
const ROOM = `
local admitted, queue, seen, seq, admissions = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local mode, user, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local threshold, ttl, abandonBefore = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

redis.call('ZREMRANGEBYSCORE', admitted, '-inf', now)
local gone = redis.call('ZRANGEBYSCORE', seen, '-inf', abandonBefore)
for _, u in ipairs(gone) do
  redis.call('ZREM', queue, u)
  redis.call('ZREM', seen, u)
end
-- Only now does the caller's call count as a poll: a place lost to silence stays lost.
local polling = mode == 'enter' or mode == 'status'
if polling and redis.call('ZSCORE', queue, user) then redis.call('ZADD', seen, now, user) end

local newly = {}
while redis.call('ZCARD', admitted) < threshold do
  local head = redis.call('ZPOPMIN', queue)
  if #head == 0 then break end
  redis.call('ZREM', seen, head[1])
  redis.call('ZADD', admitted, now + ttl, head[1])
  redis.call('ZADD', admissions, now, now .. ':' .. head[1])
  newly[#newly + 1] = head[1]
end
redis.call('ZREMRANGEBYSCORE', admissions, '-inf', now - ttl)

-- An idle room (nobody admitted or waiting for a day) leaves nothing behind.
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, 86400000) end

local function reply(state, value)
  local out = {state, tostring(value)}
  for _, u in ipairs(newly) do out[#out + 1] = u end
  return out
end

if mode == 'admit' then return reply('open', 0) end
local admittedUntil = redis.call('ZSCORE', admitted, user)
if admittedUntil then
  if mode == 'renew' then
    admittedUntil = now + ttl
    redis.call('ZADD', admitted, admittedUntil, user)
  end
  return reply('admitted', admittedUntil)
end
local rank = redis.call('ZRANK', queue, user)
if rank then return reply('queued', rank + 1) end
if mode ~= 'enter' then return reply('open', 0) end
if redis.call('ZCARD', queue) == 0 and redis.call('ZCARD', admitted) < threshold then
  redis.call('ZADD', admitted, now + ttl, user)
  return reply('admitted', now + ttl)
end
redis.call('ZADD', queue, redis.call('INCR', seq), user)
redis.call('ZADD', seen, now, user)
return reply('queued', redis.call('ZCARD', queue))`;

// KEYS: line admissions. ARGV: window start (exclusive). Returns a LinePace's fields.
const PACE = `
local first = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if #first == 0 then return {0, 0} end
local last = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {redis.call('ZCOUNT', KEYS[1], '(' .. first[2], '+inf'), tonumber(last[2]) - tonumber(first[2])}`;

type ScriptRedis = RedisClient & {
  waitingRoomPace(key: string, windowStart: number): Promise<[number, number]>;
  waitingRoom(...args: (string | number)[]): Promise<string[]>;
  waitingRoomOpenLine(...args: (string | number)[]): Promise<number>;
};

const toState = (state: string, value: string): RoomState => {
  if (state === "admitted") return { status: "admitted", admittedUntil: Number(value) };
  if (state === "queued") return { status: "queued", position: Number(value) };
  return { status: "open" };
};

export class RedisWaitingRoomStore implements WaitingRoomStore {
  private readonly redis: ScriptRedis;

  constructor(
    redis: RedisClient,
    private readonly settings: RoomSettings,
    private readonly prefix = "",
  ) {
    redis.defineCommand("waitingRoom", { numberOfKeys: 5, lua: ROOM });
    redis.defineCommand("waitingRoomPace", { numberOfKeys: 1, lua: PACE });
    redis.defineCommand("waitingRoomOpenLine", { numberOfKeys: 5, lua: OPEN_LINE });
    this.redis = redis as ScriptRedis;
  }

  enter(showId: number, userId: number, now: number) {
    return this.run("enter", showId, String(userId), now).then((reply) => reply.state);
  }

  status(showId: number, userId: number, now: number) {
    return this.run("status", showId, String(userId), now).then((reply) => reply.state);
  }

  renew(showId: number, userId: number, now: number) {
    return this.run("renew", showId, String(userId), now).then((reply) => reply.state);
  }

  async leave(showId: number, userId: number) {
    await this.redis.zrem(this.keys(showId)[0], String(userId));
  }

  async admitNext(showId: number, now: number) {
    return (await this.run("admit", showId, "", now)).admitted;
  }

  queueLength(showId: number) {
    return this.redis.zcard(this.keys(showId)[1]);
  }

  /** Every queued user has a last poll in `seen`: the recent ones are still waiting. */
  async lineLengths(now: number) {
    const lengths: Record<string, number> = {};
    const abandonBefore = now - this.settings.abandonMs;
    for await (const { server, keys } of scanKeys(this.redis, `${this.prefix}wr:{*}:seen`)) {
      for (const key of keys) {
        const length = await server.zcount(key, `(${abandonBefore}`, "+inf");
        if (length > 0) lengths[key.slice(key.indexOf("{") + 1, key.indexOf("}"))] = length;
      }
    }
    return lengths;
  }

  async linePace(showId: number, now: number) {
    const [admissions, spanMs] = await this.redis.waitingRoomPace(
      this.keys(showId)[4],
      now - this.settings.admissionTtlMs,
    );
    return { admissions, spanMs };
  }

  async preEnter(showId: number, userId: number) {
    const preQueue = this.preQueueKey(showId);
    const [, [, size]] = (await this.redis
      .multi()
      .sadd(preQueue, String(userId))
      .scard(preQueue)
      .pexpire(preQueue, 86_400_000)
      .exec()) as [unknown, [unknown, number]];
    return size;
  }

  async openLine(showId: number, seed: number, now: number) {
    const [, queue, seen, seq] = this.keys(showId);
    const joined = await this.redis.waitingRoomOpenLine(
      this.preQueueKey(showId),
      queue,
      seen,
      seq,
      `${this.prefix}wr:{${showId}}:opened`,
      seed,
      now,
    );
    return joined < 0 ? undefined : joined;
  }

  private preQueueKey(showId: number) {
    return `${this.prefix}wr:{${showId}}:pre`;
  }

  /** `wr:{<show>}:…`: one hash tag, so the script's keys share a Redis Cluster slot. */
  private keys(showId: number) {
    const base = `${this.prefix}wr:{${showId}}:`;
    return [
      `${base}admitted`,
      `${base}queue`,
      `${base}seen`,
      `${base}seq`,
      `${base}admissions`,
    ] as const;
  }

  private async run(mode: string, showId: number, user: string, now: number) {
    const [state = "open", value = "0", ...admitted] = await this.redis.waitingRoom(
      ...this.keys(showId),
      mode,
      user,
      now,
      this.settings.threshold,
      this.settings.admissionTtlMs,
      now - this.settings.abandonMs,
    );
    if (admitted.length > 0) this.settings.onLineAdmissions?.(admitted.length);
    return { state: toState(state, value), admitted: admitted.map(Number) };
  }
}

interface Room {
  admitted: Map<number, number>;
  /** user → arrival number; Map keeps insertion order, which is arrival order. */
  queue: Map<number, number>;
  seen: Map<number, number>;
  /** When each admission from the line happened, over the last admission TTL, oldest first. */
  lineAdmissions: number[];
  preQueue: Set<number>;
  opened: boolean;
}

/** The same rules in process memory, for embedded mode. */
export class MemoryWaitingRoomStore implements WaitingRoomStore {
  private readonly rooms = new Map<number, Room>();

  constructor(private readonly settings: RoomSettings) {}

  async enter(showId: number, userId: number, now: number): Promise<RoomState> {
    const room = this.tidy(showId, now, userId);
    const current = this.current(room, userId);
    if (current.status !== "open") return current;
    if (room.queue.size === 0 && room.admitted.size < this.settings.threshold) {
      return this.admit(room, userId, now);
    }
    room.queue.set(userId, now);
    room.seen.set(userId, now);
    return { status: "queued", position: room.queue.size };
  }

  async status(showId: number, userId: number, now: number): Promise<RoomState> {
    return this.current(this.tidy(showId, now, userId), userId);
  }

  async renew(showId: number, userId: number, now: number): Promise<RoomState> {
    const room = this.tidy(showId, now);
    return room.admitted.has(userId) ? this.admit(room, userId, now) : this.current(room, userId);
  }

  async leave(showId: number, userId: number) {
    this.rooms.get(showId)?.admitted.delete(userId);
  }

  async admitNext(showId: number, now: number) {
    const room = this.room(showId);
    this.dropLapsed(room, now);
    return this.admitFromHead(room, now);
  }

  async queueLength(showId: number) {
    return this.rooms.get(showId)?.queue.size ?? 0;
  }

  async preEnter(showId: number, userId: number) {
    const room = this.room(showId);
    room.preQueue.add(userId);
    return room.preQueue.size;
  }

  async openLine(showId: number, seed: number, now: number) {
    const room = this.room(showId);
    if (room.opened) return undefined;
    room.opened = true;
    const drawn = seededShuffle(
      [...room.preQueue].sort((a, b) => a - b),
      seed,
    );
    for (const user of drawn) {
      room.queue.set(user, now);
      room.seen.set(user, now);
    }
    room.preQueue.clear();
    return drawn.length;
  }

  async lineLengths(now: number) {
    const lengths: Record<string, number> = {};
    for (const [showId, room] of this.rooms) {
      const waiting = [...room.seen.values()].filter((lastSeen) => !this.abandoned(lastSeen, now));
      if (waiting.length > 0) lengths[String(showId)] = waiting.length;
    }
    return lengths;
  }

  async linePace(showId: number, now: number) {
    const recent = this.recentAdmissions(this.room(showId), now);
    const first = recent[0];
    if (first === undefined) return { admissions: 0, spanMs: 0 };
    return {
      admissions: recent.filter((at) => at > first).length,
      spanMs: (recent.at(-1) ?? first) - first,
    };
  }

  private room(showId: number): Room {
    let room = this.rooms.get(showId);
    if (!room) {
      room = {
        admitted: new Map(),
        queue: new Map(),
        seen: new Map(),
        lineAdmissions: [],
        preQueue: new Set(),
        opened: false,
      };
      this.rooms.set(showId, room);
    }
    return room;
  }

  /**
   * Lapsed admissions and abandoned places go first; only then does a queued `poller`'s call
   * count as a poll, so a place lost to silence stays lost.
   */
  private tidy(showId: number, now: number, poller?: number): Room {
    const room = this.room(showId);
    this.dropLapsed(room, now);
    if (poller !== undefined && room.queue.has(poller)) room.seen.set(poller, now);
    this.admitFromHead(room, now);
    return room;
  }

  private dropLapsed(room: Room, now: number): void {
    for (const [user, until] of room.admitted) if (until <= now) room.admitted.delete(user);
    for (const [user, lastSeen] of room.seen) {
      if (this.abandoned(lastSeen, now)) {
        room.queue.delete(user);
        room.seen.delete(user);
      }
    }
  }

  private abandoned(lastSeen: number, now: number): boolean {
    return lastSeen <= now - this.settings.abandonMs;
  }

  /** Admissions from the line still inside the pace window; older ones are forgotten. */
  private recentAdmissions(room: Room, now: number): number[] {
    const windowStart = now - this.settings.admissionTtlMs;
    room.lineAdmissions = room.lineAdmissions.filter((at) => at > windowStart);
    return room.lineAdmissions;
  }

  private admitFromHead(room: Room, now: number): number[] {
    const admitted: number[] = [];
    for (const user of room.queue.keys()) {
      if (room.admitted.size >= this.settings.threshold) break;
      room.queue.delete(user);
      room.seen.delete(user);
      room.admitted.set(user, now + this.settings.admissionTtlMs);
      admitted.push(user);
    }
    if (admitted.length > 0) {
      this.recentAdmissions(room, now).push(...admitted.map(() => now));
      this.settings.onLineAdmissions?.(admitted.length);
    }
    return admitted;
  }

  private current(room: Room, userId: number): RoomState {
    const until = room.admitted.get(userId);
    if (until !== undefined) return { status: "admitted", admittedUntil: until };
    if (room.queue.has(userId)) {
      return { status: "queued", position: [...room.queue.keys()].indexOf(userId) + 1 };
    }
    return { status: "open" };
  }

  private admit(room: Room, userId: number, now: number): RoomState {
    const until = now + this.settings.admissionTtlMs;
    room.admitted.set(userId, until);
    return { status: "admitted", admittedUntil: until };
  }
}

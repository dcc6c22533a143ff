import type { Context } from "hono";
import { getConnInfo } from "hono/bun";
import { verify } from "hono/jwt";
import { MemoryStore, rateLimiter, type Store } from "hono-rate-limiter";
import type { AppEnv } from "../app-env";
import { hmacKey } from "../lib/jwt-key";
import type { Logger } from "../lib/logger";

export interface RateLimitSettings {
  limitPerMinute: number;
  /** Names the counter, so several limits can share one store. */
  name: string;
  trustProxy: boolean;
  jwtSecret: string;
  store?: Store<AppEnv>;
  logger: Logger;
}

const EXEMPT = /^\/(health|metrics)(\/|$)/;

/**
 * The caller's identity for counting: the user id of a validly signed token (no database
 * lookup; a forged token cannot spend someone else's budget), else the client IP.
 */
async function callerKey(c: Context<AppEnv>, settings: RateLimitSettings): Promise<string> {
  const token = /^Bearer\s+(\S+)$/i.exec(c.req.header("Authorization") ?? "")?.[1];
  if (token) {
    const key = await hmacKey(settings.jwtSecret);
    const payload = await verify(token, key, "HS256").catch(() => undefined);
    if (typeof payload?.sub === "number") return `user:${payload.sub}`;
  }
  return `ip:${clientIp(c, settings.trustProxy)}`;
}

function clientIp(c: Context<AppEnv>, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("X-Forwarded-For")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    // No socket behind the request (app.request in tests): one shared anonymous bucket.
    return "unknown";
  }
}

/**
 * A fixed one-minute window per caller. If the shared store is unreachable the request is let
 * through (and logged): rate limiting must not take the service down with Redis.
 */
export function rateLimit(settings: RateLimitSettings) {
  const store = settings.store ?? new MemoryStore<AppEnv>();
  const failOpen: Store<AppEnv> = {
    init: (options) => store.init?.(options),
    increment: async (key) => {
      try {
        return await store.increment(key);
      } catch (error) {
        settings.logger.warn("rate limit store unavailable; request allowed", {
          error: String(error),
        });
        return { totalHits: 0 };
      }
    },
    decrement: (key) => store.decrement(key),
    resetKey: (key) => store.resetKey(key),
  };
  return rateLimiter<AppEnv>({
    windowMs: 60_000,
    limit: settings.limitPerMinute,
    standardHeaders: "draft-6",
    store: failOpen,
    skip: (c) => c.req.method === "OPTIONS" || EXEMPT.test(c.req.path),
    keyGenerator: async (c) => `${settings.name}:${await callerKey(c, settings)}`,
    handler: (c) =>
      c.json(
        {
          message: `Too many requests: at most ${settings.limitPerMinute} a minute. Retry after the time in Retry-After.`,
          code: "RATE_LIMITED",
        },
        429,
      ),
  });
}

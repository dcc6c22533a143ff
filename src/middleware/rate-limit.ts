import { MemoryStore, rateLimiter, type Store } from "hono-rate-limiter";
import type { AppEnv } from "../app-env";
import type { Logger } from "../lib/logger";
import { type CallerKeySettings, callerKey } from "./client-identity";

export interface RateLimitSettings extends CallerKeySettings {
  limitPerMinute: number;
  /** Names the counter, so several limits can share one store. */
  name: string;
  store?: Store;
  logger: Logger;
}

const EXEMPT = /^\/(health|metrics)(\/|$)/;
/** Probes and scrapes are never limited. */
export const isExemptFromRateLimits = (path: string) => EXEMPT.test(path);

/**
 * A fixed one-minute window per caller. If the shared store is unreachable the request is let
 * through (and logged): rate limiting must not take the service down with Redis.
 */
export function rateLimit(settings: RateLimitSettings) {
  const store = settings.store ?? new MemoryStore();
  const failOpen: Store<AppEnv> = {
    // The stores read only the window from the limiter's options.
    init: ({ windowMs }) => store.init?.({ windowMs } as Parameters<NonNullable<Store["init"]>>[0]),
    increment: async (key) => {
      try {
        // MemoryStore answers its live counter: copied at once, or the parallel requests
        // counted before this one resumes would all read the final total and all be refused.
        const counted = store.increment(key);
        return counted instanceof Promise ? await counted : { ...counted };
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
    skip: (c) => c.req.method === "OPTIONS" || isExemptFromRateLimits(c.req.path),
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

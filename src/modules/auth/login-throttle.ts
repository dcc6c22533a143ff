import { createHash } from "node:crypto";
import type { Store } from "hono-rate-limiter";
import { AppError } from "../../lib/errors";
import type { Logger } from "../../lib/logger";

export interface LoginThrottleSettings {
  maxFailures: number;
  windowSeconds: number;
  logger: Logger;
}

type StoreOptions = Parameters<NonNullable<Store["init"]>>[0];

/**
 * Failed logins per account, from whatever address they come, so that a guess spread over
 * many addresses is slowed as well as one from a single address. Every attempt is counted
 * before its password is checked (parallel guesses cannot all slip under the limit); a
 * success forgets the count. The count is kept by email whether or not an account has it,
 * so known and unknown emails get the same answers.
 *
 * Like the per-IP limits it fails open: while the shared store is unreachable, logins are
 * checked without it (and that is logged).
 */
export class LoginThrottle {
  constructor(
    private readonly store: Store,
    private readonly settings: LoginThrottleSettings,
  ) {
    // The stores read only the window from the limiter's options.
    store.init?.({ windowMs: settings.windowSeconds * 1000 } as StoreOptions);
  }

  /** Counts an attempt at the account; refuses it once the window's failures are spent. */
  async attempt(email: string): Promise<void> {
    const counted = await this.unlessUnavailable("count", () => {
      const hits = this.store.increment(this.key(email));
      // hono-rate-limiter's MemoryStore answers its live counter: read it before anyone else
      // counts, or parallel attempts all see the last one's count.
      return hits instanceof Promise ? hits : { ...hits };
    });
    if (!counted || counted.totalHits <= this.settings.maxFailures) return;
    const seconds = Math.max(
      1,
      Math.ceil(((counted.resetTime?.getTime() ?? Date.now()) - Date.now()) / 1000),
    );
    throw new AppError("RATE_LIMITED", {
      message: `Too many failed logins for this account: at most ${this.settings.maxFailures} every ${this.settings.windowSeconds} seconds. Retry after the time in Retry-After.`,
      retryAfterSeconds: seconds,
      rateLimit: { limit: this.settings.maxFailures, remaining: 0, resetSeconds: seconds },
    });
  }

  /** The attempt logged in: the account's count starts afresh. */
  async succeeded(email: string): Promise<void> {
    await this.unlessUnavailable("reset", () => this.store.resetKey(this.key(email)));
  }

  /** The attempt failed for another reason than its password (the database was down). */
  async undecided(email: string): Promise<void> {
    await this.unlessUnavailable("uncount", () => this.store.decrement(this.key(email)));
  }

  /** Hashed: the store (Redis) never holds the email itself. */
  private key(email: string): string {
    return `login:${createHash("sha256").update(email).digest("base64url")}`;
  }

  private async unlessUnavailable<T>(action: string, work: () => T | Promise<T>) {
    try {
      return await work();
    } catch (error) {
      this.settings.logger.warn(`login throttle unavailable; could not ${action} the attempt`, {
        error: String(error),
      });
      return undefined;
    }
  }
}

import type { Context } from "hono";
import { getConnInfo } from "hono/bun";
import { verify } from "hono/jwt";
import type { AppEnv, CallerKeySettings } from "../app-env";
import { hmacKey } from "../lib/jwt-key";

/**
 * The client's address. Each proxy appends the address it saw to X-Forwarded-For, so with
 * `trustedProxies` proxies in front the client is the entry that many from the right: anything
 * left of it was written by the client and proves nothing. With fewer entries than proxies every
 * entry came from a trusted proxy and the leftmost is the client. With no trusted proxy the
 * header is ignored and the socket's peer is the client.
 */
export function clientIp(c: Context<AppEnv>, trustedProxies: number): string {
  if (trustedProxies > 0) {
    const entries = (c.req.header("X-Forwarded-For") ?? "")
      .split(",")
      .map((entry) => entry.trim())
      .filter(Boolean);
    const client = entries[Math.max(0, entries.length - trustedProxies)];
    if (client) return client;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    // No socket behind the request (app.request in tests): one shared anonymous bucket.
    return "unknown";
  }
}

export type { CallerKeySettings };

/**
 * The caller's identity for counting: the user id of a validly signed token (no database
 * lookup; a forged token cannot spend someone else's budget), else the client IP.
 */
export async function callerKey(c: Context<AppEnv>, settings: CallerKeySettings): Promise<string> {
  const token = /^Bearer\s+(\S+)$/i.exec(c.req.header("Authorization") ?? "")?.[1];
  if (token) {
    const key = await hmacKey(settings.jwtSecret);
    const payload = await verify(token, key, "HS256").catch(() => undefined);
    if (typeof payload?.sub === "number") return `user:${payload.sub}`;
  }
  return `ip:${clientIp(c, settings.trustedProxies)}`;
}

import { createHash } from "node:crypto";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { AppError, badRequest } from "../lib/errors";

const VALID_KEY = /^[\x20-\x7E]{1,255}$/;

const keyInUse = (message: string) => new AppError("IDEMPOTENCY_KEY_IN_USE", { message });

/** Answers whose retry may succeed are not stored, so the same key can be used again. */
const isRetryable = (status: number) => status === 409 || status === 429 || status >= 500;

/**
 * Idempotency-Key on booking POSTs: the first response for a (user, key) is stored and
 * replayed byte for byte; a different body or a retry while the first still runs gets 409.
 * Runs after requireUser.
 */
export const idempotent = createMiddleware<AppEnv>(async (c, next) => {
  const key = c.req.header("Idempotency-Key");
  if (key === undefined) return next();
  if (!VALID_KEY.test(key)) {
    throw badRequest("Invalid Idempotency-Key header", {
      "Idempotency-Key": "must be 1-255 printable ASCII characters",
    });
  }
  const body = await c.req.text();
  const requestHash = createHash("sha256")
    .update(`${c.req.method} ${c.req.path}\n${body}`)
    .digest("hex");
  const store = c.get("services").idempotency;
  const userId = c.get("user").user_id;

  const state = await store.begin(userId, key, requestHash);
  if (state.kind === "mismatch")
    throw keyInUse("This Idempotency-Key was used with a different request");
  if (state.kind === "in_flight")
    throw keyInUse("A request with this Idempotency-Key is still running");
  if (state.kind === "replay") {
    return new Response(state.body, {
      status: state.status,
      headers: { "Content-Type": "application/json", "Idempotent-Replayed": "true" },
    });
  }

  await next();
  try {
    if (isRetryable(c.res.status)) {
      await store.abandon(userId, key);
    } else {
      await store.complete(userId, key, c.res.status, await c.res.clone().text());
    }
  } catch (error) {
    // The request's outcome stands and is answered as it is: a 5xx here would hide a booking
    // that exists. The key stays in flight until it goes stale, so a retry meanwhile is
    // refused (409) rather than run twice.
    c.get("logger").warn("could not record the Idempotency-Key's answer", {
      status: c.res.status,
      error: String(error),
    });
  }
});

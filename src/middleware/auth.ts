import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { AppError } from "../lib/errors";

const BEARER = /^Bearer\s+(\S+)$/i;

/** Requires a valid, unrevoked bearer token and puts its user on the context. */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const match = BEARER.exec(c.req.header("Authorization") ?? "");
  if (!match?.[1]) throw new AppError("UNAUTHENTICATED");
  c.set("user", await c.get("services").auth.authenticate(match[1]));
  await next();
});

/** Requires an admin; use after requireUser. */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (c.get("user").role !== "admin") {
    throw new AppError("FORBIDDEN");
  }
  await next();
});

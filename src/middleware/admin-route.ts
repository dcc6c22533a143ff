import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import { requireAdmin, requireUser } from "./auth";

/** An admin route: bearer auth in the document, 401 for anonymous and 403 for plain users. */
export const adminRoute = <const R extends Omit<RouteConfig, "middleware" | "security">>(
  config: R,
) =>
  createRoute({
    ...config,
    tags: ["Admin"],
    security: [{ bearerAuth: [] }],
    middleware: [requireUser, requireAdmin] as const,
  });

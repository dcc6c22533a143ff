import { createRoute } from "@hono/zod-openapi";
import { AppError } from "../../lib/errors";
import { createRouter, errorResponses, jsonBody, jsonResponse, z } from "../../lib/openapi";
import { passwordSchema } from "../../lib/password-rules";
import { text } from "../../lib/shapes";
import { requireUser } from "../../middleware/auth";
import { UserSchema } from "./schemas";

const email = z.email().max(254).openapi({ example: "ada@example.com" });
const password = passwordSchema.meta({ example: "correct horse battery" });
const name = text().trim().min(1).max(100);

/** What an account is made of, as registration checks it (the admin CLI checks the same). */
export const AccountFields = z.object({ email, password, name: name.optional() });

const SessionSchema = z.object({ token: z.string(), user: UserSchema }).openapi("Session");

const register = createRoute({
  method: "post",
  path: "/register",
  operationId: "register",
  tags: ["Auth"],
  summary: "Create a user account",
  description:
    'Emails are case-insensitive. Accounts are always role `user`: a body asking for `role: "admin"` is refused with 403. Passwords are 8–128 characters, not whitespace only; bcrypt compares only their first 72 bytes (UTF-8), so two passwords that share those bytes are the same password. Like login, answered 503 `UNAVAILABLE` with `Retry-After` when the password pool is busy beyond its bound.',
  request: {
    body: jsonBody(
      AccountFields.extend({
        role: z.string().optional().openapi({ description: "Only `user` is accepted" }),
      }),
    ),
  },
  responses: {
    201: jsonResponse(SessionSchema, "Registered; the token is ready to use"),
    ...errorResponses("FORBIDDEN", "EMAIL_TAKEN"),
  },
});

const login = createRoute({
  method: "post",
  path: "/login",
  operationId: "login",
  tags: ["Auth"],
  summary: "Exchange email and password for a token",
  description:
    "Wrong password and unknown email get the same 401 `INVALID_CREDENTIALS`. Besides the per-address limit, failed logins are counted per account (email, in any letter case) from every address: after `LOGIN_FAILURES_PER_EMAIL` failures (10 by default) within `LOGIN_FAILURE_WINDOW_SECONDS` (900) of the first, every login to that account, the right password included, is 429 `RATE_LIMITED` with `Retry-After` until the window ends. A successful login starts the count afresh. Unknown emails are counted the same way. Passwords are checked on a bounded pool: when more checks wait than `PASSWORD_QUEUE_LIMIT` (32), or one waits longer than `PASSWORD_QUEUE_WAIT_MS` (2 s), the login is answered 503 `UNAVAILABLE` with `Retry-After`; retry then.",
  request: {
    body: jsonBody(z.object({ email: text().max(254), password: z.string().max(128) })),
  },
  responses: {
    200: jsonResponse(SessionSchema, "Logged in"),
    ...errorResponses("INVALID_CREDENTIALS"),
  },
});

const me = createRoute({
  method: "get",
  path: "/me",
  operationId: "getMe",
  tags: ["Auth"],
  summary: "The caller's account",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser] as const,
  responses: {
    200: jsonResponse(z.object({ user: UserSchema }), "The caller"),
  },
});

const logout = createRoute({
  method: "post",
  path: "/logout",
  operationId: "logout",
  tags: ["Auth"],
  summary: "Revoke every token issued to the caller so far",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser] as const,
  responses: { 204: { description: "Logged out everywhere" } },
});

export const authRoutes = createRouter()
  .openapi(register, async (c) => {
    const { role, ...input } = c.req.valid("json");
    if (role !== undefined && role !== "user") {
      throw new AppError("FORBIDDEN", { message: "Admin accounts cannot be self-registered" });
    }
    return c.json(await c.get("services").auth.register(input), 201);
  })
  .openapi(login, async (c) => c.json(await c.get("services").auth.login(c.req.valid("json")), 200))
  .openapi(me, async (c) => c.json({ user: c.get("user") }, 200))
  .openapi(logout, async (c) => {
    await c.get("services").auth.logout(c.get("user").user_id);
    return c.body(null, 204);
  });

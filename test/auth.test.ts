import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { sign } from "hono/jwt";
import { bodyAt, expectError } from "./support/answers";
import { createAdmin, registerUser, type TestUser } from "./support/fixtures";
import {
  answer,
  createTestApp,
  query,
  sql,
  TEST_JWT_SECRET,
  type TestApp,
  type TestResponse,
} from "./support/harness";
import { describeEachBackend } from "./support/services";

let counter = 0;
const uniqueEmail = (prefix = "auth") =>
  `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}@example.com`;

const PASSWORD = "password-123";
const now = () => Math.floor(Date.now() / 1000);
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describeEachBackend("auth on %s", (backend) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(backend);
  });
  afterAll(() => app.close());

  /** Unchecked, for bodies the types refuse; the happy paths use signUp and signIn. */
  const register = (body: unknown) => app.request("POST", "/api/v1/auth/register", { body });
  const login = (body: unknown) => app.request("POST", "/api/v1/auth/login", { body });
  const signUp = (json: { email: string; password: string; name?: string }) =>
    answer(app.client().auth.register.$post({ json }));
  const signIn = (json: { email: string; password: string }) =>
    answer(app.client().auth.login.$post({ json }));
  const logOut = (token?: string) => answer(app.client(token).auth.logout.$post());
  const me = (token?: string, headers?: Record<string, string>) =>
    answer(app.client(token, headers).auth.me.$get());
  const userCount = async (email: string) => {
    const rows = await query<{ count: number }>(
      app,
      sql`select count(*)::int as count from users where lower(email) = lower(${email})`,
    );
    return rows[0]?.count;
  };

  describe("register, login, me, logout", () => {
    test("register answers 201 with a token and the public user", async () => {
      const email = uniqueEmail();
      const response = await signUp({ email, password: PASSWORD, name: "Ada Lovelace" });
      expect(response.status).toBe(201);
      expect(Object.keys(bodyAt(response, 201)).sort()).toEqual(["token", "user"]);
      expect(bodyAt(response, 201).token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(bodyAt(response, 201).user).toEqual({
        user_id: expect.any(Number),
        email,
        name: "Ada Lovelace",
        role: "user",
      });
      expect(Number.isInteger(bodyAt(response, 201).user.user_id)).toBe(true);
      expect(bodyAt(response, 201).user.user_id).toBeGreaterThan(0);
      expect(response.text).not.toContain("password");
      expect(response.text).not.toContain("token_version");
    });

    test("name is optional and comes back as null", async () => {
      const response = await signUp({ email: uniqueEmail(), password: PASSWORD });
      expect(response.status).toBe(201);
      expect(bodyAt(response, 201).user.name).toBeNull();
      expect(bodyAt(response, 201).user.role).toBe("user");
    });

    test("the registration token works on /me", async () => {
      const email = uniqueEmail();
      const registered = await signUp({ email, password: PASSWORD, name: "Me" });
      expect(registered.status).toBe(201);
      const response = await me(bodyAt(registered, 201).token);
      expect(response.status).toBe(200);
      expect(bodyAt(response, 200)).toEqual({ user: bodyAt(registered, 201).user });
    });

    test("login answers 200 with a working token and the same user", async () => {
      const user = await registerUser(app);
      const response = await signIn({ email: user.email, password: user.password });
      expect(response.status).toBe(200);
      expect(bodyAt(response, 200).user).toEqual({
        user_id: user.user_id,
        email: user.email,
        name: null,
        role: "user",
      });
      const who = await me(bodyAt(response, 200).token);
      expect(who.status).toBe(200);
      expect(bodyAt(who, 200).user.user_id).toBe(user.user_id);
    });

    test("emails are stored lower-cased and login accepts any letter case", async () => {
      const lower = uniqueEmail("mixed");
      const mixed = lower.replace("mixed", "MiXeD").replace("example.com", "Example.COM");
      const registered = await signUp({ email: mixed, password: PASSWORD });
      expect(registered.status).toBe(201);
      expect(bodyAt(registered, 201).user.email).toBe(lower);

      for (const variant of [mixed, lower, lower.toUpperCase()]) {
        const response = await signIn({ email: variant, password: PASSWORD });
        expect(response.status).toBe(200);
        expect(bodyAt(response, 200).user.user_id).toBe(bodyAt(registered, 201).user.user_id);
      }
    });

    test("me without a token is 401 UNAUTHENTICATED", async () => {
      expectError(await me(), 401, "UNAUTHENTICATED");
    });

    test("logout answers 204, revokes the old token, and a new login works", async () => {
      const user = await registerUser(app);
      expect((await me(user.token)).status).toBe(200);

      const logout = await logOut(user.token);
      expect(logout.status).toBe(204);
      expect(logout.text).toBe("");

      expectError(await me(user.token), 401, "UNAUTHENTICATED");
      expectError(await logOut(user.token), 401, "UNAUTHENTICATED");

      const again = await signIn({ email: user.email, password: user.password });
      expect(again.status).toBe(200);
      const response = await me(bodyAt(again, 200).token);
      expect(response.status).toBe(200);
      expect(bodyAt(response, 200).user.user_id).toBe(user.user_id);
    });

    test("logout revokes every token issued before it, not just the one used", async () => {
      const user = await registerUser(app);
      const second = await signIn({ email: user.email, password: user.password });
      expect(second.status).toBe(200);
      expect((await me(bodyAt(second, 200).token)).status).toBe(200);

      const logout = await logOut(user.token);
      expect(logout.status).toBe(204);
      expectError(await me(bodyAt(second, 200).token), 401, "UNAUTHENTICATED");
      expectError(await me(user.token), 401, "UNAUTHENTICATED");
    });

    test("logout without a token is 401", async () => {
      expectError(await logOut(), 401, "UNAUTHENTICATED");
    });
  });

  describe("user reads batched per event-loop turn", () => {
    const dialect = new PgDialect();
    /** Statements that read the users table, counted while `work` runs. */
    async function usersQueriesDuring(work: () => Promise<unknown>): Promise<number> {
      const execute = spyOn(app.runtime.shared.database.db, "execute");
      try {
        await work();
        return execute.mock.calls.filter(([statement]) =>
          /\bfrom users\b/.test(dialect.sqlToQuery(statement as SQL).sql),
        ).length;
      } finally {
        execute.mockRestore();
      }
    }

    test("simultaneous logins read their accounts together, each gets its own session", async () => {
      const accounts = await Promise.all(
        Array.from({ length: 8 }, () => registerUser(app, { email: uniqueEmail("batch") })),
      );
      let answers: TestResponse[] = [];
      const reads = await usersQueriesDuring(async () => {
        answers = await Promise.all(
          [...accounts, { email: uniqueEmail("nobody") }].map((account) =>
            login({ email: account.email.toUpperCase(), password: PASSWORD }),
          ),
        );
      });
      expect(reads).toBeLessThan(accounts.length);
      expect(answers.slice(0, -1).map((answer) => answer.body.user?.email)).toEqual(
        accounts.map((account) => account.email),
      );
      expectError(answers.at(-1) as TestResponse, 401, "INVALID_CREDENTIALS");
    });

    test("a login PostgreSQL could not read is refused alone, not with its turn's others", async () => {
      const accounts = await Promise.all(
        Array.from({ length: 4 }, () => registerUser(app, { email: uniqueEmail("batch") })),
      );
      const answers = await Promise.all([
        login({ email: "nul\u0000@example.com", password: PASSWORD }),
        ...accounts.map((account) => login({ email: account.email, password: PASSWORD })),
      ]);
      const [refused, ...accepted] = answers as [TestResponse, ...TestResponse[]];
      expectError(refused, 400, "VALIDATION_ERROR");
      expect(refused.body.details).toHaveProperty("email");
      expect(accepted.map((answer) => answer.status)).toEqual(accounts.map(() => 200));
    });

    test("simultaneous authenticated requests read their users together", async () => {
      const accounts = await Promise.all(
        Array.from({ length: 8 }, () => registerUser(app, { email: uniqueEmail("batch") })),
      );
      let answers: TestResponse[] = [];
      const reads = await usersQueriesDuring(async () => {
        answers = await Promise.all(accounts.map((account) => me(account.token)));
      });
      expect(reads).toBeLessThan(accounts.length);
      expect(answers.map((answer) => answer.body.user?.user_id ?? answer.body.user_id)).toEqual(
        accounts.map((account) => account.user_id),
      );
    });
  });

  describe("duplicates and credentials", () => {
    test("a duplicate email in any letter case is 409 EMAIL_TAKEN", async () => {
      const email = uniqueEmail("dup");
      expect((await register({ email, password: PASSWORD })).status).toBe(201);
      for (const variant of [email, email.toUpperCase(), email.replace("dup", "DuP")]) {
        const response = await register({ email: variant, password: "another-password" });
        expectError(response, 409, "EMAIL_TAKEN");
      }
      expect(await userCount(email)).toBe(1);
      // The first account's password still works: the duplicate did not overwrite it.
      expect((await login({ email, password: PASSWORD })).status).toBe(200);
      expectError(await login({ email, password: "another-password" }), 401, "INVALID_CREDENTIALS");
    });

    test("concurrent registrations of one email (different case) create one account", async () => {
      const email = uniqueEmail("race");
      const responses = await Promise.all([
        register({ email, password: PASSWORD }),
        register({ email: email.toUpperCase(), password: PASSWORD }),
        register({ email: email.replace("race", "RaCe"), password: PASSWORD }),
      ]);
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([201, 409, 409]);
      for (const response of responses.filter((r) => r.status === 409)) {
        expect(response.body.code).toBe("EMAIL_TAKEN");
      }
      expect(await userCount(email)).toBe(1);
    });

    test("wrong password and unknown email are indistinguishable 401 INVALID_CREDENTIALS", async () => {
      const user = await registerUser(app);
      const wrongPassword = await login({ email: user.email, password: "not-the-password" });
      const unknownEmail = await login({ email: uniqueEmail("ghost"), password: user.password });

      expectError(wrongPassword, 401, "INVALID_CREDENTIALS");
      expectError(unknownEmail, 401, "INVALID_CREDENTIALS");
      expect(unknownEmail.status).toBe(wrongPassword.status);
      expect(unknownEmail.body).toEqual(wrongPassword.body);
      expect(unknownEmail.text).toBe(wrongPassword.text);
      expect(wrongPassword.body.token).toBeUndefined();
    });

    test("a password differing only in letter case does not log in", async () => {
      const user = await registerUser(app);
      expectError(
        await login({ email: user.email, password: user.password.toUpperCase() }),
        401,
        "INVALID_CREDENTIALS",
      );
    });
  });

  describe("tokens", () => {
    let user: Awaited<ReturnType<typeof registerUser>>;
    beforeAll(async () => {
      user = await registerUser(app);
    });

    const claims = (overrides: Record<string, unknown> = {}) => ({
      sub: user.user_id,
      ver: 0,
      role: "user",
      iat: now(),
      exp: now() + 600,
      ...overrides,
    });

    test("a token signed here with valid claims is accepted (control for the cases below)", async () => {
      const token = await sign(claims(), TEST_JWT_SECRET, "HS256");
      const response = await me(token);
      expect(response.status).toBe(200);
      expect(bodyAt(response, 200).user.user_id).toBe(user.user_id);
    });

    test("a token accepted before stops working the second it expires", async () => {
      const token = await sign(claims({ exp: now() + 1 }), TEST_JWT_SECRET, "HS256");
      expect((await me(token)).status).toBe(200);
      expect((await me(token)).status).toBe(200);
      await Bun.sleep(2100);
      expectError(await me(token), 401, "UNAUTHENTICATED");
    });

    test("a tampered token is 401 UNAUTHENTICATED", async () => {
      const [header, payload, signature] = user.token.split(".") as [string, string, string];
      // Swap the payload for one naming another user, keeping the original signature.
      const forgedPayload = base64url(claims({ sub: user.user_id + 1 }));
      expectError(await me(`${header}.${forgedPayload}.${signature}`), 401, "UNAUTHENTICATED");
      // Flip one character of the signature.
      const flipped = signature.startsWith("A")
        ? `B${signature.slice(1)}`
        : `A${signature.slice(1)}`;
      expectError(await me(`${header}.${payload}.${flipped}`), 401, "UNAUTHENTICATED");
      // Drop the signature entirely.
      expectError(await me(`${header}.${payload}.`), 401, "UNAUTHENTICATED");
    });

    test("an expired token is 401 UNAUTHENTICATED", async () => {
      const token = await sign(
        claims({ iat: now() - 7200, exp: now() - 3600 }),
        TEST_JWT_SECRET,
        "HS256",
      );
      expectError(await me(token), 401, "UNAUTHENTICATED");
    });

    test('an alg "none" token is 401 UNAUTHENTICATED', async () => {
      const header = base64url({ alg: "none", typ: "JWT" });
      const payload = base64url(claims({ role: "admin" }));
      expectError(await me(`${header}.${payload}.`), 401, "UNAUTHENTICATED");
      expectError(await me(`${header}.${payload}`), 401, "UNAUTHENTICATED");
    });

    test("a token signed with another secret is 401 UNAUTHENTICATED", async () => {
      const token = await sign(claims(), "another-secret-that-is-at-least-32-chars", "HS256");
      expectError(await me(token), 401, "UNAUTHENTICATED");
    });

    test("a token signed with another algorithm is 401 UNAUTHENTICATED", async () => {
      const token = await sign(claims(), TEST_JWT_SECRET, "HS512");
      expectError(await me(token), 401, "UNAUTHENTICATED");
    });

    test("a signed token without exp (or with a non-numeric one) is 401 UNAUTHENTICATED", async () => {
      for (const exp of [undefined, String(now() + 600), null]) {
        const token = await sign(claims({ exp }), TEST_JWT_SECRET, "HS256");
        expectError(await me(token), 401, "UNAUTHENTICATED");
      }
    });

    test("a token without numeric sub/ver claims is 401 UNAUTHENTICATED", async () => {
      for (const overrides of [
        { sub: String(user.user_id) },
        { ver: undefined },
        { ver: "0" },
        { sub: undefined },
      ]) {
        const token = await sign(claims(overrides), TEST_JWT_SECRET, "HS256");
        expectError(await me(token), 401, "UNAUTHENTICATED");
      }
    });

    test("a signed token whose user id no database row can have is 401, and only for itself", async () => {
      const good = await sign(claims(), TEST_JWT_SECRET, "HS256");
      for (const sub of [1.5, 0, -1, 2 ** 31, 2 ** 53, 1e300]) {
        const odd = await sign(claims({ sub }), TEST_JWT_SECRET, "HS256");
        // Sent in one event-loop turn, so their user lookups would share one query.
        const [refused, ...others] = await Promise.all([me(odd), me(good), me(good)]);
        expectError(refused as TestResponse, 401, "UNAUTHENTICATED");
        expect(others.map((answer) => answer.status)).toEqual([200, 200]);
      }
    });

    test("many users at once each get their own account; revoked and deleted ones are refused", async () => {
      const users = await Promise.all(Array.from({ length: 12 }, () => registerUser(app)));
      const [revoked, deleted] = users as [TestUser, TestUser];
      const loggedOut = await app.request("POST", "/api/v1/auth/logout", { token: revoked.token });
      expect(loggedOut.status).toBeLessThan(300);
      await query(app, sql`delete from users where user_id = ${deleted.user_id}`);

      // One turn of the event loop: their user rows are read together.
      const answers = await Promise.all(users.map((user) => me(user.token)));

      expect(answers.map((answer) => answer.status)).toEqual([401, 401, ...Array(10).fill(200)]);
      answers.slice(2).forEach((answered, index) => {
        expect<unknown>(bodyAt(answered, 200).user.user_id).toBe(users[index + 2]?.user_id);
        expect<unknown>(bodyAt(answered, 200).user.email).toBe(users[index + 2]?.email);
      });
    });

    test("a token of a deleted user is 401 UNAUTHENTICATED", async () => {
      const doomed = await registerUser(app);
      expect((await me(doomed.token)).status).toBe(200);
      await query(app, sql`delete from users where user_id = ${doomed.user_id}`);
      expectError(await me(doomed.token), 401, "UNAUTHENTICATED");
    });

    test("a malformed Authorization header is 401 UNAUTHENTICATED", async () => {
      const headers = [
        "Bearer",
        "Bearer ",
        `Token ${user.token}`,
        `Basic ${Buffer.from("a:b").toString("base64")}`,
        user.token,
        `Bearer ${user.token} extra`,
        `Bearer${user.token}`,
        "Bearer not-a-jwt",
        "Bearer a.b.c",
      ];
      for (const authorization of headers) {
        const response = await me(undefined, { Authorization: authorization });
        expect({
          authorization,
          status: response.status,
          code: bodyAt(response, 401).code,
        }).toEqual({
          authorization,
          status: 401,
          code: "UNAUTHENTICATED",
        });
      }
    });

    test("401 answers never leak why verification failed beyond the message", async () => {
      const response = await me("a.b.c");
      expectError(response, 401, "UNAUTHENTICATED");
      expect(Object.keys(response.body).sort()).toEqual(["code", "message"]);
      expect(response.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    });
  });

  describe("role escalation", () => {
    test('register with role "admin" is 403 FORBIDDEN and creates no user', async () => {
      for (const role of ["admin", "ADMIN", "Admin", "superuser"]) {
        const email = uniqueEmail("escalate");
        const response = await register({ email, password: PASSWORD, role });
        expectError(response, 403, "FORBIDDEN");
        expect(response.body.token).toBeUndefined();
        expect(await userCount(email)).toBe(0);
        expectError(await login({ email, password: PASSWORD }), 401, "INVALID_CREDENTIALS");
      }
    });

    test('register with role "user" is accepted and yields a plain user', async () => {
      const response = await register({ email: uniqueEmail(), password: PASSWORD, role: "user" });
      expect(response.status).toBe(201);
      expect(response.body.user.role).toBe("user");
    });

    test("a non-string role is a 400, not an account", async () => {
      const email = uniqueEmail("escalate");
      const response = await register({ email, password: PASSWORD, role: ["admin"] });
      expectError(response, 400, "VALIDATION_ERROR");
      expect(response.body.details.role).toBeDefined();
      expect(await userCount(email)).toBe(0);
    });

    test("a forged admin token signed with a wrong secret is 401 on admin routes", async () => {
      const admin = await createAdmin(app);
      const forged = await sign(
        { sub: admin.user_id, ver: 0, role: "admin", iat: now(), exp: now() + 600 },
        "wrong-secret-wrong-secret-wrong-secret-!!",
        "HS256",
      );
      expectError(
        await app.request("GET", "/api/v1/admin/venues", { token: forged }),
        401,
        "UNAUTHENTICATED",
      );
      expectError(
        await app.request("POST", "/api/v1/admin/venues", {
          token: forged,
          body: { venue_name: "Forged", address: "Nowhere" },
        }),
        401,
        "UNAUTHENTICATED",
      );
    });

    test("a role claim in a correctly signed token is not trusted: the database role wins", async () => {
      const user = await registerUser(app);
      const token = await sign(
        { sub: user.user_id, ver: 0, role: "admin", iat: now(), exp: now() + 600 },
        TEST_JWT_SECRET,
        "HS256",
      );
      expectError(await app.request("GET", "/api/v1/admin/venues", { token }), 403, "FORBIDDEN");
      const who = await me(token);
      expect(who.status).toBe(200);
      expect(bodyAt(who, 200).user.role).toBe("user");
    });

    test("a normal user's token on admin routes is 403 FORBIDDEN and changes nothing", async () => {
      const user = await registerUser(app);
      expectError(
        await app.request("GET", "/api/v1/admin/venues", { token: user.token }),
        403,
        "FORBIDDEN",
      );
      const before = await query<{ count: number }>(
        app,
        sql`select count(*)::int as count from venues`,
      );
      expectError(
        await app.request("POST", "/api/v1/admin/venues", {
          token: user.token,
          body: { venue_name: "Not yours", address: "1 Street" },
        }),
        403,
        "FORBIDDEN",
      );
      expectError(
        await app.request("POST", "/api/v1/admin/events", {
          token: user.token,
          body: { title: "Not yours" },
        }),
        403,
        "FORBIDDEN",
      );
      const after = await query<{ count: number }>(
        app,
        sql`select count(*)::int as count from venues`,
      );
      expect(after[0]?.count).toBe(before[0]?.count);
    });

    test("promoting a registered account revokes the tokens its registrant holds", async () => {
      const squatter = await registerUser(app);
      const adminPassword = "the operator's admin password";
      await app.runtime.services.auth.ensureAdmin({
        email: squatter.email,
        password: adminPassword,
      });
      for (const path of ["/api/v1/auth/me", "/api/v1/admin/venues"]) {
        expectError(
          await app.request("GET", path, { token: squatter.token }),
          401,
          "UNAUTHENTICATED",
        );
      }
      expectError(
        await login({ email: squatter.email, password: squatter.password }),
        401,
        "INVALID_CREDENTIALS",
      );
      const admin = await login({ email: squatter.email, password: adminPassword });
      expect(admin.status).toBe(200);
      expect(admin.body.user.role).toBe("admin");
    });

    test("ensuring an admin again with the same password keeps its tokens; a new password revokes them", async () => {
      const admin = await createAdmin(app);
      await app.runtime.services.auth.ensureAdmin({ email: admin.email, password: admin.password });
      expect((await me(admin.token)).status).toBe(200);

      await app.runtime.services.auth.ensureAdmin({
        email: admin.email.toUpperCase(),
        password: "a new admin password",
      });
      expectError(await me(admin.token), 401, "UNAUTHENTICATED");
    });

    test("an API and a worker ensuring a new admin at once revoke nothing: its version stays 0", async () => {
      const email = `ops-${crypto.randomUUID()}@example.com`;
      const password = "the operator's admin password";
      const ensure = () => app.runtime.services.auth.ensureAdmin({ email, password });
      await Promise.all([ensure(), ensure(), ensure()]);
      const session = await login({ email, password });
      expect(session.status).toBe(200);
      await Promise.all([ensure(), ensure()]);
      expect((await me(session.body.token)).status).toBe(200);
      const [row] = await query<{ token_version: number }>(
        app,
        sql`select token_version from users where email = ${email}`,
      );
      expect(row?.token_version).toBe(0);
    });

    test("an admin route without a token is 401, and an admin's token is accepted", async () => {
      expectError(await app.request("GET", "/api/v1/admin/venues"), 401, "UNAUTHENTICATED");
      const admin = await createAdmin(app);
      const response = await app.request("GET", "/api/v1/admin/venues", { token: admin.token });
      expect(response.status).toBe(200);
      const who = await me(admin.token);
      expect(bodyAt(who, 200).user.role).toBe("admin");
    });
  });

  describe("validation", () => {
    const expectValidation = (response: TestResponse, ...paths: string[]) => {
      expectError(response, 400, "VALIDATION_ERROR");
      expect(response.body.details).toBeObject();
      for (const path of paths) {
        expect(response.body.details).toHaveProperty([path]);
        expect(response.body.details?.[path]).toEqual(expect.any(String));
      }
    };

    test("a bad email is 400 with details.email", async () => {
      for (const email of ["not-an-email", "a@", "@example.com", "a b@example.com", "", 42]) {
        const response = await register({ email, password: PASSWORD });
        expectValidation(response, "email");
        expect(response.body.details.password).toBeUndefined();
      }
    });

    test("an email over 254 characters is 400 with details.email", async () => {
      const email = `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.com`;
      expect(email.length).toBeGreaterThan(254);
      expectValidation(await register({ email, password: PASSWORD }), "email");
    });

    test("passwords of 7 and 129 characters are 400 with details.password; 8 and 128 pass", async () => {
      expectValidation(
        await register({ email: uniqueEmail(), password: "x".repeat(7) }),
        "password",
      );
      expectValidation(
        await register({ email: uniqueEmail(), password: "x".repeat(129) }),
        "password",
      );
      const eight = await register({ email: uniqueEmail(), password: "x".repeat(8) });
      expect(eight.status).toBe(201);
      const email = uniqueEmail();
      const longest = await register({ email, password: "y".repeat(128) });
      expect(longest.status).toBe(201);
      expect((await login({ email, password: "y".repeat(128) })).status).toBe(200);
    });

    test("a password of whitespace only is 400 with details.password and creates no user", async () => {
      for (const password of [" ".repeat(8), "\t \n \t \n ", "\u00a0".repeat(10)]) {
        const email = uniqueEmail("blank");
        expectValidation(await register({ email, password }), "password");
        expect(await userCount(email)).toBe(0);
      }
      const padded = await register({ email: uniqueEmail(), password: "   padded   " });
      expect(padded.status).toBe(201);
    });

    test("missing fields are 400 naming every missing field", async () => {
      expectValidation(await register({}), "email", "password");
      expectValidation(await register({ email: uniqueEmail() }), "password");
      expectValidation(await register({ password: PASSWORD }), "email");
      expectValidation(await login({}), "email", "password");
      expectValidation(await login({ email: uniqueEmail() }), "password");
    });

    test("wrongly typed fields are 400 with their paths", async () => {
      expectValidation(
        await register({ email: uniqueEmail(), password: 12345678, name: 7 }),
        "password",
        "name",
      );
      expectValidation(
        await register({ email: uniqueEmail(), password: PASSWORD, name: "" }),
        "name",
      );
      expectValidation(
        await register({ email: uniqueEmail(), password: PASSWORD, name: "n".repeat(101) }),
        "name",
      );
      expectValidation(await login({ email: ["x"], password: null }), "email", "password");
    });

    test("a non-object body is 400 VALIDATION_ERROR", async () => {
      for (const body of [[], ["a", "b"], "just a string", 42, null, true]) {
        const registerResponse = await register(body);
        expectError(registerResponse, 400, "VALIDATION_ERROR");
        expect(registerResponse.body.details).toBeObject();
        expect(Object.keys(registerResponse.body.details).length).toBeGreaterThan(0);
        expectError(await login(body), 400, "VALIDATION_ERROR");
      }
    });

    test("a failed validation creates no user", async () => {
      const email = uniqueEmail("invalid");
      expectValidation(await register({ email, password: "short" }), "password");
      expect(await userCount(email)).toBe(0);
    });
  });
});

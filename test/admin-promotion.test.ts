import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectError } from "./support/answers";
import { registerUser, type TestUser } from "./support/fixtures";
import { createTestApp, type TestApp } from "./support/harness";
import { runCreateAdmin, startApi, startWorker, waitUntil } from "./support/processes";
import { databaseUrl } from "./support/services";

const ADMIN_PASSWORD = "the operator's admin password";

/**
 * Registration is open and unverified: anyone may register the address an operator later
 * promotes. Every way an operator promotes must revoke the token the registrant holds.
 */
describe.skipIf(!databaseUrl)("promoting an account revokes its earlier tokens", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp("postgres");
  });
  afterAll(() => app.close());

  const me = (token: string) => app.request("GET", "/api/v1/auth/me", { token });
  const login = (email: string, password: string) =>
    app.request("POST", "/api/v1/auth/login", { body: { email, password } });

  /** The registrant's token is refused and the operator's password makes an admin. */
  async function expectPromoted(squatter: TestUser) {
    expectError(await me(squatter.token), 401, "UNAUTHENTICATED");
    const admin = await login(squatter.email, ADMIN_PASSWORD);
    expect(admin.status).toBe(200);
    expect(admin.body.user.role).toBe("admin");
    return admin.body.token as string;
  }

  test("API start with ADMIN_EMAIL; a restart with the same password keeps the admin's token", async () => {
    const squatter = await registerUser(app);
    const env = { ADMIN_EMAIL: squatter.email, ADMIN_PASSWORD };
    const first = await startApi(app, env);
    await first.stop();
    const adminToken = await expectPromoted(squatter);

    const second = await startApi(app, env);
    await second.stop();
    expect((await me(adminToken)).status).toBe(200);
  });

  test("worker start with ADMIN_EMAIL", async () => {
    const squatter = await registerUser(app);
    const worker = startWorker(app, {
      ADMIN_EMAIL: squatter.email,
      ADMIN_PASSWORD,
      LOG_LEVEL: "info",
    });
    try {
      await waitUntil(
        async () => worker.stdout().includes("Evently worker started"),
        () => `the worker did not start:\n${worker.output()}`,
      );
    } finally {
      await worker.stop();
    }
    await expectPromoted(squatter);
  });

  test("bun run admin:create", async () => {
    const squatter = await registerUser(app);
    const run = runCreateAdmin(app, ["--email", squatter.email, "--password", ADMIN_PASSWORD]);
    expect({ code: await run.finished(), output: run.output() }).toEqual({
      code: 0,
      output: expect.stringContaining("Admin ready"),
    });
    await expectPromoted(squatter);
  });
});

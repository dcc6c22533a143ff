/**
 * A failed query must not carry its parameters into an error, a log line or an answer: the
 * parameters of a registration or an admin ensure include a bcrypt hash. Each case forces a
 * database error on such a statement and reads everything that was printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { pgErrorCode } from "../src/db/errors";
import { expectError } from "./support/answers";
import { createTestApp, query, sql, type TestApp } from "./support/harness";
import { runCreateAdmin, spawnApi, startApi } from "./support/processes";
import { databaseUrl, describeEachBackend } from "./support/services";

const BCRYPT_HASH = /\$2[aby]?\$\d\d\$/;
const FORCED = "forced failure of a test";

let counter = 0;
/** An email whose writes the trigger below refuses, and a password nobody else uses. */
const doomed = () => {
  const tag = `${Date.now().toString(36)}${(counter++).toString(36)}`;
  return { email: `doomed-${tag}@example.com`, password: `secret-password-${tag}` };
};

/** Every insert or update of a `doomed-…` user fails inside PostgreSQL, after the hashing. */
async function refuseDoomedUsers(app: TestApp) {
  await query(
    app,
    sql.raw(`create function refuse_doomed_users() returns trigger language plpgsql as $$
      begin
        if new.email like 'doomed-%' then raise exception '${FORCED}'; end if;
        return new;
      end $$`),
  );
  await query(
    app,
    sql`create trigger refuse_doomed_users before insert or update on users
        for each row execute function refuse_doomed_users()`,
  );
}

function expectNoSecret(printed: string, password: string) {
  expect(printed).not.toMatch(BCRYPT_HASH);
  expect(printed).not.toContain(password);
}

describeEachBackend("failed queries keep their parameters to themselves on %s", (backend) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(backend);
    await refuseDoomedUsers(app);
  });
  afterAll(() => app.close());

  test("the error of a failed admin ensure, as the runtime would print it, holds no hash", async () => {
    const account = doomed();
    const error = await app.runtime.services.auth.ensureAdmin(account).catch((caught) => caught);
    expect(error).toBeInstanceOf(Error);
    const printed = `${String(error)}\n${Bun.inspect(error)}\n${error.stack}`;
    // The query and PostgreSQL's own reason are still there for the operator.
    expect(printed).toContain(FORCED);
    expect(printed).toContain("insert into");
    expect(pgErrorCode(error)).toBe("P0001");
    expectNoSecret(printed, account.password);
  });

  test("a violated constraint does not quote the failing row, hash included", async () => {
    await query(
      app,
      sql`alter table users add constraint no_quoted_users check (email not like 'quoted-%')`,
    );
    const account = { email: "quoted-admin@example.com", password: "quoted-secret-password" };
    const error = await app.runtime.services.auth.ensureAdmin(account).catch((caught) => caught);
    const printed = `${String(error)}\n${Bun.inspect(error)}`;
    expect(printed).toContain("no_quoted_users");
    expect(pgErrorCode(error)).toBe("23514");
    expectNoSecret(printed, account.password);
  });

  test("a failed registration answers 500 without the hash", async () => {
    const account = doomed();
    const response = await app.request("POST", "/api/v1/auth/register", { body: account });
    expectError(response, 500, "INTERNAL");
    expectNoSecret(response.text, account.password);
  });
});

describe.skipIf(!databaseUrl)("processes print no secret when the database fails them", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp("postgres");
    await refuseDoomedUsers(app);
  });
  afterAll(() => app.close());

  test("the API: a failed registration and a login the database could not answer", async () => {
    const api = await startApi(app, { LOG_LEVEL: "debug", DB_LOCK_TIMEOUT_MS: "200" });
    const post = (path: string, body: unknown) =>
      fetch(`${api.baseUrl}/api/v1/auth/${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    const registering = doomed();
    const loggingIn = doomed();
    let answers = "";
    try {
      const registered = await post("register", registering);
      expect(registered.status).toBe(500);
      answers += await registered.text();
      // The users table locked away: the login's lookup gives up after its lock timeout.
      await app.runtime.shared.database.db.transaction(async (tx) => {
        await tx.execute(sql`lock table users in access exclusive mode`);
        const login = await post("login", loggingIn);
        expect(login.status).toBe(503);
        answers += await login.text();
      });
    } finally {
      await api.stop();
    }
    const printed = api.output();
    expect(printed).toContain(FORCED);
    expect(printed).toContain("/api/v1/auth/login");
    expectNoSecret(`${answers}\n${printed}`, registering.password);
    expectNoSecret(printed, loggingIn.password);
  });

  test("the API's admin ensure at start", async () => {
    const account = doomed();
    const api = spawnApi(app, { ADMIN_EMAIL: account.email, ADMIN_PASSWORD: account.password });
    expect(await api.finished()).not.toBe(0);
    expect(api.output()).toContain(FORCED);
    expectNoSecret(api.output(), account.password);
  });

  test("bun run admin:create", async () => {
    const account = doomed();
    const run = runCreateAdmin(app, ["--email", account.email, "--password", account.password]);
    expect(await run.finished()).not.toBe(0);
    expect(run.output()).toContain(FORCED);
    expectNoSecret(run.output(), account.password);
  });
});

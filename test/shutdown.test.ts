import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "./support/harness";
import { backends } from "./support/services";

// A real API process on real PostgreSQL: SIGTERM is about processes and sockets.
if (backends.includes("postgres")) {
  describe("graceful shutdown of the API", () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp("postgres");
    });
    afterAll(() => app.close());

    test("SIGTERM during in-flight requests lets them complete, then the process exits 0", async () => {
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      const api = Bun.spawn(["bun", "run", "src/index.ts"], {
        env: {
          ...process.env,
          DATABASE_URL: app.config.DATABASE_URL,
          REDIS_URL: app.config.REDIS_URL,
          REDIS_KEY_PREFIX: app.config.REDIS_KEY_PREFIX,
          JWT_SECRET: app.config.JWT_SECRET,
          BCRYPT_COST: "10",
          RATE_LIMIT_ENABLED: "0",
          PORT: String(port),
          LOG_LEVEL: "warn",
        },
        stdout: "pipe",
        stderr: "pipe",
      });
      const base = `http://127.0.0.1:${port}`;
      try {
        let up = false;
        for (let attempt = 0; attempt < 100 && !up; attempt++) {
          up = await fetch(`${base}/health`).then(
            (r) => r.ok,
            () => false,
          );
          if (!up) await Bun.sleep(100);
        }
        expect(up).toBe(true);
        const credentials = { email: "leaving@example.com", password: "leaving-password-1" };
        const registered = await fetch(`${base}/api/v1/auth/register`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(credentials),
        });
        expect(registered.status).toBe(201);

        // Cost-10 logins keep the server busy for a while; SIGTERM arrives in the middle.
        const inFlight = Array.from({ length: 8 }, () =>
          fetch(`${base}/api/v1/auth/login`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(credentials),
          }).then((response) => response.status),
        );
        await Bun.sleep(50);
        api.kill("SIGTERM");

        expect(await Promise.all(inFlight)).toEqual(Array(8).fill(200));
        expect(await api.exited).toBe(0);
        // And it no longer accepts connections.
        expect(
          await fetch(`${base}/health`).then(
            () => "answered",
            () => "refused",
          ),
        ).toBe("refused");
      } finally {
        api.kill("SIGKILL");
      }
    });
  });
}

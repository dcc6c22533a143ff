import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "./support/harness";

describe("security headers and CORS", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp("embedded", { CORS_ORIGINS: "https://tickets.example.com" });
  });
  afterAll(() => app.close());

  test("every response carries the usual hardening headers, errors included", async () => {
    for (const path of ["/api/v1/shows", "/api/v1/shows/999999", "/nowhere"]) {
      const response = await app.request("GET", path);
      expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(response.headers.get("X-Frame-Options")).toBe("SAMEORIGIN");
      expect(response.headers.get("Strict-Transport-Security")).toContain("max-age=");
      expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
      expect(response.headers.get("X-Powered-By")).toBeNull();
    }
  });

  test("CORS answers only the configured origin", async () => {
    const allowed = await app.request("GET", "/api/v1/shows", {
      headers: { Origin: "https://tickets.example.com" },
    });
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://tickets.example.com");
    const foreign = await app.request("GET", "/api/v1/shows", {
      headers: { Origin: "https://evil.example.net" },
    });
    expect(foreign.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  test("a failed login's password never reaches the logs", async () => {
    const lines: string[] = [];
    const original = console.log;
    const originalError = console.error;
    console.log = (...args: unknown[]) => lines.push(args.join(" "));
    console.error = (...args: unknown[]) => lines.push(args.join(" "));
    try {
      const logged = await createTestApp("embedded", { LOG_LEVEL: "debug" });
      try {
        await logged.request("POST", "/api/v1/auth/login", {
          body: { email: "nobody@example.com", password: "hunter2-secret-pass" },
        });
      } finally {
        await logged.close();
      }
    } finally {
      console.log = original;
      console.error = originalError;
    }
    expect(lines.some((line) => line.includes("/api/v1/auth/login"))).toBe(true);
    expect(lines.join("\n")).not.toContain("hunter2-secret-pass");
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, keepOffline, launchChromium } from "./support/browser";
import { createTestApp, type TestApp } from "./support/harness";
import { canRun } from "./support/services";

/** Swagger UI in a real browser that can reach this machine and nothing else. */
describe.skipIf(!canRun(CHROMIUM))("Swagger UI in a browser, offline", () => {
  let app: TestApp;
  let server: Server<undefined>;
  let browser: Browser;
  let page: Page;
  /** Every non-local URL the page tried to load: each one was refused. */
  const outsideRequests: string[] = [];
  /** Console errors and uncaught exceptions, a refused Content-Security-Policy included. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    app = await createTestApp("embedded");
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.runtime.app.fetch });
    browser = await launchChromium();
    const context = await browser.newContext();
    await keepOffline(context, outsideRequests);
    page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`${server.url}api-docs`, { waitUntil: "load" });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop(true);
    await app?.close();
  });

  test("lists every operation of the document, loading nothing from outside", async () => {
    const document = (await app.request("GET", "/api/v1/openapi.json")).body;
    const operations = Object.values(document.paths as Record<string, object>).flatMap((item) =>
      Object.keys(item),
    );
    expect(outsideRequests).toEqual([]);
    await page.locator(".opblock").first().waitFor();
    expect(await page.locator(".opblock").count()).toBe(operations.length);
    const paths = await page.locator(".opblock-summary-path").allTextContents();
    expect(paths.map((path) => path.replace(/\u200b/g, ""))).toContain("/api/v1/shows/{show_id}");
    expect(pageErrors).toEqual([]);
  });

  test("a token given to Authorize is not kept in the browser's storage", async () => {
    await page.locator(".auth-wrapper .authorize").click();
    await page.locator(".auth-container input").first().fill("a.token.to-forget");
    await page.locator(".auth-btn-wrapper .authorize").click();
    await page.locator(".auth-btn-wrapper button", { hasText: "Logout" }).waitFor();
    const stored = await page.context().storageState();
    expect(JSON.stringify(stored)).not.toContain("a.token.to-forget");
    expect(outsideRequests).toEqual([]);
  });
});

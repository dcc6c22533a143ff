import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { CHROMIUM, keepOffline, launchChromium } from "./support/browser";
import {
  createAdmin,
  createShowFixture,
  payAndConfirm,
  registerUser,
  type ShowFixture,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, type TestApp } from "./support/harness";
import { canRun, hasPostgres } from "./support/services";

/** Set to a path (docs/seat-map.png) to save the buyer's phone screen for the README. */
const SCREENSHOT = process.env.SEAT_MAP_SCREENSHOT;

/** One browser profile on the page: what it asked for, and what went wrong in it. */
interface Visitor {
  context: BrowserContext;
  page: Page;
  /** Every non-local URL the page tried to load: each one was refused. */
  outsideRequests: string[];
  /** Console errors and uncaught exceptions, a refused Content-Security-Policy included. */
  pageErrors: string[];
  /** Paths of the API requests the page made, in order. */
  apiCalls: string[];
}

/**
 * The buyer page in a real browser, against a real listening server: two people on one show,
 * one holds, pays and confirms while the other watches the seats turn taken, live.
 */
describe.skipIf(!canRun(CHROMIUM))("buyer page in a browser", () => {
  let app: TestApp;
  let server: Server<undefined>;
  let browser: Browser;
  let fixture: ShowFixture;
  let buyer: TestUser;
  let holder: Visitor;
  let watcher: Visitor;
  const seatIds = new Map<string, number>();
  const seat = (visitor: Visitor, name: string) =>
    visitor.page.locator(`[data-seat-id="${seatIds.get(name)}"]`);

  async function visit(options: Parameters<Browser["newContext"]>[0] = {}): Promise<Visitor> {
    const context = await browser.newContext(options);
    const visitor: Visitor = {
      context,
      page: await context.newPage(),
      outsideRequests: [],
      pageErrors: [],
      apiCalls: [],
    };
    await keepOffline(context, visitor.outsideRequests);
    await context.route("**/api/**", (route) => {
      const request = route.request();
      visitor.apiCalls.push(`${request.method()} ${new URL(request.url()).pathname}`);
      return route.fallback();
    });
    visitor.page.on("console", (message) => {
      if (message.type() === "error") visitor.pageErrors.push(message.text());
    });
    visitor.page.on("pageerror", (error) => visitor.pageErrors.push(error.message));
    await visitor.page.goto(server.url.href, { waitUntil: "load" });
    // The page opens the soonest show by itself: this test's only one.
    await seat(visitor, "A1").waitFor();
    expect(await visitor.page.locator("#show").inputValue()).toBe(String(fixture.show_id));
    return visitor;
  }

  beforeAll(async () => {
    app = await createTestApp(hasPostgres ? "postgres" : "embedded");
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.runtime.app.fetch });
    const admin = await createAdmin(app);
    fixture = await createShowFixture(app, admin.token, { rows: ["A", "B", "C", "D"], perRow: 8 });
    // Names a reader of the README's screenshot can make sense of.
    for (const [path, body] of [
      [`/api/v1/admin/events/${fixture.event_id}`, { title: "Evening Quartet" }],
      [`/api/v1/admin/venues/${fixture.venue_id}`, { venue_name: "Hall 2", address: "1 Main St" }],
    ] as const) {
      const renamed = await app.request("PUT", path, { token: admin.token, body });
      if (renamed.status !== 200) throw new Error(`PUT ${path} failed: ${renamed.text}`);
    }
    const map = await app.request("GET", `/api/v1/shows/${fixture.show_id}/seats`);
    for (const { seat_id, seat_row, seat_number } of map.body.seats)
      seatIds.set(`${seat_row}${seat_number}`, seat_id);
    // Someone else bought seats before our two visitors arrive.
    const earlier = await registerUser(app);
    const bought = await app.request("POST", "/api/v1/bookings/lock", {
      token: earlier.token,
      body: {
        show_id: fixture.show_id,
        seat_ids: ["B3", "B4", "B5"].map((name) => seatIds.get(name)),
      },
    });
    await payAndConfirm(app, earlier, bought.body);
    buyer = await registerUser(app, { email: "ada@example.com" });

    browser = await launchChromium();
    holder = await visit({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    watcher = await visit();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop(true);
    await app?.close();
  });

  test("serves the page with a strict Content-Security-Policy and its script bundled", async () => {
    const page = await fetch(server.url);
    expect(page.headers.get("Content-Type")).toContain("text/html");
    const policy = page.headers.get("Content-Security-Policy") ?? "";
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self';");
    expect(policy).not.toContain("unsafe-inline");
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/(https?:)?\/\/[a-z]/i);
    const script = await fetch(new URL("/buyer.js", server.url));
    expect(script.headers.get("Content-Type")).toContain("javascript");
    // Bundled for the browser: no TypeScript left, no module imports to resolve.
    expect(await script.text()).not.toMatch(/^import |interface RequestFailed|: Promise</m);
  });

  test("the map shows what was sold before, by symbol and label as well as colour", async () => {
    for (const visitor of [holder, watcher]) {
      await expect(seat(visitor, "B4").getAttribute("data-status")).resolves.toBe("BOOKED");
      await expect(seat(visitor, "B4").isDisabled()).resolves.toBe(true);
      await expect(seat(visitor, "B4").textContent()).resolves.toBe("✕");
      await expect(seat(visitor, "B4").getAttribute("aria-label")).resolves.toBe(
        "Row B seat 4, taken",
      );
      await expect(seat(visitor, "A1").getAttribute("aria-label")).resolves.toBe(
        "Row A seat 1, free",
      );
    }
  });

  test("one buyer holds seats by clicking; the other sees them turn taken live", async () => {
    const { page } = holder;
    await page.getByLabel("Email").fill(buyer.email);
    await page.getByLabel("Password").fill(buyer.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByText(`Signed in as ${buyer.email}`).waitFor();

    await seat(holder, "A4").click();
    await seat(holder, "A5").click();
    await expect(seat(holder, "A4").getAttribute("aria-pressed")).resolves.toBe("true");
    await page.getByRole("button", { name: "Hold 2 chosen seats" }).click();
    await page.locator("#hold-facts", { hasText: "PENDING" }).waitFor();
    await expect(seat(holder, "A4").getAttribute("aria-label")).resolves.toBe(
      "Row A seat 4, held by you",
    );

    for (const name of ["A4", "A5"]) {
      await watcher.page
        .locator(`[data-seat-id="${seatIds.get(name)}"][data-status="LOCKED"]`)
        .waitFor();
      await expect(seat(watcher, name).getAttribute("aria-label")).resolves.toBe(
        `Row A seat ${name.slice(1)}, taken`,
      );
    }
    // The watcher never reloaded: the change came down the seat map stream it opened once.
    const watcherSeatCalls = watcher.apiCalls.filter((call) => call.includes("/seats"));
    expect(watcherSeatCalls).toEqual([
      `GET /api/v1/shows/${fixture.show_id}/seats`,
      `GET /api/v1/shows/${fixture.show_id}/seats/stream`,
    ]);
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  test("the holder pays and confirms; the booking appears and the seats turn booked for everyone", async () => {
    const { page } = holder;
    await page.getByRole("button", { name: "Pay and confirm" }).click();
    await page.locator("#hold-facts", { hasText: "CONFIRMED" }).waitFor();
    await page
      .locator('#bookings li[data-status="CONFIRMED"]', { hasText: "seats A4, A5" })
      .waitFor();
    await watcher.page
      .locator(`[data-seat-id="${seatIds.get("A4")}"][data-status="BOOKED"]`)
      .waitFor();

    const { body } = await app.request("GET", "/api/v1/user/bookings", { token: buyer.token });
    expect(body.bookings).toHaveLength(1);
    expect(body.bookings[0].status).toBe("CONFIRMED");
    expect(body.bookings[0].seats.map((held: { seat_id: number }) => held.seat_id).sort()).toEqual(
      [seatIds.get("A4"), seatIds.get("A5")].sort(),
    );
  });

  test("errors are told in words: a seat taken meanwhile, the waiting room's position", async () => {
    const { page } = holder;
    await page.getByRole("button", { name: "Done" }).click();
    // Someone else takes C1 after the holder chose it but before the holder holds it.
    await seat(holder, "C1").click();
    await seat(holder, "C2").click();
    const rival = await registerUser(app);
    const { body: rivalHold } = await app.request("POST", "/api/v1/bookings/lock", {
      token: rival.token,
      body: { show_id: fixture.show_id, seat_ids: [seatIds.get("C2")] },
    });
    expect(rivalHold.booking_id).toBeGreaterThan(0);
    await seat(holder, "C2").and(page.locator('[data-status="LOCKED"]')).waitFor();
    // The stream dropped C2 from the choice; ask for it anyway, as a stale page would.
    await page.route("**/api/v1/bookings/lock", (route) =>
      route.continue({
        postData: JSON.stringify({
          show_id: fixture.show_id,
          seat_ids: [seatIds.get("C1"), seatIds.get("C2")],
        }),
      }),
    );
    await page.getByRole("button", { name: "Hold 1 chosen seat" }).click();
    await page.getByRole("alert").filter({ hasText: "Taken: C2. (SEAT_UNAVAILABLE)" }).waitFor();

    await page.unroute("**/api/v1/bookings/lock");
    await page.route("**/api/v1/bookings/lock", (route) =>
      route.fulfill({
        status: 429,
        contentType: "application/json",
        body: JSON.stringify({
          message: "You are in the waiting room",
          code: "WAITING_ROOM",
          details: { position: 17 },
        }),
      }),
    );
    await page.getByRole("button", { name: "Hold 1 chosen seat" }).click();
    await page.getByRole("alert").filter({ hasText: "You are number 17 in line" }).waitFor();
    await page.unroute("**/api/v1/bookings/lock");
  });

  test("'best available' asks the server to choose, as the contract says", async () => {
    const { page } = holder;
    const asked = page.waitForRequest((request) => request.url().endsWith("/api/v1/bookings/lock"));
    const answered = page.waitForResponse((response) =>
      response.url().endsWith("/api/v1/bookings/lock"),
    );
    await page.getByLabel("Best seats").fill("2");
    await page.getByRole("button", { name: "Hold best available" }).click();
    expect((await asked).postDataJSON()).toEqual({
      show_id: fixture.show_id,
      quantity: 2,
      adjacent: true,
    });
    const answer = await answered;
    if (answer.status() === 200) {
      const { locked_seats } = await answer.json();
      for (const chosen of locked_seats) {
        await page.locator(`[data-seat-id="${chosen.seat_id}"][data-mine="true"]`).waitFor();
      }
    } else {
      // Until the server picks seats itself it refuses the body: the buyer is told what to do.
      expect(answer.status()).toBe(400);
      await page.getByRole("alert").filter({ hasText: "choose them on the map" }).waitFor();
    }
  });

  test("a new buyer registers on the page; logging out forgets the token", async () => {
    const { page } = watcher;
    await page.getByLabel("Email").fill("grace@example.com");
    await page.getByLabel("Password").fill("a-long-password");
    await page.getByRole("button", { name: "Register" }).click();
    await page.getByText("Signed in as grace@example.com").waitFor();
    const token = await page.evaluate(() => sessionStorage.getItem("evently.token"));
    expect((await app.request("GET", "/api/v1/auth/me", { token: token ?? "" })).status).toBe(200);

    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("button", { name: "Log in" }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("evently.token"))).toBeNull();
    // Logging out revoked the token on the server too.
    expect((await app.request("GET", "/api/v1/auth/me", { token: token ?? "" })).status).toBe(401);
  });

  test("nothing left this machine, nothing failed in the page, the token stayed out of localStorage", async () => {
    for (const visitor of [holder, watcher]) {
      expect(visitor.outsideRequests).toEqual([]);
      expect(
        visitor.pageErrors.filter(
          (error) => !error.includes("the server responded with a status of"),
        ),
      ).toEqual([]);
      const stored = await visitor.context.storageState();
      expect(JSON.stringify(stored)).not.toContain(".ey");
    }
    expect(await holder.page.evaluate(() => sessionStorage.getItem("evently.token"))).toMatch(
      /^ey/,
    );
  });
});

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createAdmin, createShowFixture } from "./support/fixtures";
import { createTestApp, query, sql, type TestApp } from "./support/harness";
import { describeEachBackend } from "./support/services";

describeEachBackend("smoke on %s", (backend) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(backend);
  });
  afterAll(() => app.close());

  test("a created show lists with its seats", async () => {
    const admin = await createAdmin(app);
    const fixture = await createShowFixture(app, admin.token);
    const rows = await query<{ count: number }>(
      app,
      sql`select count(*)::int as count from show_seats where show_id = ${fixture.show_id}`,
    );
    expect(rows[0]?.count).toBe(10);
    const list = await app.request("GET", "/api/v1/shows");
    expect(list.status).toBe(200);
    expect(list.body.shows[0].total_seats).toBe(10);
  });

  test("the buyer page's files are served from src/web", async () => {
    for (const [path, type] of [
      ["/", "text/html"],
      ["/buyer.css", "text/css"],
      ["/buyer.js", "text/javascript"],
    ] as const) {
      const response = await app.request("GET", path);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      expect(response.headers.get("Content-Type")).toStartWith(type);
      expect(response.text.length).toBeGreaterThan(100);
    }
  });
});

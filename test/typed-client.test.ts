import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testClient } from "hono/testing";
import type { App } from "../src/app";
import { createTestApp, type TestApp } from "./support/harness";

describe("the app's type carries its routes (Hono's typed client)", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp("embedded");
  });
  afterAll(async () => {
    await app?.close();
  });

  test("a typed call to GET /api/v1/shows compiles against the route and its body is typed", async () => {
    const client = testClient<App>(app.runtime.app);
    const res = await client.api.v1.shows.$get({ query: { page: "1", limit: "5" } });
    expect(res.status).toBe(200);
    const body = await res.json();
    // Typed from the route's 200 schema: a wrong field or type would not compile.
    const shows: { show_id: number; price: number }[] = body.shows;
    const page: number = body.page;
    expect(shows).toEqual([]);
    expect(page).toBe(1);
    // @ts-expect-error the answer has no such field: the body is not `any`
    expect(body.no_such_field).toBeUndefined();
    // @ts-expect-error `limit` is a query parameter of this route; `lmit` is not
    await client.api.v1.shows.$get({ query: { lmit: "5" } });
  });
});

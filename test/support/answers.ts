import { expect } from "bun:test";
import type { TestResponse } from "./harness";

/** Asserts the status (200 unless given), showing the error body if it differs; answers the body. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
export function ok(response: TestResponse, status = 200): any {
  expect({
    status: response.status,
    error: response.status === status ? undefined : response.body,
  }).toEqual({ status, error: undefined });
  return response.body;
}

/** Asserts the contract's error shape: the status, the code, a message, nothing else. */
export function expectError(
  // biome-ignore lint/suspicious/noExplicitAny: error bodies are arbitrary JSON
  response: { status: number; body: any; headers: Headers },
  status: number,
  code: string,
): void {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
  expect(typeof response.body.message).toBe("string");
  expect(response.body.message.length).toBeGreaterThan(0);
  expect(response.headers.get("Content-Type")).toContain("application/json");
  const allowed = ["code", "details", "message"];
  for (const key of Object.keys(response.body)) expect(allowed).toContain(key);
}

/** Query strings every paged list refuses, each with the parameter its 400 must name. */
const OUT_OF_BOUNDS_PAGES = [
  ["page=0", "page"],
  ["page=-1", "page"],
  ["page=1.5", "page"],
  ["page=abc", "page"],
  ["page=100001", "page"],
  ["limit=0", "limit"],
  ["limit=101", "limit"],
  ["limit=1.5", "limit"],
  ["limit=ten", "limit"],
] as const;

/** Asserts a paged list answers every out-of-bounds page or limit with a 400 naming it. */
export async function expectPagingBounds(
  list: (query: string) => Promise<TestResponse>,
): Promise<void> {
  for (const [query, field] of OUT_OF_BOUNDS_PAGES) {
    const response = await list(query);
    expectError(response, 400, "VALIDATION_ERROR");
    const named = Object.keys(response.body.details ?? {});
    expect({ query, named }).toEqual({ query, named: [field] });
  }
}

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

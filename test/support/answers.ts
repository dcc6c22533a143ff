import { expect } from "bun:test";
import type { ErrorCode } from "../../src/lib/errors";
import type { ErrorBody, TestResponse } from "./harness";

/**
 * The body an answer has at `status`: typed from the route's schema for that status when the
 * answer came through the typed client, `any` for an unchecked `TestResponse`.
 */
export type BodyAt<A, S> = A extends { status: infer Status; body: infer Body }
  ? number extends Status
    ? // biome-ignore lint/suspicious/noExplicitAny: unchecked requests read arbitrary JSON
      any
    : S extends Status
      ? Body
      : never
  : never;

/** Asserts the status (200 unless given), showing the error body if it differs; answers the body. */
export function ok<A extends { status: number; body: unknown }, S extends A["status"] = 200>(
  response: A,
  status: S = 200 as S,
): BodyAt<A, S> {
  expect({
    status: response.status,
    error: response.status === status ? undefined : response.body,
  }).toEqual({ status, error: undefined });
  return response.body as BodyAt<A, S>;
}

/**
 * The body of an answer the test has already checked the status of, typed for that status;
 * throws (showing the body) if the status is another.
 */
export function bodyAt<A extends { status: number; body: unknown }, S extends A["status"]>(
  response: A,
  status: S,
): BodyAt<A, S> {
  if (response.status !== status) {
    throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body as BodyAt<A, S>;
}

/**
 * Asserts the contract's error shape: the status, the code, a message, nothing else. The body
 * reads as that code's error from then on.
 */
export function expectError<A extends { status: number; headers: Headers }, C extends ErrorCode>(
  response: A,
  status: number,
  code: C,
): asserts response is A & { body: ErrorBody<C> } {
  const body = (response as A & { body: Partial<ErrorBody> | undefined }).body;
  expect({ status: response.status, code: body?.code }).toEqual({ status, code });
  expect(typeof body?.message).toBe("string");
  expect(body?.message?.length).toBeGreaterThan(0);
  expect(response.headers.get("Content-Type")).toContain("application/json");
  const allowed = ["code", "details", "message"];
  for (const key of Object.keys(body ?? {})) expect(allowed).toContain(key);
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

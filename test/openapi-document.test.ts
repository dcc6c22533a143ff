/**
 * The live OpenAPI document as a client developer meets it: clean under Redocly's recommended
 * rules, and good enough to generate a typed client (openapi-typescript) with which a buyer's
 * and an admin's journey (test/openapi/journeys.ts, openapi-fetch) type-check without casts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createTestApp, type TestApp } from "./support/harness";

const ROOT = join(import.meta.dir, "..");
const CLIENT_DIR = join(import.meta.dir, "openapi");
const GENERATED = join(CLIENT_DIR, "generated");
const DOCUMENT = join(GENERATED, "openapi.json");
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);

async function run(command: string[]) {
  const child = Bun.spawn(command, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode, stdout, stderr };
}

describe("the OpenAPI document", () => {
  let app: TestApp;
  // biome-ignore lint/suspicious/noExplicitAny: the document is read as plain JSON
  let document: any;

  beforeAll(async () => {
    app = await createTestApp("embedded");
    const response = await app.request("GET", "/api/v1/openapi.json");
    expect(response.status).toBe(200);
    await mkdir(GENERATED, { recursive: true });
    document = response.body;
    await Bun.write(DOCUMENT, JSON.stringify(document, null, 2));
  });

  afterAll(async () => {
    await app?.close();
  });

  test("the lock route lists every refusal a hold or a best-available hold can answer", async () => {
    const lock = document.paths["/api/v1/bookings/lock"].post;
    /** The codes of a status's answers: one component schema per code, or the schema itself. */
    const codesAt = (status: string): string[] => {
      const schema = lock.responses[status].content["application/json"].schema;
      return (schema.anyOf ?? [schema]).flatMap((entry: { $ref?: string }) => {
        const resolved = entry.$ref
          ? document.components.schemas[entry.$ref.split("/").pop() as string]
          : entry;
        return resolved.properties.code.enum;
      });
    };
    expect(codesAt("409")).toEqual(
      expect.arrayContaining(["SEAT_UNAVAILABLE", "SEAT_LIMIT", "NOT_ENOUGH_SEATS"]),
    );
    expect(codesAt("429")).toEqual(expect.arrayContaining(["WAITING_ROOM"]));
  });

  test("has no error or warning under Redocly's recommended rules", async () => {
    const lint = await run([
      bin("redocly"),
      "lint",
      "--config",
      join(ROOT, "redocly.yaml"),
      "--format",
      "json",
      "test/openapi/generated/openapi.json",
    ]);
    const report = JSON.parse(lint.stdout) as {
      problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
    };
    const problems = report.problems.map(
      (problem) => `${problem.ruleId} at ${problem.location[0]?.pointer}: ${problem.message}`,
    );
    expect(problems).toEqual([]);
    expect(lint.exitCode).toBe(0);
  }, 120_000);

  test("generates a typed client with which the buyer and admin journeys type-check", async () => {
    const generate = await run([
      bin("openapi-typescript"),
      DOCUMENT,
      "--output",
      join(GENERATED, "evently-api.d.ts"),
    ]);
    expect({
      exitCode: generate.exitCode,
      stderr: generate.exitCode ? generate.stderr : "",
    }).toEqual({ exitCode: 0, stderr: "" });
    const check = await run([bin("tsc"), "--project", join(CLIENT_DIR, "tsconfig.json")]);
    expect(check.stdout).toBe("");
    expect(check.exitCode).toBe(0);
  }, 120_000);
});

import { describe, expect, test } from "bun:test";
import { perTurnLookup } from "../src/db/per-turn-lookup";

interface Row {
  key: string;
}

/** A PostgreSQL error as postgres.js reports one. */
const pgError = (code: string) => Object.assign(new Error(`SQLSTATE ${code}`), { code });

/** A lookup whose query fails with `code` whenever the batch holds "bad"; it logs each batch. */
function lookup(code: string) {
  const batches: string[][] = [];
  const loader = perTurnLookup<string, Row>(
    async (keys) => {
      batches.push(keys);
      if (keys.includes("bad")) throw pgError(code);
      return keys.filter((key) => key !== "missing").map((key) => ({ key }));
    },
    (row) => row.key,
  );
  return { loader, batches };
}

const settle = (promises: Promise<Row | undefined>[]) =>
  Promise.allSettled(promises).then((results) =>
    results.map((result) =>
      result.status === "fulfilled" ? (result.value?.key ?? "none") : `failed: ${result.reason}`,
    ),
  );

describe("perTurnLookup", () => {
  test("the lookups of one turn share one query; a key without a row reads as undefined", async () => {
    const { loader, batches } = lookup("22021");
    const answers = await settle(["a", "missing", "b"].map((key) => loader.load(key)));
    expect(answers).toEqual(["a", "none", "b"]);
    expect(batches).toEqual([["a", "missing", "b"]]);
  });

  test("a key PostgreSQL refuses fails alone: the others are read one by one", async () => {
    const { loader, batches } = lookup("22021");
    const answers = await settle(["a", "bad", "b"].map((key) => loader.load(key)));
    expect(answers).toEqual(["a", "failed: Error: SQLSTATE 22021", "b"]);
    expect(batches).toEqual([["a", "bad", "b"], ["a"], ["bad"], ["b"]]);
  });

  test("any other failure (the database down) fails the turn's lookups without reading again", async () => {
    const { loader, batches } = lookup("08006");
    const answers = await settle(["a", "bad"].map((key) => loader.load(key)));
    expect(answers).toEqual(["failed: Error: SQLSTATE 08006", "failed: Error: SQLSTATE 08006"]);
    expect(batches).toEqual([["a", "bad"]]);
  });
});

import { describe, expect, test } from "bun:test";
import { importGraph } from "./support/import-graph";

/** The first import cycle found among `files`, as the list of files around it. */
function findCycle(imports: Map<string, string[]>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string): string[] | undefined => {
    const at = path.indexOf(file);
    if (at >= 0) return [...path.slice(at), file];
    if (done.has(file)) return undefined;
    path.push(file);
    for (const next of imports.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(file);
    return undefined;
  };
  for (const file of imports.keys()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return undefined;
}

describe("module graph", () => {
  test("the cycle finder sees a type-only cycle", () => {
    const imports = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
    ]);
    expect(findCycle(imports)).toEqual(["a.ts", "b.ts", "c.ts", "a.ts"]);
    expect(findCycle(new Map([["a.ts", ["b.ts"]]]))).toBeUndefined();
  });

  test("src/ has no import cycle, type-only imports included", () => {
    const imports = importGraph();
    expect(imports.size).toBeGreaterThan(50);
    expect(findCycle(imports)).toBeUndefined();
  });
});

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const SRC = join(import.meta.dir, "..", "src");
/** Every static import and re-export, type-only ones included: they tie modules together too. */
const IMPORT = /^\s*(?:import|export)\b[^;]*?\bfrom\s+["'](\.[^"']+)["']/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

function resolve(from: string, specifier: string): string | undefined {
  const base = join(dirname(from), specifier);
  return [`${base}.ts`, join(base, "index.ts"), base].find(
    (candidate) => candidate.endsWith(".ts") && existsSync(candidate),
  );
}

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
    const imports = new Map<string, string[]>();
    for (const file of sourceFiles(SRC)) {
      const text = readFileSync(file, "utf8");
      const targets = [...text.matchAll(IMPORT)].flatMap((match) => {
        const target = resolve(file, match[1] as string);
        return target ? [relative(SRC, target)] : [];
      });
      imports.set(relative(SRC, file), targets);
    }
    expect(imports.size).toBeGreaterThan(50);
    expect(findCycle(imports)).toBeUndefined();
  });
});

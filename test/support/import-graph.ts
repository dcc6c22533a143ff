import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";

export const SRC = join(import.meta.dir, "..", "..", "src");
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

/** Each file of `root` (relative to it) and the files of `root` it imports. */
export function importGraph(root = SRC): Map<string, string[]> {
  const imports = new Map<string, string[]>();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(IMPORT)].flatMap((match) => {
      const target = resolve(file, match[1] as string);
      return target ? [relative(root, target)] : [];
    });
    imports.set(relative(root, file), targets);
  }
  return imports;
}

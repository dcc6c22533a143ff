import { readdirSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { REPO_ROOT } from "./processes";

/** What the bench and the soak print around their steps, and what they read after them. */

/** Runs one step, printing its name and how long it took. */
export async function phase<T>(label: string, run: () => Promise<T>): Promise<T> {
  console.log(`▶ ${label}`);
  const started = performance.now();
  const result = await run();
  console.log(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

/**
 * Lines per log file in `directory`, by path from the repository root: the servers log at
 * LOG_LEVEL=warn, so every line is a warning or an error.
 */
export function logLineCounts(directory: string): Record<string, number> {
  const lines: Record<string, number> = {};
  for (const name of readdirSync(directory).filter((file) => file.endsWith(".log"))) {
    const path = `${directory}/${name}`;
    const text = readFileSync(path, "utf8").trim();
    lines[relative(REPO_ROOT, path)] = text === "" ? 0 : text.split("\n").length;
  }
  return lines;
}

import { describe, expect, test } from "bun:test";
import { importGraph } from "./support/import-graph";

/** What a module shows the others: its facade and the shapes of its requests and answers. */
const PUBLIC_FILES = new Set(["service.ts", "schemas.ts"]);
/** Shared layers that serve the modules and so must not depend on any of them. */
const BELOW_MODULES = ["db/", "infra/", "lib/"];

const moduleOf = (file: string) => /^modules\/([^/]+)\/(.+)$/.exec(file);

/** Every import (as `from -> to`) that breaks the architecture's rules (docs/architecture.md). */
function violations(imports: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [from, targets] of imports) {
    const source = moduleOf(from);
    for (const to of targets) {
      const target = moduleOf(to);
      const edge = `${from} -> ${to}`;
      if (BELOW_MODULES.some((layer) => from.startsWith(layer))) {
        if (target || to.startsWith("compose/") || to.startsWith("jobs/") || to === "app.ts") {
          found.push(`${edge} (db/, infra/ and lib/ import no module)`);
        }
        continue;
      }
      if (!target) continue;
      const [, name, file] = target;
      const crossing = !source || source[1] !== name;
      if (from.startsWith("jobs/") && file !== "service.ts") {
        found.push(`${edge} (jobs call module facades only)`);
      } else if (source && crossing && !PUBLIC_FILES.has(file as string)) {
        found.push(`${edge} (another module: only its service.ts or schemas.ts)`);
      }
    }
  }
  return found;
}

describe("module boundaries", () => {
  test("the rule finder sees each kind of violation", () => {
    const imports = new Map([
      ["modules/waitlist/service.ts", ["modules/booking/hold-statement.ts"]],
      ["modules/booking/routes.ts", ["modules/catalogue/admin-routes.ts"]],
      ["infra/seat-events.ts", ["modules/seat-map/service.ts"]],
      ["db/seed.ts", ["compose/facades.ts"]],
      ["jobs/cleanup.ts", ["modules/booking/expiry.ts"]],
      // Allowed: a facade, a module's schemas, its own files, the composition roots.
      ["modules/waitlist/routes.ts", ["modules/booking/service.ts", "modules/waitlist/service.ts"]],
      ["modules/booking/schemas.ts", ["modules/catalogue/schemas.ts"]],
      ["compose/facades.ts", ["modules/booking/idempotency.ts"]],
      ["jobs/background.ts", ["jobs/cleanup.ts", "modules/booking/service.ts"]],
    ]);
    expect(violations(imports)).toEqual([
      "modules/waitlist/service.ts -> modules/booking/hold-statement.ts (another module: only its service.ts or schemas.ts)",
      "modules/booking/routes.ts -> modules/catalogue/admin-routes.ts (another module: only its service.ts or schemas.ts)",
      "infra/seat-events.ts -> modules/seat-map/service.ts (db/, infra/ and lib/ import no module)",
      "db/seed.ts -> compose/facades.ts (db/, infra/ and lib/ import no module)",
      "jobs/cleanup.ts -> modules/booking/expiry.ts (jobs call module facades only)",
    ]);
  });

  test("src/ keeps them: facades between modules, no module below them, jobs on facades", () => {
    const imports = importGraph();
    expect(
      [...imports.keys()].filter((file) => file.startsWith("modules/")).length,
    ).toBeGreaterThan(30);
    expect(violations(imports)).toEqual([]);
  });
});

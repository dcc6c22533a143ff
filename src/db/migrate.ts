import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { PgliteDatabase } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { type Database, type DatabaseHandle, execRows } from "./client";
import { pgErrorCode } from "./errors";

export const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));

/** Applies the committed drizzle-kit migrations (idempotent: applied ones are skipped). */
export async function runMigrations(handle: DatabaseHandle): Promise<void> {
  if (handle.driver === "pglite") {
    await migratePglite(handle.db as unknown as PgliteDatabase, { migrationsFolder });
  } else {
    await migratePostgres(handle.db as unknown as PostgresJsDatabase, { migrationsFolder });
  }
}

/**
 * Where a database stands against the migrations in `drizzle/`: `behind` misses some of them
 * (an empty database misses all), `ahead` carries migrations this code does not know (a newer
 * release migrated it).
 */
export interface SchemaVersion {
  state: "current" | "behind" | "ahead";
  /** Migrations of `drizzle/` the database has applied. */
  applied: number;
  /** Migrations in `drizzle/`. */
  known: number;
  /** Applied migrations that `drizzle/` does not have. */
  unknown: number;
}

let journal: Set<number> | undefined;

// drizzle's migrator records each applied migration with its journal entry's `when`.
function knownMigrations(): Set<number> {
  if (!journal) {
    const { entries } = JSON.parse(
      readFileSync(`${migrationsFolder}/meta/_journal.json`, "utf8"),
    ) as { entries: Array<{ when: number }> };
    journal = new Set(entries.map((entry) => entry.when));
  }
  return journal;
}

const UNDEFINED_TABLE = "42P01";
const UNDEFINED_SCHEMA = "3F000";

/** Compares drizzle's table of applied migrations with the journal in `drizzle/`. */
export async function readSchemaVersion(db: Database): Promise<SchemaVersion> {
  const known = knownMigrations();
  const applied = await execRows<{ created_at: string | number }>(
    db,
    sql`select created_at from drizzle.__drizzle_migrations`,
  ).catch((error) => {
    const code = pgErrorCode(error);
    if (code === UNDEFINED_TABLE || code === UNDEFINED_SCHEMA) return [];
    throw error;
  });
  const appliedWhens = new Set(applied.map((row) => Number(row.created_at)));
  const unknown = [...appliedWhens].filter((when) => !known.has(when)).length;
  const appliedKnown = [...known].filter((when) => appliedWhens.has(when)).length;
  const state = unknown > 0 ? "ahead" : appliedKnown < known.size ? "behind" : "current";
  return { state, applied: appliedKnown, known: known.size, unknown };
}

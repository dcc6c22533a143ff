import { defineConfig } from "drizzle-kit";

// Against DATABASE_URL when set, else the embedded PGlite data directory (stop the embedded
// server first: PGlite allows one process at a time on a data directory).
const url = process.env.DATABASE_URL;

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./drizzle",
  ...(url
    ? { dbCredentials: { url } }
    : { driver: "pglite", dbCredentials: { url: process.env.DATA_DIR ?? "./data/pglite" } }),
});

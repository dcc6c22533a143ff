import { loadConfigOrExit } from "../src/boot";
import { openDatabase } from "../src/db/client";
import { runMigrations } from "../src/db/migrate";

const config = loadConfigOrExit();
const database = await openDatabase({
  url: config.DATABASE_URL,
  dataDir: config.DATA_DIR,
  poolMax: 1,
  behindPgBouncer: config.DB_PGBOUNCER,
});
await runMigrations(database);
await database.close();
console.log(
  `Migrations applied (${database.driver === "pglite" ? config.DATA_DIR : "DATABASE_URL"}).`,
);

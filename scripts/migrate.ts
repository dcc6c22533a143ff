import { loadConfigOrExit, startOrExit } from "../src/boot";
import { openDatabase } from "../src/db/client";
import { runMigrations } from "../src/db/migrate";
import { createLogger } from "../src/lib/logger";

const config = loadConfigOrExit();
await startOrExit(config, async () => {
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolMax: 1,
    behindPgBouncer: config.DB_PGBOUNCER,
  });
  try {
    await runMigrations(database);
  } finally {
    await database.close();
  }
  createLogger(config.LOG_LEVEL).info("migrations applied", {
    database: database.driver === "pglite" ? config.DATA_DIR : "DATABASE_URL",
  });
});

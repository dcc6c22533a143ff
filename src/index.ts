import { loadConfigOrExit, startOrExit } from "./boot";
import { composeApi } from "./compose/api";
import { DEMO_ADMIN, DEMO_USER } from "./compose/seed";
import { redisTarget } from "./infra/redis";
import { startInProcessJobs } from "./jobs/background";

const config = loadConfigOrExit();
const { api, server } = await startOrExit(config, async () => {
  const api = await composeApi(config);
  const server = Bun.serve({ hostname: config.HOST, port: config.PORT, fetch: api.app.fetch });
  return { api, server };
});
const { logger, services } = api;

// Without Redis there is no worker process to coordinate with: run the jobs here.
const jobs = redisTarget(config)
  ? undefined
  : startInProcessJobs(api.cleanup, { cleanupCron: config.CLEANUP_CRON, logger });

// Links for a browser on this machine; the listen address is printed as it is.
const LOCAL_ADDRESSES = ["0.0.0.0", "::", "127.0.0.1", "::1"];
const linkHost = LOCAL_ADDRESSES.includes(config.HOST) ? "localhost" : config.HOST;
const baseUrl = `http://${linkHost}:${server.port}`;
const listen = `${config.HOST}:${server.port}`;

logger.info("Evently API listening", {
  listen,
  url: baseUrl,
  docs: `${baseUrl}/api-docs`,
  buyer_page: `${baseUrl}/`,
  mode: config.embedded ? "embedded" : "production",
});
if (config.embedded) {
  console.log(`
  Evently is running (embedded mode: PGlite in ${config.DATA_DIR}, in-memory coordination)
    Listen   ${listen}${config.HOST === "127.0.0.1" ? " (this machine only; HOST=0.0.0.0 to share)" : ""}
    Buyer    ${baseUrl}/
    API      ${baseUrl}/api/v1/shows
    Docs     ${baseUrl}/api-docs
    Admin    ${config.ADMIN_EMAIL ?? DEMO_ADMIN.email} / ${config.ADMIN_EMAIL ? "(ADMIN_PASSWORD)" : DEMO_ADMIN.password}
    User     ${DEMO_USER.email} / ${DEMO_USER.password}
`);
}

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info("shutting down", { signal });
  // stop(false) stops accepting connections and waits for in-flight requests to finish.
  // Open live seat map streams never end by themselves: end them, then drain the rest.
  await services.seatStreams.close();
  await server.stop(false);
  await jobs?.stop();
  await api.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

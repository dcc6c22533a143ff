import { readFileSync } from "node:fs";

/**
 * S3's comparison: the seat map's bytes (BENCH_STATIC_FILE) served as a static Bun route, no
 * JavaScript per request. Started by the bench as a child process on PORT.
 */
const file = process.env.BENCH_STATIC_FILE;
if (!file) throw new Error("BENCH_STATIC_FILE is not set");
const bytes = readFileSync(file);

Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT),
  routes: {
    "/*": new Response(bytes, { headers: { "Content-Type": "application/json" } }),
  },
});

import { Hono } from "hono";

/** The machine reference: Hono's hello world on Bun, started by the bench on PORT. */
const app = new Hono().get("/", (c) => c.text("Hello"));

Bun.serve({ hostname: "127.0.0.1", port: Number(process.env.PORT), fetch: app.fetch });

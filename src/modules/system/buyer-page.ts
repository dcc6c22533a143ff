import { createRoute } from "@hono/zod-openapi";
import { createRouter, z } from "../../lib/openapi";

/**
 * The buyer page at `/`: plain HTML, a style sheet and one script that Bun bundles from
 * `src/web/buyer.ts` when first asked for. It calls only the public API.
 */
const web = (name: string) => Bun.fileURLToPath(new URL(`../../web/${name}`, import.meta.url));

// Nothing from another origin, no inline script or style: the page's own three files, the
// API's JSON and its event stream. The icon is an empty data: URI so no request 404s.
const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

// Small files that change only with a release: revalidate each time rather than guess a lifetime.
const REVALIDATE = "no-cache";

let script: Promise<string> | undefined;

/** The page's script, bundled once per process; Bun.build throws if the source is broken. */
function bundledScript(): Promise<string> {
  script ??= Bun.build({ entrypoints: [web("buyer.ts")], target: "browser", minify: true }).then(
    (result) => (result.outputs[0] as Blob).text(),
  );
  return script;
}

/** A GET route of the page, documented with the rest of the API. */
const pageFile = <P extends string>(path: P, operationId: string, summary: string, type: string) =>
  createRoute({
    method: "get",
    path,
    operationId,
    security: [],
    tags: ["Buyer page"],
    summary,
    responses: { 200: { description: "The file", content: { [type]: { schema: z.string() } } } },
  });

const HTML = "text/html; charset=utf-8";
const JAVASCRIPT = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

const page = createRoute({
  ...pageFile(
    "/",
    "getBuyerPage",
    "The buyer page: a live seat map to hold, pay for and confirm seats",
    HTML,
  ),
  description:
    "A small page for buyers, phones included: pick a show, watch its seat map change live (the seat map stream), log in or register, choose seats or ask for the best ones available, pay (simulated), confirm, and see your bookings. It calls only this public API, loads nothing from another origin (a strict Content-Security-Policy says so) and keeps the token in the tab's sessionStorage, so closing the tab forgets it.",
});

export const buyerPageRoutes = createRouter()
  .openapi(page, (c) =>
    c.body(Bun.file(web("index.html")).stream(), 200, {
      "Content-Type": HTML,
      "Content-Security-Policy": PAGE_POLICY,
      "Cache-Control": REVALIDATE,
    }),
  )
  .openapi(
    pageFile("/buyer.js", "getBuyerPageScript", "The buyer page's script", JAVASCRIPT),
    async (c) =>
      c.body(await bundledScript(), 200, {
        "Content-Type": JAVASCRIPT,
        "Cache-Control": REVALIDATE,
      }),
  )
  .openapi(pageFile("/buyer.css", "getBuyerPageStyles", "The buyer page's style sheet", CSS), (c) =>
    c.body(Bun.file(web("buyer.css")).stream(), 200, {
      "Content-Type": CSS,
      "Cache-Control": REVALIDATE,
    }),
  );

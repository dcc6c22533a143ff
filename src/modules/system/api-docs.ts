import { notFound } from "../../lib/errors";
import { createRouter } from "../../lib/openapi";

/**
 * Swagger UI served from the pinned `swagger-ui-dist` package, so the page works without
 * internet access and shows exactly the version in the lockfile.
 */
const ASSET_TYPES = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
} as const;

const INITIALIZER = "swagger-initializer.js";

const assetFiles = new Map(
  Object.entries(ASSET_TYPES).map(([name, type]) => [
    name,
    { path: Bun.fileURLToPath(import.meta.resolve(`swagger-ui-dist/${name}`)), type },
  ]),
);

/** Every file name served below the page. */
export const API_DOCS_ASSETS: [string, ...string[]] = [INITIALIZER, ...assetFiles.keys()];

// Only this origin: the page can load nothing from elsewhere even if a future bundle tries.
// Swagger UI styles elements inline and draws its icons as data: URIs.
const PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join("; ");

// The unversioned asset URLs change content only on an upgrade: an hour of staleness at most.
const ASSET_CACHE = "public, max-age=3600";

function page(prefix: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Evently API</title>
    <link rel="icon" type="image/png" href="${prefix}/favicon-32x32.png" />
    <link rel="stylesheet" href="${prefix}/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${prefix}/swagger-ui-bundle.js"></script>
    <script src="${prefix}/${INITIALIZER}"></script>
  </body>
</html>
`;
}

// A token pasted into "Authorize" must not outlive the tab (persistAuthorization would keep
// it in localStorage); validatorUrl null keeps the page from sending the document elsewhere.
function initializer(documentUrl: string): string {
  const options = {
    url: documentUrl,
    dom_id: "#swagger-ui",
    persistAuthorization: false,
    validatorUrl: null,
  };
  return `window.ui = SwaggerUIBundle(${JSON.stringify(options)});\n`;
}

/** Mounted at `prefix`: the page at the prefix itself, its assets below it. */
export function apiDocsRoutes(prefix: string, documentUrl: string) {
  const script = initializer(documentUrl);
  return createRouter()
    .get("/", (c) => c.html(page(prefix), 200, { "Content-Security-Policy": PAGE_POLICY }))
    .get("/:asset", (c) => {
      const name = c.req.param("asset");
      if (name === INITIALIZER) {
        return c.body(script, 200, {
          "Content-Type": "text/javascript; charset=utf-8",
          "Cache-Control": "no-cache",
        });
      }
      const file = assetFiles.get(name);
      if (!file) throw notFound("Documentation asset");
      return new Response(Bun.file(file.path), {
        headers: { "Content-Type": file.type, "Cache-Control": ASSET_CACHE },
      });
    });
}

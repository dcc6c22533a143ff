import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import type { Store } from "hono-rate-limiter";
import type { AppEnv } from "./app-env";
import type { Services } from "./compose/facades";
import type { Config } from "./config";
import type { Metrics } from "./infra/metrics";
import { AppError } from "./lib/errors";
import type { Logger } from "./lib/logger";
import { completeOperations, createRouter, errorResponses, z } from "./lib/openapi";
import { errorHandler, notFoundHandler } from "./middleware/error-handler";
import { isExemptFromRateLimits, rateLimit } from "./middleware/rate-limit";
import { requestContext } from "./middleware/request-context";
import { adminAnalyticsRoutes } from "./modules/analytics/admin-routes";
import { authRoutes } from "./modules/auth/routes";
import { adminBookingRoutes } from "./modules/booking/admin-routes";
import { bookingRoutes, userRoutes } from "./modules/booking/routes";
import {
  adminEventRoutes,
  adminShowRoutes,
  adminVenueRoutes,
} from "./modules/catalogue/admin-routes";
import { eventRoutes, showRoutes } from "./modules/catalogue/routes";
import { seatMapRoutes } from "./modules/seat-map/routes";
import { API_DOCS_ASSETS, apiDocsRoutes } from "./modules/system/api-docs";
import { buyerPageRoutes } from "./modules/system/buyer-page";
import { systemRoutes } from "./modules/system/routes";
import { waitingRoomRoutes } from "./modules/waiting-room/routes";
import { notificationRoutes, waitlistRoutes } from "./modules/waitlist/routes";

export const OPENAPI_PATH = "/api/v1/openapi.json";
const API_DOCS_PATH = "/api-docs";

/**
 * Routes whose answers carry a token or a user's own data: every auth route and every route
 * that needs a token. Their answers, errors included, must not be kept by any cache.
 */
const PRIVATE_ROUTES = [
  "/api/v1/auth/*",
  "/api/v1/bookings/*",
  "/api/v1/user/*",
  "/api/v1/admin/*",
  "/api/v1/waiting-room/*",
  "/api/v1/shows/:show_id/waitlist",
];

/** The same routes as they appear in the document. */
const PRIVATE_PATHS = PRIVATE_ROUTES.map((route) =>
  route.replace(/\/\*$/, "/").replace(/:(\w+)/g, "{$1}"),
);

const noStore = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  c.header("Cache-Control", "no-store");
});

/** What the HTTP layer itself needs beside the facades. */
export interface HttpSettings {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Shared rate-limit counters (Redis); undefined → each limiter counts in memory. */
  rateLimitStore?: Store;
}

/** Builds the HTTP app: middleware order and route mounting, nothing else. */
export function createApp(
  services: Services,
  { config, logger, metrics, rateLimitStore }: HttpSettings,
) {
  const app = createRouter();

  app.onError(errorHandler(logger));
  app.notFound(notFoundHandler);

  app.use(requestContext(logger, metrics, config.TRUST_PROXY));
  // Before the rate limits, so that their 429s are covered too.
  for (const path of PRIVATE_ROUTES) app.use(path, noStore);
  // nosniff, frame denial, HSTS, referrer policy, cross-origin isolation headers. The API
  // serves JSON: only the HTML pages (Swagger UI, the buyer page) need a CSP, and set their own.
  app.use(secureHeaders());
  app.use(
    cors({
      origin: config.CORS_ORIGINS.includes("*") ? "*" : config.CORS_ORIGINS,
      allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
      exposeHeaders: [
        "X-Request-Id",
        "Retry-After",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
        "ETag",
      ],
      maxAge: 600,
    }),
  );
  if (config.RATE_LIMIT_ENABLED) {
    const shared = {
      trustedProxies: config.TRUST_PROXY,
      jwtSecret: config.JWT_SECRET,
      store: rateLimitStore,
      logger,
    };
    app.use(
      rateLimit({ ...shared, name: "general", limitPerMinute: config.RATE_LIMIT_PER_MINUTE }),
    );
    app.use(
      "/api/v1/bookings/*",
      rateLimit({
        ...shared,
        name: "booking",
        limitPerMinute: config.BOOKING_RATE_LIMIT_PER_MINUTE,
      }),
    );
  }
  app.use(
    bodyLimit({
      maxSize: config.BODY_LIMIT_BYTES,
      onError: () => {
        throw new AppError("PAYLOAD_TOO_LARGE", {
          message: `Request body is larger than ${config.BODY_LIMIT_BYTES} bytes`,
        });
      },
    }),
  );
  const callerKeySettings = { jwtSecret: config.JWT_SECRET, trustedProxies: config.TRUST_PROXY };
  app.use(
    createMiddleware<AppEnv>(async (c, next) => {
      c.set("services", services);
      c.set("logger", logger);
      c.set("callerKeySettings", callerKeySettings);
      c.set("metricsToken", config.METRICS_TOKEN);
      await next();
    }),
  );

  // One chain, so that the app's type carries every route (Hono's typed client reads it).
  const routes = app
    .route("/", systemRoutes)
    .route("/", buyerPageRoutes)
    .route("/api/v1/auth", authRoutes)
    .route("/api/v1/shows", showRoutes)
    .route("/api/v1/shows", seatMapRoutes)
    .route("/api/v1/shows", waitlistRoutes)
    .route("/api/v1/events", eventRoutes)
    .route("/api/v1/bookings", bookingRoutes)
    .route("/api/v1/user", userRoutes)
    .route("/api/v1/user", notificationRoutes)
    .route("/api/v1/waiting-room", waitingRoomRoutes)
    .route("/api/v1/admin/venues", adminVenueRoutes)
    .route("/api/v1/admin/events", adminEventRoutes)
    .route("/api/v1/admin/shows", adminShowRoutes)
    .route("/api/v1/admin/bookings", adminBookingRoutes)
    .route("/api/v1/admin/analytics", adminAnalyticsRoutes);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "The `token` returned by /api/v1/auth/login or /register. A token without `exp`, expired, revoked (logout, or a change of role or password) or of a deleted user is refused with 401.",
  });
  documentTheDocumentation(app);
  completeOperations(app, {
    isPrivate: (path) => PRIVATE_PATHS.some((prefix) => path.startsWith(prefix)),
    isRateLimited: (path) => !isExemptFromRateLimits(path),
    usesDependencies: (path) => path.startsWith("/api/v1/") && path !== OPENAPI_PATH,
  });
  app.doc31(OPENAPI_PATH, {
    openapi: "3.1.0",
    servers: [{ url: "/", description: "This server" }],
    info: {
      title: "Evently API",
      version: "1.0.0",
      description:
        "Seat booking for events that sell out in minutes. Errors always have the shape `{message, code, details?}`. Ids are positive integers below 2^31; money is a number with at most two decimals; timestamps are ISO-8601 UTC. Request bodies are JSON: a body sent with another `Content-Type` is refused with 415 `UNSUPPORTED_MEDIA_TYPE`. Answers of the auth routes and of every route that needs a token, errors included, carry `Cache-Control: no-store`.",
    },
  });
  app.route(API_DOCS_PATH, apiDocsRoutes(API_DOCS_PATH, OPENAPI_PATH));

  return routes;
}

/** The HTTP app with every route's request and answer types (for `hc` / `testClient`). */
export type App = ReturnType<typeof createApp>;
export type AppType = App;

/** The contract lists the document and its Swagger UI among its routes, so they are in it too. */
function documentTheDocumentation(app: ReturnType<typeof createRouter>) {
  const registry = app.openAPIRegistry;
  registry.registerPath({
    method: "get",
    path: OPENAPI_PATH,
    operationId: "getOpenApiDocument",
    tags: ["System"],
    summary: "This OpenAPI 3.1 document, generated from the route schemas",
    responses: { 200: { description: "The document", content: { "application/json": {} } } },
  });
  registry.registerPath({
    method: "get",
    path: API_DOCS_PATH,
    operationId: "getApiDocs",
    tags: ["System"],
    summary: "Swagger UI over this document",
    description:
      "Served with its scripts and styles from this API (no CDN), so it works without internet access. A token given to Authorize is kept in the page only: a reload forgets it.",
    responses: { 200: { description: "An HTML page", content: { "text/html": {} } } },
  });
  registry.registerPath({
    method: "get",
    path: `${API_DOCS_PATH}/{asset}`,
    operationId: "getApiDocsAsset",
    tags: ["System"],
    summary: "A script, style sheet or icon of the Swagger UI page",
    request: {
      params: z.object({ asset: z.enum(API_DOCS_ASSETS) }),
    },
    responses: {
      200: { description: "The file" },
      ...errorResponses("NOT_FOUND"),
    },
  });
}

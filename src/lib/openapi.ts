import { OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import type { AppEnv } from "../app-env";
import { AppError, ERROR_CODES, type ErrorCode, errorCatalogue } from "./errors";
import { MAX_ID } from "./ids";

/** Catalogue codes in their order of declaration. */
const byCatalogueOrder = (codes: Iterable<ErrorCode>) =>
  ERROR_CODES.filter((code) => new Set(codes).has(code));

const pascalCase = (code: string) =>
  code.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());

const errorSchemas = new Map<ErrorCode, z.ZodObject>();

/** The body of one code: `{message, code, details}`, a named component of the document. */
function errorSchema(code: ErrorCode): z.ZodObject {
  const known = errorSchemas.get(code);
  if (known) return known;
  const entry: { message: string; description: string; details?: z.ZodType } = errorCatalogue[code];
  const schema = z
    .object({
      message: z.string().openapi({ example: entry.message }),
      code: z.enum([code]),
      details: entry.details ?? z.record(z.string(), z.unknown()).optional(),
    })
    .openapi(`${pascalCase(code)}Error`, { description: entry.description });
  errorSchemas.set(code, schema);
  return schema;
}

const header = (description: string, type: "string" | "integer" = "string") => ({
  description,
  schema: { type },
});

const RETRY_AFTER = header("Seconds to wait before retrying", "integer");
const RATE_LIMIT_HEADERS = {
  "RateLimit-Limit": header("Requests allowed in the window", "integer"),
  "RateLimit-Remaining": header("Requests left in the window", "integer"),
  "RateLimit-Reset": header("Seconds until the window resets", "integer"),
};

function errorHeaders(codes: readonly ErrorCode[]) {
  const entries = codes.map((code) => errorCatalogue[code]);
  return {
    ...(entries.some((entry) => "retryAfterSeconds" in entry)
      ? { "Retry-After": RETRY_AFTER }
      : {}),
    ...(codes.includes("RATE_LIMITED") ? RATE_LIMIT_HEADERS : {}),
    ...(codes.includes("UNAUTHENTICATED")
      ? { "WWW-Authenticate": header("The scheme to authenticate with: `Bearer`") }
      : {}),
  };
}

/** The codes each error response stands for, so common ones can be merged in later. */
const codesOfResponse = new WeakMap<object, readonly ErrorCode[]>();

function errorResponse(codes: readonly ErrorCode[]) {
  const schemas = codes.map(errorSchema);
  const [first, ...others] = schemas;
  const response = {
    description: codes.map((code) => `\`${code}\`: ${errorCatalogue[code].description}`).join("; "),
    headers: errorHeaders(codes),
    content: {
      "application/json": {
        schema: first && others.length > 0 ? z.union([first, ...others]) : first,
      },
    },
  };
  codesOfResponse.set(response, codes);
  return response;
}

/**
 * The error responses of a route, from the catalogue codes it may answer (by status). The codes
 * every route of its kind may answer (validation, authentication, limits, outages) are added
 * by `completeOperations`.
 */
export function errorResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of byCatalogueOrder(codes)) {
    const status = errorCatalogue[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, sameStatus]) => [status, errorResponse(sameStatus)]),
  );
}

/** What the HTTP app does around a path, beyond what its route declares. */
export interface OperationPolicy {
  /** Answers carry `Cache-Control: no-store`. */
  isPrivate: (path: string) => boolean;
  isRateLimited: (path: string) => boolean;
  /** Needs the database or Redis, so it answers 503 `UNAVAILABLE` while they are down. */
  usesDependencies: (path: string) => boolean;
}

type RouteDefinition = RouteConfig & { path: string };

/** The codes a route answers for what it is, not for what it does. */
function commonCodes(route: RouteDefinition, policy: OperationPolicy): ErrorCode[] {
  const request = route.request ?? {};
  const takesInput = Boolean(request.params || request.query || request.headers || request.body);
  const codes: [boolean, ErrorCode][] = [
    [takesInput, "VALIDATION_ERROR"],
    [(route.security ?? []).length > 0, "UNAUTHENTICATED"],
    [(route.tags ?? []).includes("Admin"), "FORBIDDEN"],
    [route.method !== "get", "PAYLOAD_TOO_LARGE"],
    [Boolean(request.body), "UNSUPPORTED_MEDIA_TYPE"],
    [policy.isRateLimited(route.path), "RATE_LIMITED"],
    [true, "INTERNAL"],
    [policy.usesDependencies(route.path), "UNAVAILABLE"],
  ];
  return codes.flatMap(([applies, code]) => (applies ? [code] : []));
}

const REQUEST_ID = {
  "X-Request-Id": header(
    "This request's id (the client's own, if it sent a valid one); logs carry it",
  ),
};
const NO_STORE = { "Cache-Control": header("`no-store`: the answer is the caller's own") };

/**
 * Completes every operation of the document once all routes are mounted: the error responses
 * of the codes common to its kind of route merged with the ones it declared, and the headers
 * every answer carries.
 */
export function completeOperations(app: OpenAPIHono<AppEnv>, policy: OperationPolicy) {
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== "route") continue;
    const route = definition.route;
    const codes = new Set(commonCodes(route, policy));
    const responses: RouteConfig["responses"] = {};
    for (const [status, response] of Object.entries(route.responses)) {
      const declared = codesOfResponse.get(response);
      if (declared) for (const code of declared) codes.add(code);
      else responses[status] = response;
    }
    for (const [status, response] of Object.entries(errorResponses(...codes))) {
      responses[status] ??= response;
    }
    const common = { ...REQUEST_ID, ...(policy.isPrivate(route.path) ? NO_STORE : {}) };
    for (const [status, response] of Object.entries(responses)) {
      if ("$ref" in response || response.headers instanceof z.ZodObject) continue;
      responses[status] = { ...response, headers: { ...common, ...response.headers } };
    }
    // An explicit empty list: the operation needs no token (rather than "unspecified").
    definition.route = { ...route, security: route.security ?? [], responses };
  }
}

export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  content: { "application/json": { schema } },
  required: true as const,
  ...(description ? { description } : {}),
});

/** A JSON body the client may leave out; the handler then sees `{}` (no defaults applied). */
export const optionalJsonBody = <T extends z.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: false as const,
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

/**
 * A whole number written plainly ("12", not "1e1", "0x0c", " 12" or "12.0"), within bounds:
 * what ids and page numbers in paths and query strings must look like.
 */
const plainInteger = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,10}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** A path id: a positive integer below 2^31; anything else is a 400, never a 500. */
export const idParam = (name: string) =>
  plainInteger(1, MAX_ID).openapi({
    param: { name, in: "path" },
    example: 1,
    type: "integer",
    minimum: 1,
    maximum: MAX_ID,
  });

const MAX_PAGE = 100_000;
const MAX_LIMIT = 100;

export const paginationQuery = z.object({
  page: plainInteger(1, MAX_PAGE)
    .default(1)
    .openapi({ example: 1, type: "integer", minimum: 1, maximum: MAX_PAGE }),
  limit: plainInteger(1, MAX_LIMIT)
    .default(20)
    .openapi({ example: 20, type: "integer", minimum: 1, maximum: MAX_LIMIT }),
});

export const paginationEnvelope = {
  page: z.number().int(),
  limit: z.number().int(),
  total: z.number().int(),
};

/** Turns zod issues into `{ "<field path>": "<message>" }`, one entry per bad field. */
export function validationDetails(error: ZodError): Record<string, string> {
  const details: Record<string, string> = {};
  for (const issue of error.issues) {
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [undefined];
    for (const key of keys) {
      const segments = key === undefined ? issue.path : [...issue.path, key];
      const path = segments.map(String).join(".") || "(root)";
      details[path] ??= key === undefined ? issue.message : "Unknown field";
    }
  }
  return details;
}

function validationError(error: ZodError): AppError {
  return new AppError("VALIDATION_ERROR", { details: validationDetails(error) });
}

/** Every router is built here so validation failures all take the contract's error shape. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });
}

export { z };

/** A PUT body: any subset of the create fields, but not none. */
export const updateBody = <T extends z.ZodObject>(schema: T) =>
  schema.partial().refine((value) => Object.keys(value).length > 0, {
    message: "Send at least one field to update",
  });

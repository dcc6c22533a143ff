import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import type { AppEnv } from "../app-env";
import { AppError } from "./errors";

export const MAX_ID = 2_147_483_647;

export const ErrorSchema = z
  .object({
    message: z.string().openapi({ example: "Show not found" }),
    code: z.string().openapi({ example: "NOT_FOUND" }),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi("Error");

const errorDescriptions: Record<number, string> = {
  400: "Invalid input (`VALIDATION_ERROR`, details keyed by field path)",
  401: "Missing, invalid, expired or revoked token (`UNAUTHENTICATED`)",
  402: "Payment required or declined",
  403: "The caller's role does not allow this route (`FORBIDDEN`)",
  404: "Unknown id, or a resource that belongs to someone else (`NOT_FOUND`)",
  409: "Conflict with the current state",
  410: "The hold expired (`HOLD_EXPIRED`)",
  413: "Body over the size limit (`PAYLOAD_TOO_LARGE`)",
  429: "Rate limited or queued by the waiting room",
  503: "A dependency the request needs is down (`UNAVAILABLE`)",
};

/** OpenAPI response entries for the error statuses a route can answer. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: errorDescriptions[status] ?? "Error",
        content: { "application/json": { schema: ErrorSchema } },
      },
    ]),
  );
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

/**
 * Text input. PostgreSQL cannot store a NUL character: refused here, the client learns which
 * field is wrong, and no query runs with it (one bad value in a batched query fails them all).
 */
export const text = () => z.string().regex(/^[^\0]*$/, "must not contain NUL characters");

/** A path id: a positive integer below 2^31; anything else is a 400, never a 500. */
export const idParam = (name: string) =>
  plainInteger(1, MAX_ID).openapi({
    param: { name, in: "path" },
    example: 1,
    type: "integer",
  });

/** Ids inside bodies are not coerced: "7" is not an id. */
export const bodyId = () => z.number().int().min(1).max(MAX_ID);

export const paginationQuery = z.object({
  page: plainInteger(1, 100_000).default(1).openapi({ example: 1, type: "integer" }),
  limit: plainInteger(1, 100).default(20).openapi({ example: 20, type: "integer" }),
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

export function validationError(error: ZodError): AppError {
  return new AppError(
    400,
    "VALIDATION_ERROR",
    "Request validation failed",
    validationDetails(error),
  );
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

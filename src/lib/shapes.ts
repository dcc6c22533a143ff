import { z } from "@hono/zod-openapi";
import { createSchemaFactory } from "drizzle-zod";
import { MAX_ID } from "./ids";

/**
 * Building blocks of the API's shapes (the modules' schemas.ts). Kept apart from the router
 * helpers in openapi.ts, which know the app's context: a service may take its types from its
 * schemas without importing the HTTP layer.
 */

/** Ids inside bodies are not coerced: "7" is not an id. */
export const bodyId = () => z.number().int().min(1).max(MAX_ID);

/** A timestamp in an answer: ISO-8601 in UTC. */
export const timestamp = () =>
  z.string().openapi({ format: "date-time", example: "2026-12-01T19:30:00.000Z" });

/**
 * Zod schemas of the drizzle tables (src/db/schema.ts), built with this `z` so that `.openapi()`
 * names and describes them: an answer that mirrors a table takes its fields, types, nullability,
 * enums and lengths from the table rather than restating them.
 */
export const { createSelectSchema } = createSchemaFactory({ zodInstance: z });

/**
 * Refinements for `createSelectSchema` naming a table's id columns: identities are positive, so
 * an answer's ids are bounded like the ids a client sends back (1 to 2^31 - 1), not by the
 * column's type alone.
 */
export const idColumns = <K extends string>(...columns: K[]) =>
  Object.fromEntries(columns.map((column) => [column, bodyId()])) as Record<
    K,
    ReturnType<typeof bodyId>
  >;

/**
 * Text input. PostgreSQL cannot store a NUL character: refused here, the client learns which
 * field is wrong, and no query runs with it (one bad value in a batched query fails them all).
 */
export const text = () => z.string().regex(/^[^\0]*$/, "must not contain NUL characters");

const EARLIEST_TIMESTAMP = Date.UTC(1970, 0, 1);
const LATEST_TIMESTAMP = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * A timestamp given by a client: ISO-8601 with a zone (Z or an offset), from 1970 to 9999.
 * PostgreSQL has no year 0 and neither side parses the other's years past 9999, so wider
 * values (and ranges computed from them) would fail in the database instead of here.
 */
export const timestampInput = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .refine(
    (date) => date.getTime() >= EARLIEST_TIMESTAMP && date.getTime() <= LATEST_TIMESTAMP,
    "must be between 1970-01-01 and 9999-12-31 (UTC)",
  )
  .openapi({ type: "string", format: "date-time", example: "2026-12-01T19:30:00Z" });

export { z };

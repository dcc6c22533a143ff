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
export { z };

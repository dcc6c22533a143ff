import { PgPreparedQuery } from "drizzle-orm/pg-core";
import { withoutStatementValues } from "./errors";

/**
 * The one place Evently reaches into drizzle: every statement of both drivers (query builder,
 * `db.execute`, transactions) runs through `PgPreparedQuery.prototype.queryWithCache`, which
 * wraps a driver's failure in a DrizzleQueryError that quotes the statement's values
 * (password hashes, stored answers) in its message and `params`. Wrapping that method takes
 * them out once, for every caller, before anything can log the error. drizzle offers no public
 * hook for it: its logger sees successful queries only, and the error is built inside the
 * method.
 *
 * On a drizzle upgrade: if the method is renamed or no longer on every statement's path,
 * importing this module throws (below) or test/secrets-in-logs.test.ts fails; in both cases
 * failed queries would print their values again.
 */
const preparedQuery = PgPreparedQuery.prototype as unknown as {
  queryWithCache(this: unknown, ...args: unknown[]): Promise<unknown>;
};
const queryWithCache = preparedQuery.queryWithCache;
if (typeof queryWithCache !== "function") {
  throw new Error(
    "drizzle's PgPreparedQuery.queryWithCache is gone: failed queries would print their values",
  );
}
preparedQuery.queryWithCache = function (...args) {
  return queryWithCache.apply(this, args).catch((error: unknown) => {
    throw withoutStatementValues(error);
  });
};

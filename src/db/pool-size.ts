/**
 * Connections per pool when DB_POOL_MAX does not say: a few per core of a small PostgreSQL.
 * More backends than that only take turns on its cores and on the rows of a hot show (the
 * bench's sales ran 10-25% faster with 10 than with 20 on two cores).
 */
export const DEFAULT_POOL_MAX = 10;

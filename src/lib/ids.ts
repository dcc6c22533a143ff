/** Ids are PostgreSQL `integer`s: positive and below 2^31. */
export const MAX_ID = 2_147_483_647;

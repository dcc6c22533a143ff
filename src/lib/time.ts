/** Timestamps cross the API as ISO-8601 UTC strings. */
export const iso = (date: Date | string): string => new Date(date).toISOString();

/** Money crosses the API as a number with at most two decimals and is stored as integer cents. */
export const toCents = (amount: number): number => Math.round(amount * 100);
export const fromCents = (cents: number): number => cents / 100;
/** True when `amount` has at most two decimals (tolerating binary floating-point noise). */
export const hasAtMostTwoDecimals = (amount: number): boolean =>
  Math.abs(amount * 100 - Math.round(amount * 100)) < 1e-6;

/** The highest show price. Ten seats of it stay far inside a 32-bit integer of cents. */
export const MAX_PRICE = 1_000_000;

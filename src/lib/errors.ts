import type { ContentfulStatusCode } from "hono/utils/http-status";

export type ErrorCode =
  | "VALIDATION_ERROR"
  | "UNAUTHENTICATED"
  | "INVALID_CREDENTIALS"
  | "PAYMENT_REQUIRED"
  | "PAYMENT_FAILED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "SEAT_UNAVAILABLE"
  | "SEAT_LIMIT"
  | "NOT_ENOUGH_SEATS"
  | "EMAIL_TAKEN"
  | "CONFLICT"
  | "INVALID_STATE"
  | "SHOW_STARTED"
  | "SALES_NOT_OPEN"
  | "NOT_SOLD_OUT"
  | "IDEMPOTENCY_KEY_IN_USE"
  | "HOLD_EXPIRED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "RATE_LIMITED"
  | "WAITING_ROOM"
  | "UNAVAILABLE"
  | "INTERNAL";

/** A failure the client caused or must know about; the error handler turns it into JSON. */
export class AppError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const notFound = (what: string) => new AppError(404, "NOT_FOUND", `${what} not found`);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new AppError(409, "CONFLICT", message, details);
export const invalidState = (message: string) => new AppError(409, "INVALID_STATE", message);
export const badRequest = (message: string, details?: Record<string, unknown>) =>
  new AppError(400, "VALIDATION_ERROR", message, details);
/** MAX_SEATS_PER_USER_PER_SHOW would be passed: `remaining` seats may still be held. */
export const seatLimitReached = (remaining: number, limit: number) =>
  new AppError(
    409,
    "SEAT_LIMIT",
    `At most ${limit} seats per customer for this show; you may hold ${remaining} more`,
    { remaining, limit },
  );

import { z } from "zod";

/**
 * The error catalogue: every code a client may meet, declared once with its HTTP status, its
 * default message, the shape of its `details` and its headers. Services throw codes; the HTTP
 * layer (middleware/error-handler.ts) turns them into responses, and lib/openapi.ts into the
 * per-route error schemas of the OpenAPI document.
 */
interface CatalogueEntry {
  status: 400 | 401 | 402 | 403 | 404 | 409 | 410 | 413 | 415 | 429 | 500 | 503;
  message: string;
  /** When the code applies, for the OpenAPI document. */
  description: string;
  /** `details`, when the code carries them; optional unless always sent. */
  details?: z.ZodType;
  /** Sent with `Retry-After`; the number is the wait when the thrower gives none. */
  retryAfterSeconds?: number;
  headers?: Record<string, string>;
}

const count = () => z.number().int().min(0);
const anyDetails = () => z.record(z.string(), z.unknown());

export const errorCatalogue = {
  VALIDATION_ERROR: {
    status: 400,
    message: "Request validation failed",
    description: "Invalid input; `details` names each bad field (by its path) and what is wrong",
    details: anyDetails().optional(),
  },
  SHOW_STARTED: {
    status: 400,
    message: "The show has already started",
    description: "The show has already started",
  },
  UNAUTHENTICATED: {
    status: 401,
    message: "Authentication required",
    description: "Missing, invalid, expired or revoked token",
    headers: { "WWW-Authenticate": "Bearer" },
  },
  INVALID_CREDENTIALS: {
    status: 401,
    message: "Invalid email or password",
    description: "Wrong password or unknown email (the same answer for both)",
  },
  PAYMENT_REQUIRED: {
    status: 402,
    message: "Pay for the booking before confirming it",
    description: "The booking has no succeeded payment",
  },
  PAYMENT_FAILED: {
    status: 402,
    message: "The payment was declined",
    description: "The (simulated) payment was declined",
    details: z.object({ transaction_id: z.string() }),
  },
  FORBIDDEN: {
    status: 403,
    message: "This route is for administrators",
    description: "The caller's role does not allow this",
  },
  NOT_FOUND: {
    status: 404,
    message: "Not found",
    description: "Unknown id, or a resource that belongs to someone else",
  },
  SEAT_UNAVAILABLE: {
    status: 409,
    message: "Some of the requested seats are not available",
    description: "Some requested seats are taken; `details.failed_seats` lists exactly those",
    details: z.object({ failed_seats: z.array(z.number().int()) }),
  },
  SEAT_LIMIT: {
    status: 409,
    message: "Too many seats for one customer of this show",
    description: "The per-customer seat limit of the show would be passed",
    details: z.object({ remaining: count(), limit: count() }),
  },
  NOT_ENOUGH_SEATS: {
    status: 409,
    message: "Not enough free seats together for this request",
    description:
      "A best-available hold found fewer free seats than asked, or no adjacent block that large",
    details: z.object({ available_seats: count(), largest_block: count() }),
  },
  EMAIL_TAKEN: {
    status: 409,
    message: "An account with this email already exists",
    description: "An account with this email already exists",
  },
  CONFLICT: {
    status: 409,
    message: "Conflict with the current state",
    description: "Conflict with the current state of the resource",
  },
  INVALID_STATE: {
    status: 409,
    message: "The booking is not in a state that allows this",
    description: "The booking's status does not allow this",
  },
  SALES_NOT_OPEN: {
    status: 409,
    message: "Sales for this show have not opened yet",
    description: "Sales for this show have not opened yet",
    details: z.object({ sales_open_at: z.iso.datetime() }),
  },
  NOT_SOLD_OUT: {
    status: 409,
    message: "The show is not sold out",
    description: "Enough seats are free: hold them instead of waiting",
    details: z.object({ free_seats: count() }),
  },
  IDEMPOTENCY_KEY_IN_USE: {
    status: 409,
    message: "This Idempotency-Key is in use",
    description: "The key was used with another body, or its first request still runs",
  },
  HOLD_EXPIRED: {
    status: 410,
    message: "The hold on these seats has expired; hold them again",
    description: "The hold expired",
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    message: "Request body is too large",
    description: "The body is over the size limit",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: "Send the request body as application/json",
    description: "A body of another media type than application/json",
  },
  RATE_LIMITED: {
    status: 429,
    message: "Too many requests",
    description: "Too many requests from this caller; retry after `Retry-After` seconds",
    details: z.object({ max_streams: count().optional() }).optional(),
    retryAfterSeconds: 1,
  },
  WAITING_ROOM: {
    status: 429,
    message: "You are in line for this show",
    description:
      "Queued by the show's waiting room (`details.position`), or pre-queued before sales open (`details.pre_queue`); retry after `Retry-After` seconds",
    details: z.object({
      position: z.number().int().min(1).optional(),
      pre_queue: z.literal(true).optional(),
      sales_open_at: z.iso.datetime().optional(),
      estimated_wait_seconds: count(),
    }),
    retryAfterSeconds: 1,
  },
  INTERNAL: {
    status: 500,
    message: "Internal server error",
    description: "An unexpected failure (logged with the request id)",
  },
  UNAVAILABLE: {
    status: 503,
    message: "The service is unavailable; retry shortly",
    description: "A dependency the request needs is down or busy; retry after `Retry-After`",
    retryAfterSeconds: 1,
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof errorCatalogue;
export const ERROR_CODES = Object.keys(errorCatalogue) as ErrorCode[];

type Catalogued<C extends ErrorCode> = (typeof errorCatalogue)[C];
export type ErrorDetails<C extends ErrorCode> =
  Catalogued<C> extends { details: z.ZodType }
    ? z.output<Catalogued<C>["details"]>
    : Record<string, unknown> | undefined;

/** What a rate limit tells the client besides Retry-After (the RateLimit-* headers). */
export interface RateLimitState {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

type ErrorOptions<C extends ErrorCode> = {
  message?: string;
  retryAfterSeconds?: number;
  rateLimit?: RateLimitState;
} & (undefined extends ErrorDetails<C>
  ? { details?: ErrorDetails<C> }
  : { details: ErrorDetails<C> });

/** A failure the client caused or must know about, named by its catalogue code. */
export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  readonly details?: Record<string, unknown>;
  readonly retryAfterSeconds?: number;
  readonly rateLimit?: RateLimitState;

  constructor(
    readonly code: C,
    ...[options]: undefined extends ErrorDetails<C> ? [ErrorOptions<C>?] : [ErrorOptions<C>]
  ) {
    super(options?.message ?? errorCatalogue[code].message);
    this.name = "AppError";
    this.details = options?.details as Record<string, unknown> | undefined;
    this.retryAfterSeconds = options?.retryAfterSeconds;
    this.rateLimit = options?.rateLimit;
  }
}

export const notFound = (what: string) =>
  new AppError("NOT_FOUND", { message: `${what} not found` });
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new AppError("CONFLICT", { message, details });
export const invalidState = (message: string) => new AppError("INVALID_STATE", { message });
export const badRequest = (message: string, details?: Record<string, unknown>) =>
  new AppError("VALIDATION_ERROR", { message, details });
export const showStarted = (message?: string) => new AppError("SHOW_STARTED", { message });
export const salesNotOpen = (opensAt: number) =>
  new AppError("SALES_NOT_OPEN", { details: { sales_open_at: new Date(opensAt).toISOString() } });
/** MAX_SEATS_PER_USER_PER_SHOW would be passed: `remaining` seats may still be held. */
export const seatLimitReached = (remaining: number, limit: number) =>
  new AppError("SEAT_LIMIT", {
    message: `At most ${limit} seats per customer for this show; you may hold ${remaining} more`,
    details: { remaining, limit },
  });

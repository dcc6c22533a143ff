import { type SQL, sql } from "drizzle-orm";
import { execRows, type Queryable } from "../../db/client";
import { bookingEvent } from "../../db/schema";
import { notFound } from "../../lib/errors";
import { fromCents } from "../../lib/money";
import { currentRequestId } from "../../lib/request-scope";
import { iso } from "../../lib/time";
import type { AuthUser } from "../auth/service";

/**
 * The booking log (schema.ts bookingLog): every statement that changes a booking or its money
 * inserts its entries itself, in a CTE of its own, so the entry commits or rolls back with the
 * change and costs no extra round trip. This module holds what those CTEs share and the reads.
 */

export const BOOKING_EVENTS = bookingEvent.enumValues;
export type BookingEvent = (typeof BOOKING_EVENTS)[number];

/** Who acted: a user (as "user" or "admin"), or null for the system (expiry, waitlist offers). */
export type Actor = Pick<AuthUser, "user_id" | "role">;

/** The columns every entry written by one statement shares: who acted, in which request. */
export interface LogStamp {
  actorUserId: number | null;
  actorRole: Actor["role"] | null;
  requestId: string | null;
}

export function stampBy(actor: Actor | null): LogStamp {
  return {
    actorUserId: actor?.user_id ?? null,
    actorRole: actor?.role ?? null,
    requestId: currentRequestId(),
  };
}

/**
 * A stamp's values (or placeholders for them) in the order of the last three LOG_COLUMNS.
 * Write `insert into booking_log (${LOG_COLUMNS}) select booking_id, event, details,
 * ${stampValues(stamp)} from ...`.
 */
export const stampValues = (stamp: { [Column in keyof LogStamp]: unknown }): SQL =>
  sql`${stamp.actorUserId}::int, ${stamp.actorRole}::user_role, ${stamp.requestId}::text`;

export const LOG_COLUMNS = sql.raw(
  "booking_id, event, details, actor_user_id, actor_role, request_id",
);

/** An entry as the buyer sees it in their booking: what happened, and when. */
export interface BookingLogEntry {
  event: BookingEvent;
  at: string;
}

/** The full entry, for admins. */
export interface AuditedEntry extends BookingLogEntry {
  actor: Actor | null;
  request_id: string | null;
  details: Record<string, unknown> | null;
}

interface LogRow {
  event: BookingEvent;
  at: string | Date;
  actor_user_id: number | null;
  actor_role: Actor["role"] | null;
  request_id: string | null;
  details: Record<string, unknown> | null;
}

/** The `log` column of a booking read: `[{event, at}]`, oldest first. */
export const buyerLogColumn = (bookingId: SQL) =>
  sql`coalesce((select json_agg(json_build_object('event', l.event, 'at', l.at) order by l.log_id)
                from booking_log l where l.booking_id = ${bookingId}), '[]'::json)`;

export const buyerEntry = (entry: BookingLogEntry): BookingLogEntry => ({
  event: entry.event,
  at: iso(entry.at),
});

/** Money is stored in cents; clients read amounts (as everywhere else in the API). */
function detailsForClients(details: LogRow["details"]): AuditedEntry["details"] {
  if (!details || typeof details.amount_cents !== "number") return details;
  const { amount_cents, ...rest } = details;
  return { amount: fromCents(amount_cents), ...rest };
}

/** A booking's full log, oldest first; 404 when there is no such booking. */
export async function auditLogOf(db: Queryable, bookingId: number) {
  const rows = await execRows<LogRow>(
    db,
    sql`select l.event, l.at, l.actor_user_id, l.actor_role::text as actor_role, l.request_id,
          l.details
        from bookings b left join booking_log l on l.booking_id = b.booking_id
        where b.booking_id = ${bookingId}
        order by l.log_id`,
  );
  if (rows.length === 0) throw notFound("Booking");
  const log: AuditedEntry[] = rows
    .filter((row) => row.event !== null)
    .map((row) => ({
      event: row.event,
      at: iso(row.at),
      actor:
        row.actor_user_id === null || row.actor_role === null
          ? null
          : { user_id: row.actor_user_id, role: row.actor_role },
      request_id: row.request_id,
      details: detailsForClients(row.details),
    }));
  return { booking_id: bookingId, log };
}

import { and, eq, inArray, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { bookings, showSeats } from "../db/schema";
import { ACTIVE_BOOKING_STATUSES } from "./admin";

/** Cancels every active booking of a show and frees its seats (used by a forced show delete). */
export async function cancelShowBookings(tx: Queryable, showId: number): Promise<number> {
  const cancelled = await tx
    .update(bookings)
    .set({ status: "CANCELLED", updated_at: sql`now()` })
    .where(and(eq(bookings.show_id, showId), inArray(bookings.status, ACTIVE_BOOKING_STATUSES)))
    .returning({ booking_id: bookings.booking_id });
  await tx
    .update(showSeats)
    .set({ status: "AVAILABLE", booking_id: null, locked_until: null })
    .where(eq(showSeats.show_id, showId));
  return cancelled.length;
}

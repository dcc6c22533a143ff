import { sql } from "drizzle-orm";
import { type Database, execRows } from "../../db/client";
import {
  BOOKED_MARKER,
  bookedMarkerTtlMs,
  type SeatLockEntry,
  type SeatLocks,
} from "../../infra/seat-locks";
import type { Logger } from "../../lib/logger";

export interface SeatLockRepairDependencies {
  db: Database;
  locks: SeatLocks;
  logger: Logger;
  /** The lifetime a hold's lock starts with (HOLD_TTL_SECONDS), to tell a lock's age. */
  holdTtlSeconds: number;
}

/**
 * A hold takes its Redis locks a moment before its transaction commits: a lock younger than
 * this that PostgreSQL does not know yet may belong to a hold in flight, so it is left alone.
 * Far above a hold's usual life (statement and lock timeouts are seconds). A hold slower than
 * this only loses its Redis lock, which the next run restores: PostgreSQL still decides.
 * The age is read against this process's HOLD_TTL_SECONDS: API and worker must agree on it.
 */
const IN_FLIGHT_GRACE_MS = 60_000;

/**
 * Makes the Redis seat locks agree with PostgreSQL again after Redis lost them (a restart
 * without persistence, a failover) or kept locks the app could not drop (Redis unreachable
 * when a booking ended). A lost lock only costs a refused transaction, but a stale one refuses
 * a free seat: a BOOKED marker left behind by a cancel would keep its seat off sale until the
 * show starts.
 *
 * Redis is read before PostgreSQL, so a lock taken after the read is never judged; every write
 * is conditional (SET NX, compare-and-delete), so a booking that moves on meanwhile is never
 * overwritten. A booking ending between the reads and the writes can leave one restored lock
 * behind until the next run.
 */
export async function repairSeatLocks(
  deps: SeatLockRepairDependencies,
): Promise<{ restored: number; discarded: number }> {
  const present = await deps.locks.entries();
  const owed = await owedSeatLocks(deps.db);
  const now = Date.now();
  const holdTtlMs = deps.holdTtlSeconds * 1000;

  const owedByKey = new Map(owed.map((entry) => [lockKey(entry), entry]));
  const stale = present.filter((entry) => {
    const want = owedByKey.get(lockKey(entry));
    if (want?.value === entry.value) return false;
    // Stale whatever their age: a marker on a seat that is not sold, and the hold token of a
    // seat whose own booking has since been confirmed (the marker replaces it).
    if (entry.value === BOOKED_MARKER || entry.value === want?.bookingToken) return true;
    const age = holdTtlMs - entry.ttlMs;
    return !Number.isFinite(entry.ttlMs) || age >= IN_FLIGHT_GRACE_MS;
  });
  const discarded = await deps.locks.discard(stale);

  const kept = new Set(present.map(lockKey));
  for (const entry of stale) kept.delete(lockKey(entry));
  const missing = owed
    .filter((entry) => !kept.has(lockKey(entry)))
    .map((entry) => ({ ...entry, ttlMs: entry.ttlMs - (Date.now() - now) }))
    .filter((entry) => entry.ttlMs > 0);
  const restored = await deps.locks.restore(missing);

  if (restored > 0 || discarded > 0) {
    deps.logger.warn("seat locks repaired to match PostgreSQL", { restored, discarded });
  }
  return { restored, discarded };
}

const lockKey = (entry: { showId: number; seatId: number }) => `${entry.showId}:${entry.seatId}`;

/**
 * The lock every held or sold seat of an upcoming show should have: its hold's token until the
 * hold runs out, or the BOOKED marker until after the show starts.
 */
async function owedSeatLocks(db: Database): Promise<(SeatLockEntry & { bookingToken: string })[]> {
  const rows = await execRows<{
    show_id: number;
    seat_id: number;
    booked: boolean;
    lock_token: string;
    hold_left_ms: number;
    show_starts_at: number;
  }>(
    db,
    sql`select ss.show_id, ss.seat_id, ss.status = 'BOOKED' as booked,
          b.lock_token::text as lock_token,
          (extract(epoch from b.expires_at - clock_timestamp()) * 1000)::float8 as hold_left_ms,
          (extract(epoch from sh.start_time) * 1000)::float8 as show_starts_at
        from show_seats ss
        join shows sh on sh.show_id = ss.show_id
        join bookings b on b.booking_id = ss.booking_id
        where ss.status in ('LOCKED', 'BOOKED') and sh.start_time > now()
          and b.status in ('PENDING', 'CONFIRMED')`,
  );
  return rows.map((row) => ({
    showId: row.show_id,
    seatId: row.seat_id,
    value: row.booked ? BOOKED_MARKER : row.lock_token,
    ttlMs: row.booked ? bookedMarkerTtlMs(row.show_starts_at) : row.hold_left_ms,
    bookingToken: row.lock_token,
  }));
}

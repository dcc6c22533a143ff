import type { Sql } from "../bench/databases";

/**
 * After the traffic: wait until the last hold has run out and the cleanup job has had a pass
 * after that, then until no PENDING booking is left (or give up, and let the checks report
 * what is left).
 */

export interface DrainResult {
  /** PENDING bookings when the traffic stopped. */
  pending_at_stop: number;
  waited_s: number;
  pending_left: number;
}

const POLL_MS = 1000;
/** Beyond the last expiry and the first cleanup pass after it, at most this many passes more. */
const EXTRA_PASSES = 3;
const SLACK_S = 30;

async function pendingState(sql: Sql): Promise<{ pending: number; untilLastExpiryS: number }> {
  const [row] = await sql<{ pending: number; until_last_expiry_s: number | null }[]>`
    select count(*)::int as pending,
      extract(epoch from max(expires_at) - now())::float8 as until_last_expiry_s
    from bookings where status = 'PENDING'`;
  return { pending: row?.pending ?? 0, untilLastExpiryS: row?.until_last_expiry_s ?? 0 };
}

export async function waitForExpiries(sql: Sql, cleanupEveryS: number): Promise<DrainResult> {
  const started = performance.now();
  const first = await pendingState(sql);
  const untilFirstPassS = Math.max(0, first.untilLastExpiryS) + cleanupEveryS + 1;
  const giveUpAt = started + (untilFirstPassS + EXTRA_PASSES * cleanupEveryS + SLACK_S) * 1000;
  if (first.pending > 0) {
    console.log(
      `  ${first.pending} hold(s) pending; the last runs out in ` +
        `${Math.max(0, first.untilLastExpiryS).toFixed(1)} s, cleanup every ${cleanupEveryS} s`,
    );
    await Bun.sleep(untilFirstPassS * 1000);
  }
  let left = first.pending === 0 ? 0 : (await pendingState(sql)).pending;
  while (left > 0 && performance.now() < giveUpAt) {
    await Bun.sleep(POLL_MS);
    left = (await pendingState(sql)).pending;
  }
  return {
    pending_at_stop: first.pending,
    waited_s: Math.round((performance.now() - started) / 100) / 10,
    pending_left: left,
  };
}

/** Bookings by status, for the report. */
export async function bookingsByStatus(sql: Sql): Promise<Record<string, number>> {
  const rows = await sql<{ status: string; count: number }[]>`
    select status::text as status, count(*)::int as count from bookings
    group by status order by status`;
  return Object.fromEntries(rows.map((row) => [row.status, row.count]));
}

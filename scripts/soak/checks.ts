import type { Sql } from "../bench/databases";
import type { OversellCheck } from "../bench/oversell";
import type { Ledger } from "./ledger";
import type { RssTrend } from "./memory";
import type { TrafficSummary } from "./traffic";

/**
 * The soak's verdict on the data, once every hold has run out: bookings are in a final state
 * (or still within their hold), the database agrees with what the clients were told, money
 * follows the bookings, and the oversell check of the bench (SQL and Redis) passes for every
 * show with the clients' confirmed bookings as what they were told.
 */

export interface Check {
  name: string;
  passed: boolean;
  detail: string;
  /** The first violations found, as sentences. */
  violations: string[];
}

const SHOWN_VIOLATIONS = 20;

export function check(name: string, violations: string[], detail: string): Check {
  return {
    name,
    passed: violations.length === 0,
    detail: violations.length === 0 ? detail : `${violations.length} violation(s); ${detail}`,
    violations: violations.slice(0, SHOWN_VIOLATIONS),
  };
}

/** Every booking is CONFIRMED, CANCELLED or EXPIRED, or PENDING with its hold still running. */
export async function bookingStatuses(sql: Sql): Promise<Check> {
  const rows = await sql<{ booking_id: number; status: string; expires_at: Date }[]>`
    select booking_id, status::text as status, expires_at from bookings
    where not (status in ('CONFIRMED', 'CANCELLED', 'EXPIRED')
      or (status = 'PENDING' and expires_at > now()))
    order by booking_id`;
  return check(
    "every booking final or within its hold",
    rows.map(
      (row) =>
        `booking ${row.booking_id} is ${row.status} ` +
        `(hold ran out at ${row.expires_at.toISOString()})`,
    ),
    "CONFIRMED, CANCELLED, EXPIRED, or PENDING before expires_at",
  );
}

/** The database's bookings are exactly the clients' ones, each in the status they expect. */
export async function ledgerAgrees(sql: Sql, ledger: Ledger): Promise<Check> {
  const rows = await sql<
    { booking_id: number; show_id: number; status: string; seats: number[] }[]
  >`
    select b.booking_id, b.show_id, b.status::text as status,
      array_agg(bs.seat_id order by bs.seat_id) as seats
    from bookings b join booking_seats bs on bs.booking_id = b.booking_id
    group by b.booking_id`;
  const stored = new Map(rows.map((row) => [row.booking_id, row]));
  const violations: string[] = [];
  let compared = 0;
  for (const entry of ledger.all()) {
    const row = stored.get(entry.booking_id);
    stored.delete(entry.booking_id);
    if (!row) {
      violations.push(`booking ${entry.booking_id} was held by a client but is not stored`);
      continue;
    }
    const seats = [...entry.seat_ids].sort((a, b) => a - b).join(",");
    if (row.show_id !== entry.show_id || row.seats.join(",") !== seats) {
      violations.push(
        `booking ${entry.booking_id}: stored show ${row.show_id} seats ${row.seats}, ` +
          `the hold answer said show ${entry.show_id} seats ${seats}`,
      );
    }
    if (entry.expected === "unknown") continue;
    compared += 1;
    if (row.status !== entry.expected) {
      violations.push(
        `booking ${entry.booking_id} is ${row.status}; its client expects ${entry.expected}`,
      );
    }
  }
  for (const row of stored.values()) {
    violations.push(
      `booking ${row.booking_id} (${row.status}) exists but no client was told of it`,
    );
  }
  return check(
    "bookings agree with the clients",
    violations,
    `${rows.length} stored, ${ledger.size} held by clients, ${compared} with a known outcome`,
  );
}

/** A CONFIRMED booking has exactly one live payment of its amount; an ended one has none. */
export async function paymentsFollowBookings(sql: Sql): Promise<Check> {
  const rows = await sql<
    { booking_id: number; status: string; live: number; live_cents: number }[]
  >`
    with paid as (
      select b.booking_id, b.status::text as status, b.amount_cents,
        count(p.payment_id) filter (where p.status = 'SUCCEEDED')::int as live,
        coalesce(sum(p.amount_cents) filter (where p.status = 'SUCCEEDED'), 0)::int as live_cents
      from bookings b left join payments p on p.booking_id = b.booking_id
      group by b.booking_id
    )
    select booking_id, status, live, live_cents from paid
    where (status = 'CONFIRMED' and (live <> 1 or live_cents <> amount_cents))
      or (status in ('CANCELLED', 'EXPIRED') and live > 0)
    order by booking_id`;
  const [refunds] = await sql<{ refunded: number }[]>`
    select count(*)::int as refunded from payments where status = 'REFUNDED'`;
  return check(
    "payments follow bookings",
    rows.map(
      (row) =>
        `booking ${row.booking_id} is ${row.status} with ${row.live} live payment(s) ` +
        `of ${row.live_cents} cents in total`,
    ),
    `CONFIRMED paid once in full, ended bookings refunded (${refunds?.refunded ?? 0} refunds)`,
  );
}

/** The bench's oversell check for every show, told the clients' confirmed bookings. */
export async function noOverselling(
  oversell: OversellCheck,
  showIds: number[],
  seatIds: number[],
  ledger: Ledger,
): Promise<Check> {
  const violations: string[] = [];
  let oversold = 0;
  for (const showId of showIds) {
    const confirmed = ledger.confirmedSeats(showId);
    const report = await oversell.run(showId, seatIds, { held: confirmed, confirmed });
    oversold += report.oversold_seats;
    violations.push(...report.violations.map((violation) => `show ${showId}: ${violation}`));
    const unshown = report.violation_count - report.violations.length;
    if (unshown > 0) violations.push(`show ${showId}: ${unshown} more violation(s)`);
  }
  return check(
    "no overselling, seats and Redis locks agree",
    violations,
    `${showIds.length} show(s), oversold seats: ${oversold}`,
  );
}

/** No 5xx and no request without an answer; no answer outside the contract. */
export function trafficChecks(traffic: TrafficSummary): Check[] {
  return [
    check(
      "no 5xx, timeouts or network errors",
      traffic.failures > 0 ? [`${traffic.failures} failed request(s), see the examples`] : [],
      `${traffic.requests.toLocaleString("en-US")} requests`,
    ),
    check(
      "every answer as the contract says",
      traffic.unexpected > 0
        ? [`${traffic.unexpected} unexpected answer(s), see the examples`]
        : [],
      "hold 200/409, pay/confirm/cancel 200, confirm after expiry 410, reads 200",
    ),
  ];
}

/** The cleanup job expired holds during the run and never lagged far behind. */
export function workerChecks(
  expiredByWorker: number | undefined,
  maxOverdueS: number,
  allowedOverdueS: number,
): Check[] {
  return [
    check(
      "the worker expired abandoned holds",
      expiredByWorker === undefined
        ? ["the worker's /metrics could not be read"]
        : expiredByWorker === 0
          ? ["the worker expired no booking"]
          : [],
      `${expiredByWorker ?? "?"} expired by the cleanup job`,
    ),
    check(
      "the worker kept up",
      maxOverdueS > allowedOverdueS
        ? [`a hold stayed PENDING ${maxOverdueS} s past its expiry (allowed ${allowedOverdueS} s)`]
        : [],
      `oldest overdue hold in any sample: ${maxOverdueS} s (allowed ${allowedOverdueS} s)`,
    ),
  ];
}

/** The API's RSS at the end is within `maxPercent` of its RSS after the warm-up. */
export function memoryCheck(name: string, trend: RssTrend | undefined, maxPercent: number): Check {
  if (!trend) return check(`${name} memory bounded`, ["no RSS samples"], "");
  return check(
    `${name} memory bounded`,
    trend.growth_percent > maxPercent
      ? [`RSS grew ${trend.growth_percent}% (${trend.start_mb} → ${trend.end_mb} MB)`]
      : [],
    `RSS ${trend.start_mb} → ${trend.end_mb} MB (${trend.growth_percent}%, at most ${maxPercent}%)`,
  );
}

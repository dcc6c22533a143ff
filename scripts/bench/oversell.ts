import type { RedisClient } from "../../src/infra/redis";
import { BOOKED_MARKER, seatLockKey } from "../../src/infra/seat-locks";
import {
  bookingLogOutOfStep,
  doubleSoldSeats,
  doubleSoldSentence,
  heldSeats,
  hiddenRowSentence,
  logOutOfStepSentence,
  outOfStepSentence,
  rowsHiddenFromPickers,
  seatRowsOutOfStep,
} from "../../test/support/booking-invariants";
import { connectPostgres, rowsOf, type Sql } from "./databases";
import { openRedis } from "./redis";
import type { Target } from "./server";

/** What the clients of one show were told: seat id → booking id. */
export interface SeatsTold {
  /** From every 200 answer to POST /bookings/lock. */
  held: Map<number, number>;
  /** From every 200 answer to POST /bookings/:id/confirm (S4). */
  confirmed?: Map<number, number>;
}

export interface OversellReport {
  checked: boolean;
  /** Seats in more than one PENDING/CONFIRMED booking. */
  oversold_seats: number;
  violation_count: number;
  /** The first violations found, as sentences. */
  violations: string[];
  skipped_reason?: string;
}

const SHOWN_VIOLATIONS = 20;

/**
 * The booking engine's promises after a scenario, checked in SQL and against the Redis seat
 * locks (test/support/booking-invariants.ts, as the tests check them, plus what clients were told):
 * no seat in two active bookings; active bookings' seats are exactly the seats clients were
 * told they got; show_seats' LOCKED/BOOKED rows are exactly those seats; a LOCKED seat's key
 * holds its booking's lock_token, a BOOKED seat's key the BOOKED marker, a free seat no key;
 * and no free block is hidden from best-available picks (rowsHiddenFromPickers).
 */
export class OversellCheck {
  private readonly sql?: Sql;
  /** Opened by the first check that compares locks. */
  private redis?: Promise<RedisClient>;

  constructor(private readonly target: Target) {
    this.sql = target.databaseUrl ? connectPostgres(target.databaseUrl) : undefined;
  }

  async run(showId: number, venueSeatIds: number[], told: SeatsTold): Promise<OversellReport> {
    if (!this.sql) {
      return {
        checked: false,
        oversold_seats: 0,
        violation_count: 0,
        violations: [],
        skipped_reason: "no database access (set BENCH_DATABASE_URL)",
      };
    }
    const oversold = await this.doubleSold(this.sql, showId);
    const violations = [
      ...oversold,
      ...(await this.seatRowsDisagree(this.sql, showId)),
      ...(await this.logDisagrees(this.sql, showId)),
      ...(await this.rowsHidden(this.sql, showId)),
      ...(await this.clientsWereToldOtherwise(this.sql, showId, told)),
      ...(await this.locksDisagree(this.sql, showId, venueSeatIds)),
    ];
    return {
      checked: true,
      oversold_seats: oversold.length,
      violation_count: violations.length,
      violations: violations.slice(0, SHOWN_VIOLATIONS),
    };
  }

  async close(): Promise<void> {
    if (this.redis) {
      // A client that never connected has nothing to close; its error was reported by the check.
      const redis = await this.redis.catch(() => undefined);
      redis?.disconnect();
    }
    await this.sql?.end();
  }

  private async doubleSold(sql: Sql, showId: number): Promise<string[]> {
    return (await rowsOf(sql, doubleSoldSeats(showId))).map(doubleSoldSentence);
  }

  private async seatRowsDisagree(sql: Sql, showId: number): Promise<string[]> {
    return (await rowsOf(sql, seatRowsOutOfStep(showId))).map(outOfStepSentence);
  }

  private async logDisagrees(sql: Sql, showId: number): Promise<string[]> {
    return (await rowsOf(sql, bookingLogOutOfStep(showId))).map(logOutOfStepSentence);
  }

  private async rowsHidden(sql: Sql, showId: number): Promise<string[]> {
    return (await rowsOf(sql, rowsHiddenFromPickers(showId))).map(hiddenRowSentence);
  }

  private async clientsWereToldOtherwise(
    sql: Sql,
    showId: number,
    told: SeatsTold,
  ): Promise<string[]> {
    const rows = await sql<{ seat_id: number; booking_id: number; status: string }[]>`
      select bs.seat_id, b.booking_id, b.status::text as status
      from booking_seats bs join bookings b on b.booking_id = bs.booking_id
      where b.show_id = ${showId} and b.status in ('PENDING', 'CONFIRMED')`;
    const active = new Map(rows.map((row) => [row.seat_id, row.booking_id]));
    const violations = compareSeats(active, told.held, "active booking", "hold answer");
    if (told.confirmed) {
      const confirmed = new Map(
        rows
          .filter((row) => row.status === "CONFIRMED")
          .map((row) => [row.seat_id, row.booking_id]),
      );
      violations.push(
        ...compareSeats(confirmed, told.confirmed, "CONFIRMED booking", "confirm answer"),
      );
    }
    return violations;
  }

  private async locksDisagree(sql: Sql, showId: number, venueSeatIds: number[]): Promise<string[]> {
    const rows = await rowsOf(sql, heldSeats(showId));
    const expected = new Map(
      rows.map((row) => [row.seat_id, row.status === "BOOKED" ? BOOKED_MARKER : row.lock_token]),
    );
    const keys = venueSeatIds.map((seatId) => seatLockKey(showId, seatId, this.target.redisPrefix));
    // One MGET, even on a cluster: a show's lock keys share a hash slot ({show id}).
    this.redis ??= openRedis(this.target.redis);
    const values = await (await this.redis).mget(...keys);
    const violations: string[] = [];
    venueSeatIds.forEach((seatId, index) => {
      const want = expected.get(seatId) ?? null;
      const have = values[index] ?? null;
      if (want === have) return;
      violations.push(
        want === null
          ? `seat ${seatId} is AVAILABLE but its Redis lock is ${have}`
          : `seat ${seatId} should have Redis lock ${want} but has ${have ?? "none"}`,
      );
    });
    return violations;
  }
}

/** Differences between what the database holds and what the clients were told. */
function compareSeats(
  stored: Map<number, number>,
  told: Map<number, number>,
  storedName: string,
  toldName: string,
): string[] {
  const violations: string[] = [];
  for (const [seatId, bookingId] of stored) {
    const toldBooking = told.get(seatId);
    if (toldBooking === undefined) {
      violations.push(
        `seat ${seatId} is in ${storedName} ${bookingId}, but no ${toldName} said so`,
      );
    } else if (toldBooking !== bookingId) {
      violations.push(
        `seat ${seatId} is in ${storedName} ${bookingId}, but a ${toldName} named booking ${toldBooking}`,
      );
    }
  }
  for (const [seatId, bookingId] of told) {
    if (!stored.has(seatId)) {
      violations.push(
        `a ${toldName} gave seat ${seatId} to booking ${bookingId}, not in any ${storedName}`,
      );
    }
  }
  return violations;
}

import { and, eq, gt, min, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { seats, showSeats, shows } from "../db/schema";
import type { SeatMapVersions } from "../infra/seat-map-versions";
import { notFound } from "../lib/errors";
import type { Logger } from "../lib/logger";
import { effectiveSeatStatus, seatLayoutOrder } from "./catalog";

export interface SerializedSeatMap {
  /** The JSON body `{show_id, seats:[…]}`, serialised once and served as is. */
  body: string;
  etag: string;
}

interface CachedMap extends SerializedSeatMap {
  version: number;
  /**
   * The earliest running hold's end (then a LOCKED seat turns AVAILABLE without any event), or
   * MAX_AGE_MS after building, whichever comes first.
   */
  validUntil: number;
}

const MAX_CACHED_SHOWS = 200;
/** Even without a change signal a map is rebuilt this often (a lost version bump heals). */
const MAX_AGE_MS = 10_000;

/**
 * Seat maps are the hottest read of a sale (every client polls a 5,000-seat map), so each is
 * built with one query, serialised once and cached until a seat of the show changes (see
 * SeatMapVersions) or a hold in it runs out.
 */
export class SeatMapService {
  private readonly cache = new Map<number, CachedMap>();

  constructor(
    private readonly db: Database,
    private readonly versions: SeatMapVersions,
    private readonly logger: Logger,
  ) {}

  async get(showId: number): Promise<SerializedSeatMap> {
    const version = await this.versions.current(showId).catch((error) => {
      this.logger.warn("seat map versions unavailable; building uncached", {
        error: String(error),
      });
      return undefined;
    });
    const cached = this.cache.get(showId);
    if (
      cached &&
      version !== undefined &&
      cached.version === version &&
      Date.now() < cached.validUntil
    ) {
      return cached;
    }
    const built = await this.build(showId);
    if (version !== undefined) {
      this.cache.delete(showId);
      this.cache.set(showId, { ...built, version });
      if (this.cache.size > MAX_CACHED_SHOWS)
        this.cache.delete(this.cache.keys().next().value as number);
    }
    return built;
  }

  /** Call after a change to the show's seats has committed. */
  async changed(showId: number): Promise<void> {
    this.cache.delete(showId);
    try {
      await this.versions.bump(showId);
    } catch (error) {
      this.logger.warn("could not bump the seat map version", {
        show_id: showId,
        error: String(error),
      });
    }
  }

  private async build(showId: number): Promise<Omit<CachedMap, "version">> {
    const [rows, [holds]] = await Promise.all([
      this.db
        .select({
          seat_id: seats.seat_id,
          seat_row: seats.seat_row,
          seat_number: seats.seat_number,
          status: effectiveSeatStatus,
        })
        .from(showSeats)
        .innerJoin(seats, eq(seats.seat_id, showSeats.seat_id))
        .where(eq(showSeats.show_id, showId))
        .orderBy(...seatLayoutOrder),
      this.db
        .select({ next_expiry: min(showSeats.locked_until) })
        .from(showSeats)
        .where(
          and(
            eq(showSeats.show_id, showId),
            eq(showSeats.status, "LOCKED"),
            gt(showSeats.locked_until, sql`now()`),
          ),
        ),
    ]);
    if (rows.length === 0) await this.requireShow(showId);
    const body = JSON.stringify({ show_id: showId, seats: rows });
    const nextExpiry = holds?.next_expiry;
    return {
      body,
      etag: `"${Bun.hash(body).toString(36)}"`,
      validUntil: Math.min(
        nextExpiry ? new Date(nextExpiry).getTime() : Number.POSITIVE_INFINITY,
        Date.now() + MAX_AGE_MS,
      ),
    };
  }

  private async requireShow(showId: number) {
    const [show] = await this.db
      .select({ show_id: shows.show_id })
      .from(shows)
      .where(eq(shows.show_id, showId));
    if (!show) throw notFound("Show");
  }
}

import { eq, sql } from "drizzle-orm";
import { type Database, execRows } from "../db/client";
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
  /** Builds in flight, by `${show}:${version}`. */
  private readonly building = new Map<string, Promise<Omit<CachedMap, "version">>>();

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
    const built = await this.buildShared(showId, version);
    // A slow build of an older version never replaces a newer map.
    const current = this.cache.get(showId);
    if (version !== undefined && !(current && current.version > version)) {
      this.cache.delete(showId);
      this.cache.set(showId, { ...built, version });
      if (this.cache.size > MAX_CACHED_SHOWS)
        this.cache.delete(this.cache.keys().next().value as number);
    }
    return built;
  }

  /**
   * One build per show and version at a time: the readers that find the map out of date
   * together (all of them, the moment a popular show's seats change) share one query. A build
   * started after reading version v reflects every change up to v, so sharing it is exact.
   */
  private buildShared(showId: number, version: number | undefined) {
    // Versions unreadable (Redis down): nothing tells a reader which build reflects its own
    // writes, so each reads for itself.
    if (version === undefined) return this.build(showId);
    const key = `${showId}:${version}`;
    const running = this.building.get(key);
    if (running) return running;
    const map = this.build(showId).finally(() => this.building.delete(key));
    this.building.set(key, map);
    return map;
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

  /**
   * PostgreSQL writes the seats' JSON itself (one row, not 5,000 to parse, map and stringify):
   * during a sale the map changes with every hold, and its rebuilds were most of the API's CPU.
   * The text is what JSON.stringify would write for the same rows.
   */
  private async build(showId: number): Promise<Omit<CachedMap, "version">> {
    const [row] = await execRows<{ seats: string | null; next_expiry: string | Date | null }>(
      this.db,
      sql`select
            string_agg(
              format('{"seat_id":%s,"seat_row":%s,"seat_number":%s,"status":"%s"}',
                ${showSeats.seat_id}, to_json(${seats.seat_row})::text, ${seats.seat_number},
                ${effectiveSeatStatus}),
              ',' order by ${sql.join(seatLayoutOrder, sql`, `)}) as seats,
            min(${showSeats.locked_until}) filter (
              where ${showSeats.status} = 'LOCKED' and ${showSeats.locked_until} > now()
            ) as next_expiry
          from ${showSeats} join ${seats} on ${seats.seat_id} = ${showSeats.seat_id}
          where ${showSeats.show_id} = ${showId}`,
    );
    if (!row?.seats) await this.requireShow(showId);
    const body = `{"show_id":${showId},"seats":[${row?.seats ?? ""}]}`;
    const nextExpiry = row?.next_expiry;
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

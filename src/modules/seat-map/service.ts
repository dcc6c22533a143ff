import type { Database } from "../../db/client";
import type { SeatMapVersions } from "../../infra/seat-map-versions";
import { AppError, notFound } from "../../lib/errors";
import type { Logger } from "../../lib/logger";
import { SeatLayout } from "./layout";
import { isShowListed, readMapStatuses } from "./queries";

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
/** A layout that changes again between each read and the next gives up after this many. */
const MAX_LAYOUT_READS = 3;

/** Keeps at most MAX_CACHED_SHOWS entries, forgetting the least recently remembered. */
function remember<V>(cache: Map<number, V>, showId: number, value: V): void {
  cache.delete(showId);
  cache.set(showId, value);
  if (cache.size > MAX_CACHED_SHOWS) cache.delete(cache.keys().next().value as number);
}

function serialize(
  showId: number,
  seatObjects: string,
  nextExpiry: string | Date | null,
): Omit<CachedMap, "version"> {
  const body = `{"show_id":${showId},"seats":[${seatObjects}]}`;
  return {
    body,
    etag: `"${Bun.hash(body).toString(36)}"`,
    validUntil: Math.min(
      nextExpiry ? new Date(nextExpiry).getTime() : Number.POSITIVE_INFINITY,
      Date.now() + MAX_AGE_MS,
    ),
  };
}

/**
 * Seat maps are the hottest read of a sale (every client polls a 5,000-seat map), so each is
 * built from one query of its seats' statuses and the show's cached layout, serialised once
 * and cached until a seat of the show changes (see SeatMapVersions) or a hold in it runs out.
 */
export class SeatMapService {
  private readonly cache = new Map<number, CachedMap>();
  private readonly layouts = new Map<number, SeatLayout>();
  /** Builds in flight, by `${show}:${version}`. */
  private readonly building = new Map<string, Promise<Omit<CachedMap, "version">>>();

  constructor(
    private readonly db: Database,
    readonly versions: SeatMapVersions,
    private readonly logger: Logger,
  ) {}

  async get(showId: number): Promise<SerializedSeatMap> {
    const version = await this.versionOf(showId);
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
      remember(this.cache, showId, { ...built, version });
    }
    return built;
  }

  /** The show's map version; undefined when the versions cannot be read (built uncached). */
  private async versionOf(showId: number): Promise<number | undefined> {
    try {
      const version = await this.versions.current(showId);
      if (version !== undefined) return version;
      // No version yet (no change since Redis started): one is started only for a show that
      // exists, so reads of unknown ids leave nothing behind in Redis.
      await this.requireShow(showId);
      return await this.versions.start(showId);
    } catch (error) {
      if (error instanceof AppError) throw error;
      this.logger.warn("seat map versions unavailable; building uncached", {
        error: String(error),
      });
      return undefined;
    }
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

  /**
   * Call after a change to the show's seats has committed. Rejects when the version could not
   * be bumped (Redis unreachable): other instances still serve their cached maps then.
   */
  async changed(showId: number): Promise<void> {
    this.cache.delete(showId);
    await this.versions.bump(showId);
  }

  /**
   * One query reads every seat's status letter in seat id order; the layout, cached per show,
   * turns them into the JSON body. If the show's seats are no longer those of the cached
   * layout (their fingerprints differ), the layout is read again (and the statuses too, should
   * it have changed in between).
   */
  private async build(showId: number): Promise<Omit<CachedMap, "version">> {
    for (let attempt = 1; ; attempt++) {
      const row = await readMapStatuses(this.db, showId);
      if (!row?.fingerprint || row.statuses === null) {
        await this.requireShow(showId);
        return serialize(showId, "", null);
      }
      const layout = await this.layoutOf(showId, row.fingerprint);
      if (layout) return serialize(showId, layout.render(row.statuses), row.next_expiry);
      if (attempt === MAX_LAYOUT_READS) {
        // Admins are changing the layout right now: a moment later the map can be built.
        throw new AppError("UNAVAILABLE", {
          message: "The show's seat layout is being changed; retry shortly",
        });
      }
    }
  }

  /** The show's layout if its seats have `fingerprint`; undefined if they have changed. */
  private async layoutOf(showId: number, fingerprint: string): Promise<SeatLayout | undefined> {
    const cached = this.layouts.get(showId);
    if (cached?.fingerprint === fingerprint) return cached;
    const layout = await SeatLayout.read(this.db, showId);
    remember(this.layouts, showId, layout);
    return layout.fingerprint === fingerprint ? layout : undefined;
  }

  private async requireShow(showId: number) {
    if (!(await isShowListed(this.db, showId))) throw notFound("Show");
  }
}

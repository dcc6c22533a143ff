import type Redis from "ioredis";

/**
 * A counter per show, bumped after every committed change to its seats. Cached seat maps are
 * labelled with the counter they were built under; a different counter means rebuild.
 * In Redis the counter is shared, so a change made through one API instance invalidates the
 * caches of all of them.
 */
export interface SeatMapVersions {
  current(showId: number): Promise<number>;
  bump(showId: number): Promise<void>;
}

export class RedisSeatMapVersions implements SeatMapVersions {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "",
  ) {}

  async current(showId: number) {
    return Number((await this.redis.get(this.key(showId))) ?? 0);
  }

  async bump(showId: number) {
    await this.redis.incr(this.key(showId));
  }

  private key(showId: number) {
    return `${this.prefix}seatmap_version:{${showId}}`;
  }
}

export class MemorySeatMapVersions implements SeatMapVersions {
  private readonly versions = new Map<number, number>();

  async current(showId: number) {
    return this.versions.get(showId) ?? 0;
  }

  async bump(showId: number) {
    this.versions.set(showId, (this.versions.get(showId) ?? 0) + 1);
  }
}

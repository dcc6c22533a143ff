import type { SeatChange } from "../../infra/seat-changes";
import type { SeatEvents } from "../../infra/seat-events";
import type { Logger } from "../../lib/logger";
import type { SeatMapService } from "./service";

const RETRY_MS = 1000;

/**
 * Tells every instance about committed seat changes: the seat map version first (a stream that
 * gets the event and then reads a snapshot must not be served the map cached before the
 * change), then the event. With Redis unreachable both can fail, and then other instances would
 * keep serving their cached map (until its age limit) and their live streams the old statuses
 * for good. So a show whose change could not be told is told again every second until it goes
 * through, as a resynchronisation (`layoutChanged`: a new version and a fresh snapshot for
 * every stream), which also covers any change of the show lost meanwhile. Never rejects.
 */
export class SeatChangeAnnouncer {
  private readonly untold = new Set<number>();
  private timer?: ReturnType<typeof setTimeout>;
  private closed = false;

  constructor(
    private readonly seatMap: Pick<SeatMapService, "changed">,
    private readonly events: Pick<SeatEvents, "publish">,
    private readonly logger: Logger,
    private readonly retryMs = RETRY_MS,
  ) {}

  async announce(change: SeatChange): Promise<void> {
    try {
      await this.tell(change);
    } catch (error) {
      this.logger.warn("could not announce a seat change; the show will be resynchronised", {
        show_id: change.showId,
        error: String(error),
      });
      this.untold.add(change.showId);
      this.scheduleRetry();
    }
  }

  /** Shows whose last change has not been told yet. */
  get pending(): number[] {
    return [...this.untold];
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private async tell(change: SeatChange) {
    await this.seatMap.changed(change.showId);
    await this.events.publish(change);
  }

  /** One retry pass at a time: the next is scheduled when this one has ended. */
  private scheduleRetry() {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => void this.retry(), this.retryMs);
  }

  /** Tells the shows again, in turn; stops at the first failure, Redis being still away. */
  private async retry() {
    for (const showId of [...this.untold]) {
      if (this.closed) return;
      // Taken off first: a change of the show that fails meanwhile puts it back for later.
      this.untold.delete(showId);
      try {
        await this.tell({ showId, layoutChanged: true });
      } catch (error) {
        this.untold.add(showId);
        this.logger.warn("still cannot announce seat changes; retrying", {
          shows: this.untold.size,
          error: String(error),
        });
        break;
      }
    }
    this.timer = undefined;
    if (this.untold.size > 0) this.scheduleRetry();
  }
}

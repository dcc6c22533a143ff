import type { RoomState, WaitingRoomStore } from "../infra/waiting-room-store";
import { AppError } from "../lib/errors";
import type { Logger } from "../lib/logger";

export interface WaitingRoomSettings {
  enabled: boolean;
  threshold: number;
  admissionTtlSeconds: number;
}

/** Asks for the line of a show to move (a BullMQ job in production, a direct call embedded). */
export type AdmissionTrigger = (showId: number) => Promise<void>;

export interface WaitingRoomStatus {
  status: "open" | "queued" | "admitted";
  position?: number;
  estimated_wait_seconds?: number;
  admitted_until?: string;
}

/**
 * The per-show virtual waiting room in front of holds. Like the rate limiter it fails open:
 * if its store is unreachable, callers go straight to the hold, which stays correct anyway.
 */
export class WaitingRoom {
  constructor(
    private readonly store: WaitingRoomStore,
    private readonly settings: WaitingRoomSettings,
    private readonly triggerAdmission: AdmissionTrigger,
    private readonly logger: Logger,
  ) {}

  /** Lets an admitted caller through; answers everyone else 429 WAITING_ROOM with a place. */
  async enter(showId: number, userId: number): Promise<void> {
    if (!this.settings.enabled) return;
    const state = await this.guard(() => this.store.enter(showId, userId, Date.now()));
    if (state?.status !== "queued") return;
    const view = this.describe(state);
    const wait = view.estimated_wait_seconds ?? 1;
    throw new AppError(
      429,
      "WAITING_ROOM",
      `You are number ${state.position} in line for this show; retry after the time in Retry-After.`,
      { position: state.position, estimated_wait_seconds: wait },
      { "Retry-After": String(Math.min(Math.max(wait, 1), 30)) },
    );
  }

  async status(showId: number, userId: number): Promise<WaitingRoomStatus> {
    if (!this.settings.enabled) return { status: "open" };
    const state = await this.guard(() => this.store.status(showId, userId, Date.now()));
    return state ? this.describe(state) : { status: "open" };
  }

  /** The caller's session ended: free the place and let the line move. */
  async leave(showId: number, userId: number): Promise<void> {
    if (!this.settings.enabled) return;
    await this.guard(async () => {
      await this.store.leave(showId, userId);
      await this.triggerAdmission(showId);
    });
  }

  /**
   * A queued user's wait if every admitted user took their whole admission: places free up at
   * threshold per ADMISSION_TTL at worst. Pessimistic on purpose; real waits are shorter.
   */
  private describe(state: RoomState): WaitingRoomStatus {
    if (state.status === "admitted") {
      return { status: "admitted", admitted_until: new Date(state.admittedUntil).toISOString() };
    }
    if (state.status === "queued") {
      const secondsPerPlace = this.settings.admissionTtlSeconds / this.settings.threshold;
      return {
        status: "queued",
        position: state.position,
        estimated_wait_seconds: Math.ceil(state.position * secondsPerPlace),
      };
    }
    return { status: "open" };
  }

  private async guard<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (error) {
      this.logger.warn("waiting room unavailable; letting the caller through", {
        error: String(error),
      });
      return undefined;
    }
  }
}

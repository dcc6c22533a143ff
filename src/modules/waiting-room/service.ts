import { randomInt } from "node:crypto";
import type { LinePace, RoomState, WaitingRoomStore } from "../../infra/waiting-room-store";
import { AppError, salesNotOpen } from "../../lib/errors";
import type { Logger } from "../../lib/logger";

export interface WaitingRoomSettings {
  enabled: boolean;
  threshold: number;
  admissionTtlSeconds: number;
}

/** Asks for the line of a show to move (a BullMQ job in production, a direct call embedded). */
export type AdmissionTrigger = (showId: number) => Promise<void>;

/** Asks a queued client back within 1 to 30 seconds, whatever the estimated wait. */
const retryAfter = (waitSeconds: number) => Math.min(Math.max(waitSeconds, 1), 30);

/** Everyone who arrives early waits for the draw at opening time. */
const preQueued = (opensAt: number, now: number) => {
  const wait = Math.ceil((opensAt - now) / 1000);
  return new AppError("WAITING_ROOM", {
    message:
      "Sales open soon: you are in the pre-queue, whose order is drawn at random when they open.",
    details: {
      pre_queue: true,
      sales_open_at: new Date(opensAt).toISOString(),
      estimated_wait_seconds: wait,
    },
    retryAfterSeconds: retryAfter(wait),
  });
};

const hasPace = (pace: LinePace) => pace.admissions > 0 && pace.spanMs > 0;

export interface WaitingRoomStatus {
  status: "open" | "queued" | "admitted";
  /** Set while sales have not opened yet. */
  sales_open_at?: string;
  position?: number;
  estimated_wait_seconds?: number;
  admitted_until?: string;
}

/**
 * The per-show virtual waiting room in front of holds. Like the rate limiter it fails open:
 * if its store is unreachable, callers go straight to the hold, which stays correct anyway.
 */
export class WaitingRoom {
  /** Shows whose opening draw this instance has seen done (saves a round trip per hold). */
  private readonly opened = new Set<number>();

  constructor(
    private readonly store: WaitingRoomStore,
    private readonly settings: WaitingRoomSettings,
    private readonly triggerAdmission: AdmissionTrigger,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Admits the next in line of a show, as many as there is room for (a worker's job). */
  async admitNext(showId: number): Promise<void> {
    await this.store.admitNext(showId, this.clock());
  }

  /**
   * Lets an admitted caller through; answers everyone else 429 WAITING_ROOM with a place.
   * Before `salesOpenAt` nobody gets through: with the room on, callers wait in a pre-queue
   * that is shuffled once when sales open; with it off, they are refused.
   */
  async enter(showId: number, userId: number, salesOpenAt?: number): Promise<void> {
    const now = this.clock();
    if (salesOpenAt !== undefined && now < salesOpenAt) {
      if (!this.settings.enabled) throw salesNotOpen(salesOpenAt);
      await this.guard(() => this.store.preEnter(showId, userId));
      throw preQueued(salesOpenAt, now);
    }
    if (!this.settings.enabled) return;
    if (salesOpenAt !== undefined) await this.openLineOnce(showId);
    const state = await this.guard(() => this.store.enter(showId, userId, this.clock()));
    if (state?.status !== "queued") return;
    const wait = await this.estimatedWait(showId, state.position);
    throw new AppError("WAITING_ROOM", {
      message: `You are number ${state.position} in line for this show; retry after the time in Retry-After.`,
      details: { position: state.position, estimated_wait_seconds: wait },
      retryAfterSeconds: retryAfter(wait),
    });
  }

  async status(showId: number, userId: number, salesOpenAt?: number): Promise<WaitingRoomStatus> {
    if (!this.settings.enabled) return { status: "open" };
    if (salesOpenAt !== undefined) {
      if (this.clock() < salesOpenAt) {
        return { status: "open", sales_open_at: new Date(salesOpenAt).toISOString() };
      }
      await this.openLineOnce(showId);
    }
    const state = await this.guard(() => this.store.status(showId, userId, this.clock()));
    return state ? this.describe(showId, state) : { status: "open" };
  }

  /**
   * The caller made progress (a hold that succeeded, a payment): an admission still running
   * lasts ADMISSION_TTL from now. Nothing else renews it, so refused attempts cannot keep a
   * place while the line waits.
   */
  async renewAdmission(showId: number, userId: number): Promise<void> {
    if (!this.settings.enabled) return;
    await this.guard(() => this.store.renew(showId, userId, this.clock()));
  }

  /** The caller's session ended: free the place and let the line move. */
  async leave(showId: number, userId: number): Promise<void> {
    if (!this.settings.enabled) return;
    await this.guard(async () => {
      await this.store.leave(showId, userId);
      await this.triggerAdmission(showId);
    });
  }

  private async describe(showId: number, state: RoomState): Promise<WaitingRoomStatus> {
    if (state.status === "admitted") {
      return { status: "admitted", admitted_until: new Date(state.admittedUntil).toISOString() };
    }
    if (state.status === "queued") {
      return {
        status: "queued",
        position: state.position,
        estimated_wait_seconds: await this.estimatedWait(showId, state.position),
      };
    }
    return { status: "open" };
  }

  /**
   * At the pace the show's line moved over the last ADMISSION_TTL, how long until `position`
   * is admitted. Places free up in batches as sessions end, so the truth differs by about one
   * session either way. Until the line has moved twice in that span there is no pace: then
   * the wait if everyone admitted, and every batch after them, sat out their whole admission.
   */
  private async estimatedWait(showId: number, position: number): Promise<number> {
    const pace = await this.guard(() => this.store.linePace(showId, this.clock()));
    if (pace && hasPace(pace)) return Math.ceil((position * pace.spanMs) / pace.admissions / 1000);
    return Math.ceil(position / this.settings.threshold) * this.settings.admissionTtlSeconds;
  }

  /** The opening draw, at most once per show (the store makes it atomic across instances). */
  private async openLineOnce(showId: number): Promise<void> {
    if (this.opened.has(showId)) return;
    const seed = 1 + randomInt(2_147_483_646);
    const joined = await this.guard(() => this.store.openLine(showId, seed, this.clock()));
    this.opened.add(showId);
    if (joined)
      this.logger.info("sales opened: pre-queue drawn into the line", { show_id: showId, joined });
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

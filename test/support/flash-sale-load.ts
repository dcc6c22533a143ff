import type { TestUser } from "./fixtures";

/** What the load's clients were told: a hold (and whether they then bought it). */
export interface ToldHold {
  bookingId: number;
  seatIds: number[];
  confirmed: boolean;
}

export interface LoadResult {
  /** "hold 200", "confirm 409", "hold ConnectionRefused"…: answers by step and outcome. */
  outcomes: Record<string, number>;
  holds: ToldHold[];
  /** Answers that break the contract whatever the fault: 5xx other than 503, bad error shapes. */
  violations: string[];
}

export interface LoadSettings {
  baseUrl: string;
  users: TestUser[];
  showId: number;
  seatIds: number[];
  /** Each client stops sending (between requests, never mid-request) once this is true. */
  stopped: () => boolean;
  /** Share of holds that go on to pay and confirm. */
  buyShare?: number;
  /** Each client's pause between holds, so a bounded load lasts instead of selling out. */
  pauseMs?: number;
  /** Told of every request once it ended, answered or not (outcome as in `outcomes`). */
  onEnded?: (request: EndedRequest) => void;
}

/** One request of the load: its outcome and when it was sent and ended (Date.now()). */
export interface EndedRequest {
  outcome: string;
  sentAt: number;
  endedAt: number;
}

const REQUEST_TIMEOUT_MS = 20_000;

/**
 * A bounded flash sale against a real API process: one client per user, each holding two
 * seats it believes free (409's failed_seats teach it otherwise), paying and confirming some.
 * A request without an HTTP answer (the API going away) ends that client's loop.
 */
export async function runFlashSale(settings: LoadSettings): Promise<LoadResult> {
  const outcomes: Record<string, number> = {};
  const holds: ToldHold[] = [];
  const violations: string[] = [];
  const count = (key: string, sentAt: number) => {
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    settings.onEnded?.({ outcome: key, sentAt, endedAt: Date.now() });
  };

  /** One request; undefined when no HTTP answer came (refused, reset, timed out). */
  async function send(
    step: string,
    user: TestUser,
    path: string,
    body: unknown,
    // biome-ignore lint/suspicious/noExplicitAny: answers are arbitrary JSON
  ): Promise<{ status: number; body: any } | undefined> {
    const sentAt = Date.now();
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${settings.baseUrl}${path}`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${user.token}`,
          "Content-Type": "application/json",
          // No idle keep-alive connection for a shutting-down server to close under a request.
          Connection: "close",
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      text = await response.text();
    } catch (error) {
      count(`${step} ${(error as { code?: string }).code ?? (error as Error).name}`, sentAt);
      return undefined;
    }
    count(`${step} ${response.status}`, sentAt);
    if (response.status >= 500 && response.status !== 503) {
      violations.push(`${step} answered ${response.status}: ${text}`);
    }
    try {
      const parsed = JSON.parse(text);
      if (response.status >= 400 && (typeof parsed.code !== "string" || /\.ts:\d+/.test(text))) {
        violations.push(`${step} answered ${response.status} outside the error shape: ${text}`);
      }
      return { status: response.status, body: parsed };
    } catch {
      violations.push(`${step} answered ${response.status} with a body that is not JSON: ${text}`);
      return { status: response.status, body: {} };
    }
  }

  async function client(user: TestUser) {
    const free = new Set(settings.seatIds);
    while (!settings.stopped() && free.size >= 2) {
      await Bun.sleep(settings.pauseMs ?? 0);
      if (settings.stopped()) return;
      const pick = [...free].sort(() => Math.random() - 0.5).slice(0, 2);
      const hold = await send("hold", user, "/api/v1/bookings/lock", {
        show_id: settings.showId,
        seat_ids: pick,
      });
      if (!hold) return;
      if (hold.status === 409) {
        for (const seat of hold.body.details?.failed_seats ?? pick) free.delete(seat);
      }
      if (hold.status === 503) await Bun.sleep(20);
      if (hold.status !== 200) continue;
      for (const seat of pick) free.delete(seat);
      const told: ToldHold = { bookingId: hold.body.booking_id, seatIds: pick, confirmed: false };
      holds.push(told);
      if (Math.random() >= (settings.buyShare ?? 0.5) || settings.stopped()) continue;
      const paid = await send("pay", user, "/api/v1/bookings/payments/simulate", {
        booking_id: told.bookingId,
        amount: hold.body.amount,
      });
      if (!paid) return;
      if (paid.status !== 200 || settings.stopped()) continue;
      const path = `/api/v1/bookings/${told.bookingId}/confirm`;
      const confirmed = await send("confirm", user, path, {});
      if (!confirmed) return;
      told.confirmed = confirmed.status === 200;
    }
  }

  await Promise.all(settings.users.map(client));
  return { outcomes, holds, violations };
}

import type { HttpClient, Reply } from "../bench/http";
import { type HoldAnswer, hold } from "../bench/scenarios/holds";
import { FreeSeats, readFreeSeats } from "../bench/seat-view";
import type { Counter } from "../bench/stats";
import type { BenchUser } from "../bench/users";
import type { Ledger } from "./ledger";
import type { RequestKind, Traffic } from "./traffic";

/**
 * One virtual user of the soak, in a loop until the deadline: browse the catalogue, read a
 * show's seat map, hold 1–4 seats it shows free, then finish the hold one of five ways —
 * buy (pay + confirm), buy then cancel, cancel while pending, abandon, or pay then abandon —
 * and now and then look back: try to confirm a hold it abandoned once that hold has run out
 * (410 expected), or read its bookings. Every booking POST carries an Idempotency-Key, and
 * one hold in ten is sent twice with the same key (the replay must name the same booking).
 * A user keeps at most `keepConfirmed` confirmed bookings and cancels the oldest beyond that,
 * so confirmed seats go back on sale and the shows never sell out: the system reaches a
 * steady state that a long run can hold.
 */

export interface SoakWorld {
  http: HttpClient;
  traffic: Traffic;
  ledger: Ledger;
  /** How the holds were finished, and the holds that were refused or not tried. */
  flows: Counter;
  showIds: number[];
  thinkMs: number;
  keepConfirmed: number;
  waitingRoom: boolean;
}

export type Finish =
  | "buy"
  | "buy, then cancel"
  | "cancel while pending"
  | "abandon"
  | "pay, then abandon";

const FINISHES: [Finish, number][] = [
  ["buy", 35],
  ["buy, then cancel", 15],
  ["cancel while pending", 20],
  ["abandon", 20],
  ["pay, then abandon", 10],
];
const REPLAY_SHARE = 0.1;
const LATE_CONFIRM_SHARE = 0.25;
const MAX_SEATS_PER_HOLD = 4;
/** A hold's expiry is read from the server's clock; allow this much for the clocks' skew. */
const EXPIRY_MARGIN_MS = 1000;

const randomInt = (below: number) => Math.floor(Math.random() * below);
const pickOne = <T>(items: readonly T[]) => items[randomInt(items.length)] as T;

function pickWeighted<T>(choices: readonly [T, number][]): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = Math.random() * total;
  for (const [choice, weight] of choices) {
    roll -= weight;
    if (roll < 0) return choice;
  }
  return (choices.at(-1) as [T, number])[0];
}

export class VirtualUser {
  private requestNumber = 0;
  /** Confirmed bookings this user keeps, oldest first. */
  private readonly kept: number[] = [];
  /** Holds this user walked away from, with their expiry (epoch ms). */
  private readonly abandoned: { bookingId: number; expiresAt: number }[] = [];

  constructor(
    private readonly world: SoakWorld,
    private readonly user: BenchUser,
    private readonly name: string,
  ) {}

  /** Runs whole iterations until `deadline` (epoch ms); an iteration under way finishes. */
  async run(deadline: number): Promise<void> {
    // Spread the first requests so that the users do not move in lockstep.
    await Bun.sleep(randomInt(2 * this.world.thinkMs + 1));
    while (Date.now() < deadline) await this.iteration();
  }

  private async iteration(): Promise<void> {
    await this.browse();
    const showId = pickOne(this.world.showIds);
    const free = await this.readSeatMap(showId);
    await this.think();
    if (free && free.length >= MAX_SEATS_PER_HOLD) {
      const seats = new FreeSeats(free).pick(1 + randomInt(MAX_SEATS_PER_HOLD));
      const held = await this.hold(showId, seats);
      if (held) {
        await this.think();
        await this.finish(held, pickWeighted(FINISHES));
      }
    } else {
      this.world.flows.add(free ? "not tried: show nearly sold out" : "not tried: no seat map");
    }
    await this.think();
    await this.lookBack();
  }

  private think(): Promise<void> {
    return Bun.sleep(Math.random() * 2 * this.world.thinkMs);
  }

  private async browse(): Promise<void> {
    const showId = pickOne(this.world.showIds);
    const pages: [RequestKind, string][] = [
      ["browse: shows", "/api/v1/shows?limit=20"],
      ["browse: events", "/api/v1/events"],
      ["browse: search", "/api/v1/shows/search?event=soak&availability=available"],
      ["browse: show", `/api/v1/shows/${showId}`],
    ];
    for (let page = 1 + randomInt(2); page > 0; page -= 1) {
      const [kind, path] = pickOne(pages);
      await this.get(kind, path);
      await this.think();
    }
  }

  private async readSeatMap(showId: number): Promise<number[] | undefined> {
    const { reply, free } = await readFreeSeats(this.world.http, showId);
    this.world.traffic.record("seat map", reply, [200]);
    return free;
  }

  private async hold(showId: number, seatIds: number[]): Promise<HoldAnswer | undefined> {
    const { http, traffic, ledger, flows } = this.world;
    const headers = { "Idempotency-Key": this.newKey() };
    const reply = await hold(http, this.user.token, showId, seatIds, headers);
    const allowed = this.world.waitingRoom ? [200, 409, 429] : [200, 409];
    if (!traffic.record("hold", reply, allowed)) return undefined;
    if (reply.status !== 200) {
      flows.add(reply.status === 409 ? "hold refused: seat taken" : "hold queued (429)");
      return undefined;
    }
    const answer = reply.body as HoldAnswer;
    ledger.held(showId, answer);
    if (Math.random() < REPLAY_SHARE) {
      const replay = await hold(http, this.user.token, showId, seatIds, headers);
      if (traffic.record("hold replayed", replay, [200])) {
        const replayed = (replay.body as HoldAnswer).booking_id;
        if (replayed !== answer.booking_id) {
          traffic.mismatch(
            "hold replayed",
            `the replay named booking ${replayed}, the first answer ${answer.booking_id}`,
          );
        }
      }
    }
    return answer;
  }

  private async finish(held: HoldAnswer, how: Finish): Promise<void> {
    const bookingId = held.booking_id;
    const { ledger, flows } = this.world;
    flows.add(how);
    const paid = how === "buy" || how === "buy, then cancel" || how === "pay, then abandon";
    if (paid && !(await this.pay(held))) return ledger.expect(bookingId, "unknown");
    if (how === "abandon" || how === "pay, then abandon") {
      this.abandoned.push({ bookingId, expiresAt: Date.parse(held.expires_at) });
      return ledger.expect(bookingId, "EXPIRED");
    }
    if (how === "cancel while pending") return this.cancel(bookingId, "cancel pending");
    await this.think();
    if (!(await this.post("confirm", `/api/v1/bookings/${bookingId}/confirm`, {}, [200]))) {
      return ledger.expect(bookingId, "unknown");
    }
    ledger.expect(bookingId, "CONFIRMED");
    await this.think();
    if (how === "buy, then cancel") return this.cancel(bookingId, "cancel confirmed");
    this.kept.push(bookingId);
    const oldest = this.kept.length > this.world.keepConfirmed ? this.kept.shift() : undefined;
    if (oldest !== undefined) await this.cancel(oldest, "cancel confirmed");
  }

  private async pay(held: HoldAnswer): Promise<boolean> {
    return this.post(
      "pay",
      "/api/v1/bookings/payments/simulate",
      { booking_id: held.booking_id, amount: held.amount },
      [200],
    );
  }

  private async cancel(bookingId: number, kind: RequestKind): Promise<void> {
    const cancelled = await this.post(kind, `/api/v1/bookings/${bookingId}/cancel`, {}, [200]);
    this.world.ledger.expect(bookingId, cancelled ? "CANCELLED" : "unknown");
  }

  /** Confirms of holds that ran out (410 expected), and a look at the user's bookings. */
  private async lookBack(): Promise<void> {
    const now = Date.now();
    while (
      this.abandoned.length > 0 &&
      (this.abandoned[0]?.expiresAt ?? 0) + EXPIRY_MARGIN_MS < now
    ) {
      const { bookingId } = this.abandoned.shift() as { bookingId: number };
      if (Math.random() >= LATE_CONFIRM_SHARE) continue;
      await this.post("confirm after expiry", `/api/v1/bookings/${bookingId}/confirm`, {}, [410]);
      await this.think();
    }
    const look = Math.random();
    if (look < 0.2) {
      await this.get("my bookings", "/api/v1/user/bookings?limit=10");
    } else if (look < 0.4 && this.kept.length > 0) {
      await this.get("my booking", `/api/v1/bookings/${pickOne(this.kept)}`);
    }
  }

  private newKey(): string {
    this.requestNumber += 1;
    return `soak-${this.name}-${this.requestNumber}`;
  }

  private async get(kind: RequestKind, path: string): Promise<Reply> {
    const reply = await this.world.http.send({ path, token: this.user.token, read: "json" });
    this.world.traffic.record(kind, reply, [200]);
    return reply;
  }

  /** A booking POST with a fresh Idempotency-Key; true when the status is expected. */
  private async post(
    kind: RequestKind,
    path: string,
    json: unknown,
    expected: number[],
  ): Promise<boolean> {
    const reply = await this.world.http.send({
      path,
      token: this.user.token,
      json,
      headers: { "Idempotency-Key": this.newKey() },
      read: "json",
    });
    return this.world.traffic.record(kind, reply, expected);
  }
}

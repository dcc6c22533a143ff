import type { HttpClient, Reply } from "./http";

/**
 * The seats a virtual user believes free: O(1) removal and uniform random picks (an array
 * plus each seat's position in it, removal by swapping with the last element).
 */
export class FreeSeats {
  private readonly seats: number[];
  private readonly position = new Map<number, number>();

  constructor(seatIds: Iterable<number>) {
    this.seats = [...seatIds];
    this.seats.forEach((seatId, index) => {
      this.position.set(seatId, index);
    });
  }

  get size(): number {
    return this.seats.length;
  }

  remove(seatId: number): void {
    const index = this.position.get(seatId);
    if (index === undefined) return;
    const last = this.seats.pop() as number;
    this.position.delete(seatId);
    if (index < this.seats.length) {
      this.seats[index] = last;
      this.position.set(last, index);
    }
  }

  /** `count` distinct random seats (the caller checks that size >= count). */
  pick(count: number): number[] {
    const picked = new Set<number>();
    while (picked.size < count) {
      picked.add(this.seats[Math.floor(Math.random() * this.seats.length)] as number);
    }
    return [...picked];
  }
}

interface SeatMapBody {
  seats: { seat_id: number; status: string }[];
}

/** GET /shows/:id/seats; the AVAILABLE seat ids, or undefined when the read failed. */
export async function readFreeSeats(
  http: HttpClient,
  showId: number,
): Promise<{ reply: Reply; free?: number[] }> {
  const reply = await http.send({ path: `/api/v1/shows/${showId}/seats`, read: "json" });
  const body = reply.body as SeatMapBody | undefined;
  if (reply.status !== 200 || !Array.isArray(body?.seats)) return { reply };
  const free = body.seats.filter((seat) => seat.status === "AVAILABLE").map((seat) => seat.seat_id);
  return { reply, free };
}

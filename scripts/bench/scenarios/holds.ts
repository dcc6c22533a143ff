import type { HttpClient, Reply } from "../http";

/** The 200 answer of POST /api/v1/bookings/lock (the fields the bench uses). */
export interface HoldAnswer {
  booking_id: number;
  amount: number;
  expires_at: string;
  locked_seats: { seat_id: number }[];
}

export function hold(
  http: HttpClient,
  token: string,
  showId: number,
  seatIds: number[],
  headers?: Record<string, string>,
): Promise<Reply> {
  return http.send({
    path: "/api/v1/bookings/lock",
    token,
    json: { show_id: showId, seat_ids: seatIds },
    headers,
    read: "json",
  });
}

/** For a 200: the answer, with its seats recorded in `told` (seat → booking). */
export function recordHold(reply: Reply, told: Map<number, number>): HoldAnswer | undefined {
  if (reply.status !== 200) return undefined;
  const answer = reply.body as HoldAnswer;
  for (const seat of answer.locked_seats) told.set(seat.seat_id, answer.booking_id);
  return answer;
}

/** For a 409 SEAT_UNAVAILABLE: the seats the server named as taken. */
export function failedSeats(reply: Reply): number[] | undefined {
  const body = reply.body as { details?: { failed_seats?: number[] } } | undefined;
  return reply.status === 409 ? body?.details?.failed_seats : undefined;
}

import { holdBest } from "./fixtures";
import { query, sql, type TestApp } from "./harness";

/**
 * Holds the best pair of adjacent seats of the show for each of `users` in turn (round and
 * round) until a pick is refused: that refusal's code, and the adjacent free pairs the show
 * still has then. A NOT_ENOUGH_SEATS refusal must leave none.
 */
export async function pairsUntilRefused(
  app: TestApp,
  showId: number,
  users: { token: string }[],
): Promise<{ refusal: string | undefined; pairsLeft: number | undefined }> {
  let refusal: string | undefined;
  for (let index = 0; refusal === undefined; index++) {
    const answer = await holdBest(app, users[index % users.length] as { token: string }, showId, 2);
    if (answer.status !== 200) refusal = answer.body?.code ?? String(answer.status);
  }
  const [pairs] = await query<{ pairs: number }>(
    app,
    sql`select count(*)::int as pairs
        from show_seats a join seats sa on sa.seat_id = a.seat_id
        join seats sb on sb.venue_id = sa.venue_id and sb.seat_row = sa.seat_row
          and sb.seat_number = sa.seat_number + 1 and sb.deleted_at is null
        join show_seats b on b.show_id = a.show_id and b.seat_id = sb.seat_id
        where a.show_id = ${showId} and a.status = 'AVAILABLE' and b.status = 'AVAILABLE'`,
  );
  return { refusal, pairsLeft: pairs?.pairs };
}

import type { BenchUser } from "../users";
import type { ScenarioContext } from "./context";
import { hold } from "./holds";

/**
 * Not measured: a few hundred holds and seat-map reads on a show of its own, so that every
 * API process has compiled its hot paths and opened its pool connections before the first
 * scenario, whichever scenarios BENCH_SCENARIOS picks.
 */

const LOOPS = 20;
const HOLDS_PER_LOOP = 10;

export async function warmUp(context: ScenarioContext): Promise<void> {
  const { http, fixture } = context;
  const showId = await fixture.createShow("warm-up");
  const loop = async (index: number) => {
    for (let round = 0; round < HOLDS_PER_LOOP; round += 1) {
      const seat = fixture.seatIds[index * HOLDS_PER_LOOP + round] as number;
      const user = fixture.users[index] as BenchUser;
      await hold(http, user.token, showId, [seat]);
      await http.send({ path: `/api/v1/shows/${showId}/seats`, read: "bytes" });
    }
  };
  await Promise.all(Array.from({ length: LOOPS }, (_, index) => loop(index)));
}

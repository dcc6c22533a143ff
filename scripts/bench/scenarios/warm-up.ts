import type { ScenarioContext } from "./context";
import { prepareFlashSale, runFlashSale } from "./flash-sale";
import { BUYERS, runPurchases } from "./purchase";

/**
 * Not measured: a whole 50-VU flash sale and a round of purchases, each on a show of its own,
 * before the first scenario, whichever scenarios BENCH_SCENARIOS picks, so that the scenarios
 * meet an API whose hot paths are compiled and whose pool is open. (After a few hundred
 * warm-up requests, Bun's JIT threads still took about a tenth of the machine's CPU during
 * the first measured sale.)
 */

const WARM_UP_VIRTUAL_USERS = 50;

export async function warmUp(context: ScenarioContext): Promise<void> {
  const { http, fixture } = context;
  const sale = await prepareFlashSale(context, "warm-up sale", WARM_UP_VIRTUAL_USERS);
  await runFlashSale(http, sale);
  const showId = await fixture.createShow("warm-up purchases");
  await runPurchases(http, showId, fixture.users.slice(0, BUYERS), fixture.seatIds);
}

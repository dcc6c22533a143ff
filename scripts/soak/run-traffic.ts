import type { BenchUser } from "../bench/users";
import type { Monitor } from "./monitor";
import { type SoakWorld, VirtualUser } from "./virtual-user";

/**
 * Runs one virtual user per user until the deadline, with the monitor sampling all along.
 * The sample taken when the warm-up ends is where the memory figures start; the last one is
 * taken when the last virtual user has finished its iteration.
 */
export async function runTraffic(
  world: SoakWorld,
  users: BenchUser[],
  monitor: Monitor,
  timing: { durationS: number; warmUpS: number; sampleEveryS: number },
): Promise<{ traffic_s: number; warm_up_end_s: number }> {
  const started = performance.now();
  const deadline = Date.now() + timing.durationS * 1000;
  monitor.start(timing.sampleEveryS);
  const running = Promise.all(
    users.map((user, index) => new VirtualUser(world, user, `vu${index + 1}`).run(deadline)),
  );
  // A virtual user that throws fails the run when `running` is awaited, not before.
  running.catch(() => undefined);
  await Bun.sleep(timing.warmUpS * 1000);
  console.log("  warm-up over: memory figures start here");
  const warmedUp = await monitor.sample();
  await running;
  await monitor.stop();
  return {
    traffic_s: Math.round((performance.now() - started) / 100) / 10,
    warm_up_end_s: warmedUp.t_s,
  };
}

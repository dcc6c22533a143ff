/**
 * Bun's fetch() keeps at most BUN_CONFIG_MAX_HTTP_REQUESTS requests in flight (256 by default)
 * and queues the rest, which would quietly turn S2's 500 simultaneous holds and S5's 1,000
 * simultaneous logins into batches. The variable is read when Bun starts, so the bench runs
 * itself once more with it raised.
 */
const NEEDED_IN_FLIGHT = 2048;
const VARIABLE = "BUN_CONFIG_MAX_HTTP_REQUESTS";

export function hasEnoughFetchConcurrency(): boolean {
  return Number(process.env[VARIABLE] ?? 0) >= NEEDED_IN_FLIGHT;
}

/** Runs `script` again in a child Bun with the limit raised; resolves to its exit code. */
export async function relaunchWithFetchConcurrency(script: string): Promise<number> {
  const child = Bun.spawn([process.execPath, "run", script], {
    env: { ...process.env, [VARIABLE]: String(NEEDED_IN_FLIGHT) },
    stdio: ["inherit", "inherit", "inherit"],
  });
  // Ctrl-C reaches the child through the terminal's process group; a SIGTERM sent to this
  // process alone is passed on. Either way the child cleans up and this process waits for it.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  return await child.exited;
}

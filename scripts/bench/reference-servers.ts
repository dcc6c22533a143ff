import type { Cleanup } from "./cleanup";
import { freePort, spawnChild, stopChild, waitForHttp } from "./processes";

export interface ReferenceServer {
  baseUrl: string;
  stop(): Promise<void>;
}

const SCRIPTS = {
  hello: "scripts/bench/servers/hello.ts",
  static: "scripts/bench/servers/static.ts",
};

/** Starts one of the tiny comparison servers in a child process and waits until it answers. */
export async function startReferenceServer(
  kind: keyof typeof SCRIPTS,
  env: Record<string, string>,
  workDir: string,
  cleanup: Cleanup,
): Promise<ReferenceServer> {
  const port = freePort();
  const child = spawnChild(
    `${kind} server`,
    [process.execPath, "run", SCRIPTS[kind]],
    { ...process.env, ...env, PORT: String(port) },
    `${workDir}/${kind}-server.log`,
  );
  const stop = () => stopChild(child);
  cleanup.add(`stop the ${kind} server`, stop);
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${baseUrl}/`, child);
  return { baseUrl, stop };
}

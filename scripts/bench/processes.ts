import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Subprocess } from "bun";

/** Children run from the repository root, like `bun run start` does. */
export const REPO_ROOT = resolve(import.meta.dir, "../..");

/** A child process of the bench, its output going to a log file. */
export interface Child {
  name: string;
  process: Subprocess;
  logFile: string;
}

export function spawnChild(
  name: string,
  command: string[],
  env: Record<string, string | undefined>,
  logFile: string,
): Child {
  const log = Bun.file(logFile);
  const process = Bun.spawn(command, {
    cwd: REPO_ROOT,
    env,
    stdin: "ignore",
    stdout: log,
    stderr: log,
  });
  return { name, process, logFile };
}

/** SIGTERM, then SIGKILL if the child has not exited after `graceMs`. */
export async function stopChild(child: Child, graceMs = 5000): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill("SIGTERM");
  const exited = await Promise.race([
    child.process.exited.then(() => true),
    Bun.sleep(graceMs).then(() => false),
  ]);
  if (!exited) {
    child.process.kill("SIGKILL");
    await child.process.exited;
  }
}

function logTail(child: Child, lines = 20): string {
  try {
    return readFileSync(child.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no output)";
  }
}

/** Polls `url` until it answers 200; fails early if the child exits. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.process.exitCode !== null) {
      throw new Error(
        `${child.name} exited with code ${child.process.exitCode}:\n${logTail(child)}`,
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms:\n${logTail(child)}`);
}

/** Runs a command to completion; throws with its output when it fails. */
export async function runToCompletion(
  command: string[],
  env: Record<string, string | undefined>,
): Promise<string> {
  const proc = Bun.spawn(command, {
    cwd: REPO_ROOT,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) {
    throw new Error(`${command.join(" ")} exited with ${code}:\n${stdout}${stderr}`.trimEnd());
  }
  return stdout + stderr;
}

/** A TCP port nobody listens on right now (the OS picks it). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = probe;
  probe.stop(true);
  return port;
}

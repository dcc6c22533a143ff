import type { Subprocess } from "bun";
import type { TestApp } from "./harness";

/** A child process of a test, its output kept for the failure message. */
export interface TestProcess {
  process: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything it printed so far (stdout, then stderr), for failure messages. */
  output(): string;
  /** Its standard output so far, alone: the lines an Evently process logs below warn. */
  stdout(): string;
  /** Resolves once both output streams ended (after the exit). */
  drained: Promise<void>;
  /** SIGTERM (or `signal`), then waits for the exit; answers the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Waits until it exits by itself and everything it printed is read; answers the exit code. */
  finished(): Promise<number>;
}

/** A port nothing listens on right now: the kernel picks it, then we let it go. */
export function freePort(): number {
  const probe = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = probe.port as number;
  probe.stop(true);
  return port;
}

/** Spawns `command` with exactly `env`, keeping what it prints. */
export function spawnWithOutput(
  command: string[],
  env: Record<string, string | undefined>,
): TestProcess {
  const child = Bun.spawn(command, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const printed = { stdout: "", stderr: "" };
  const collect = async (name: keyof typeof printed, stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) printed[name] += decoder.decode(chunk, { stream: true });
  };
  const drained = Promise.all([
    collect("stdout", child.stdout),
    collect("stderr", child.stderr),
  ]).then(() => {});
  return {
    process: child,
    drained,
    output: () => `${printed.stdout}${printed.stderr}`,
    stdout: () => printed.stdout,
    async stop(signal = "SIGTERM") {
      child.kill(signal);
      return child.exited;
    },
    async finished() {
      await drained;
      return child.exited;
    },
  };
}

/** The environment an Evently process needs to share `app`'s database and Redis keys. */
function eventlyEnv(app: TestApp, env: Record<string, string>) {
  return {
    ...process.env,
    DATABASE_URL: app.config.DATABASE_URL,
    REDIS_URL: app.config.REDIS_URL,
    REDIS_KEY_PREFIX: app.config.REDIS_KEY_PREFIX,
    JWT_SECRET: app.config.JWT_SECRET,
    HOLD_TTL_SECONDS: String(app.config.HOLD_TTL_SECONDS),
    RATE_LIMIT_ENABLED: "0",
    WAITING_ROOM_ENABLED: "0",
    LOG_LEVEL: "warn",
    ...env,
  };
}

/** Polls until `check` holds; throws with `describe()` after `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  describe: () => string,
  timeoutMs = 30_000,
  pollMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // A check that throws (a refused connection while a process starts) is "not yet".
    if (await check().catch(() => false)) return;
    await Bun.sleep(pollMs);
  }
  throw new Error(describe());
}

export interface ApiProcess extends TestProcess {
  baseUrl: string;
}

/** PostgreSQL's application_name of each kind of child, so faults can target its sessions. */
export const API_SESSIONS = "evently-test-api";
export const WORKER_SESSIONS = "evently-test-worker";

/** `bun run src/index.ts` on `app`'s database and Redis, as soon as it is spawned. */
export function spawnApi(app: TestApp, env: Record<string, string> = {}): ApiProcess {
  const port = freePort();
  const api = spawnWithOutput(
    ["bun", "run", "src/index.ts"],
    eventlyEnv(app, { PORT: String(port), PGAPPNAME: API_SESSIONS, ...env }),
  );
  return { ...api, baseUrl: `http://127.0.0.1:${port}` };
}

/** `bun run src/index.ts` on `app`'s database and Redis, answering /health. */
export async function startApi(
  app: TestApp,
  env: Record<string, string> = {},
): Promise<ApiProcess> {
  const api = spawnApi(app, env);
  const { baseUrl } = api;
  await waitUntil(
    async () => (await fetch(`${baseUrl}/health`)).ok,
    () => `the API did not start:\n${api.output()}`,
  );
  return api;
}

/** `bun run src/worker.ts` on `app`'s database and Redis. */
export function startWorker(app: TestApp, env: Record<string, string> = {}): TestProcess {
  return spawnWithOutput(
    ["bun", "run", "src/worker.ts"],
    eventlyEnv(app, { PGAPPNAME: WORKER_SESSIONS, ...env }),
  );
}

/** How a process that was expected to stop by itself ended, and what it printed. */
export interface Ended {
  /** null when it was still running after the deadline (and was killed then). */
  exitCode: number | null;
  /** Its non-empty output lines, stdout then stderr. */
  lines: string[];
}

/** Runs `bun run <script>` with exactly `env` (plus PATH) until it exits by itself. */
export async function runUntilExit(
  script: string,
  env: Record<string, string>,
  deadlineMs = 60_000,
): Promise<Ended> {
  const child = spawnWithOutput(["bun", "run", script], { PATH: process.env.PATH, ...env });
  const exited = await Promise.race([child.process.exited, Bun.sleep(deadlineMs).then(() => null)]);
  if (exited === null) await child.stop("SIGKILL");
  await child.drained;
  const lines = child
    .output()
    .split("\n")
    .filter((line) => line.trim() !== "");
  return { exitCode: exited, lines };
}

/** `bun run admin:create` with `args` on `app`'s database and Redis, left to run to its end. */
export function runCreateAdmin(
  app: TestApp,
  args: string[],
  env: Record<string, string> = {},
): TestProcess {
  return spawnWithOutput(
    ["bun", "run", "scripts/create-admin.ts", ...args],
    eventlyEnv(app, { LOG_LEVEL: "debug", ...env }),
  );
}

export interface RedisProcess {
  url: string;
  /** Starts (again) on the same port: a fresh, empty Redis, as after a restart without disk. */
  start(): Promise<void>;
  /** SIGKILL: the crash the app must live through. */
  kill(): Promise<void>;
  /** SIGSTOP: a hung Redis, its connections open but nothing answered. */
  pause(): void;
  /** SIGCONT: it answers again, everything sent meanwhile included. */
  resume(): void;
}

/** A private redis-server of this test, on a port of its own, that it may kill. */
export function privateRedis(): RedisProcess {
  const port = freePort();
  let server: TestProcess | undefined;
  const ping = async () =>
    (await Bun.spawn(["redis-cli", "-p", String(port), "ping"], {
      stdout: "ignore",
      stderr: "ignore",
    }).exited) === 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      const started = spawnWithOutput(
        [
          "redis-server",
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
        ],
        process.env,
      );
      server = started;
      await waitUntil(ping, () => `redis-server did not start:\n${started.output()}`);
    },
    async kill() {
      // A stopped process ends on SIGKILL too.
      await server?.stop("SIGKILL");
      server = undefined;
    },
    pause() {
      server?.process.kill("SIGSTOP");
    },
    resume() {
      server?.process.kill("SIGCONT");
    },
  };
}

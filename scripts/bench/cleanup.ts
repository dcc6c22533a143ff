import { mkdirSync } from "node:fs";

/**
 * What the bench must undo (child processes, scratch databases, Redis keys), run in reverse
 * order at the end, on an error or on Ctrl-C. Each step runs once, and a failing step does
 * not stop the others.
 */
export class Cleanup {
  private readonly steps: { name: string; run: () => Promise<void> }[] = [];
  private running?: Promise<void>;

  add(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run });
  }

  /** Runs the steps added since the last call, newest first. */
  runAll(): Promise<void> {
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async drain(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.run();
      } catch (error) {
        console.error(
          `cleanup: ${step.name} failed: ${error instanceof Error ? error.message : error}`,
        );
      }
    }
  }
}

/**
 * Makes the run's work directory and its Cleanup, which also runs on Ctrl-C, SIGTERM, or when
 * the run is still going after `watchdogMs`: a run never leaves children or databases behind.
 */
export function startRun(workDir: string, watchdogMs: number): Cleanup {
  mkdirSync(workDir, { recursive: true });
  const cleanup = new Cleanup();
  const abort = async (reason: string, code: number): Promise<never> => {
    console.error(`\n${reason}: stopping the children and cleaning up…`);
    await cleanup.runAll();
    process.exit(code);
  };
  process.on("SIGINT", () => void abort("Interrupted", 130));
  process.on("SIGTERM", () => void abort("Terminated", 143));
  setTimeout(() => void abort(`Still running after ${watchdogMs / 60_000} min`, 1), watchdogMs);
  return cleanup;
}

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

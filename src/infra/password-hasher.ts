import type { PasswordJob, PasswordResult } from "./password-worker";

type JobInput = PasswordJob extends infer J
  ? J extends PasswordJob
    ? Omit<J, "id">
    : never
  : never;

interface Pending {
  worker: number;
  resolve: (value: string | boolean) => void;
  reject: (error: Error) => void;
}

export interface PasswordHasherOptions {
  /** bcrypt cost of new hashes. */
  cost: number;
  /** Worker threads. */
  size?: number;
  /**
   * "idle": the worker threads hash only with CPU nothing else wants (SCHED_IDLE), so a login
   * storm does not slow a sale, and logins still use every idle core. Default "normal".
   */
  priority?: "idle" | "normal";
  /** Told when a worker could not lower its priority (it then hashes at normal priority). */
  warn?: (message: string) => void;
}

/**
 * bcrypt (bcryptjs) on a pool of worker threads: a hash costs tens of milliseconds of CPU,
 * which on the main thread would stall every other request.
 */
export class PasswordHasher {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private readonly load: number[];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: PasswordHasherOptions) {
    const size = options.size ?? 1;
    if (options.priority === "idle") {
      // A thread inherits the policy of the thread that creates it. JSC's GC helper threads
      // serve every heap of the process and are made on first use: a collection here makes
      // them now, at normal priority, never from an idle worker (the main thread's collections
      // would then wait on threads that only run when nothing else wants the CPU).
      Bun.gc(true);
    }
    this.load = Array.from({ length: size }, () => 0);
    this.workers = Array.from({ length: size }, (_, index) => this.spawn(index));
  }

  private spawn(index: number): Worker {
    const worker = new Worker(new URL("./password-worker.ts", import.meta.url));
    worker.onmessage = (event: MessageEvent<PasswordResult>) => this.settle(event.data);
    // A crashed worker fails its jobs (no login hangs) and is replaced.
    worker.onerror = (event) => {
      for (const [id, pending] of this.pending) {
        if (pending.worker !== index) continue;
        this.pending.delete(id);
        pending.reject(new Error(`password worker failed: ${event.message}`));
      }
      worker.terminate();
      this.workers[index] = this.spawn(index);
    };
    // Idle workers must not keep the process alive at shutdown.
    worker.unref();
    if (this.options.priority === "idle") {
      this.runOn(index, worker, { op: "idle" }).catch((error) => {
        if (!this.closed) {
          this.options.warn?.(`password worker runs at normal priority: ${error.message}`);
        }
      });
    }
    return worker;
  }

  hash(password: string): Promise<string> {
    return this.run({ op: "hash", password, cost: this.options.cost }) as Promise<string>;
  }

  verify(password: string, hash: string): Promise<boolean> {
    return this.run({ op: "verify", password, hash }) as Promise<boolean>;
  }

  close(): void {
    this.closed = true;
    for (const worker of this.workers) worker.terminate();
    for (const { reject } of this.pending.values()) reject(new Error("password hasher closed"));
    this.pending.clear();
  }

  private run(job: JobInput): Promise<string | boolean> {
    const index = this.load.indexOf(Math.min(...this.load));
    return this.runOn(index, this.workers[index] as Worker, job);
  }

  private runOn(index: number, worker: Worker, job: JobInput): Promise<string | boolean> {
    const id = this.nextId++;
    this.load[index] = (this.load[index] ?? 0) + 1;
    return new Promise<string | boolean>((resolve, reject) => {
      this.pending.set(id, {
        worker: index,
        resolve: (value) => {
          this.load[index] = (this.load[index] ?? 1) - 1;
          resolve(value);
        },
        reject: (error) => {
          this.load[index] = (this.load[index] ?? 1) - 1;
          reject(error);
        },
      });
      worker.postMessage({ ...job, id } as PasswordJob);
    });
  }

  private settle(result: PasswordResult): void {
    const pending = this.pending.get(result.id);
    if (!pending) return;
    this.pending.delete(result.id);
    if ("error" in result) pending.reject(new Error(result.error));
    else pending.resolve(result.value);
  }
}

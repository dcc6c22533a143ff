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

/**
 * bcrypt (bcryptjs, cost from BCRYPT_COST) on a pool of worker threads: a hash costs tens of
 * milliseconds of CPU, which on the main thread would stall every other request.
 */
export class PasswordHasher {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private readonly load: number[];
  private nextId = 1;

  constructor(
    private readonly cost: number,
    size = 1,
  ) {
    this.workers = Array.from({ length: size }, (_, index) => this.spawn(index));
    this.load = this.workers.map(() => 0);
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
    return worker;
  }

  hash(password: string): Promise<string> {
    return this.run({ op: "hash", password, cost: this.cost }) as Promise<string>;
  }

  verify(password: string, hash: string): Promise<boolean> {
    return this.run({ op: "verify", password, hash }) as Promise<boolean>;
  }

  close(): void {
    for (const worker of this.workers) worker.terminate();
    for (const { reject } of this.pending.values()) reject(new Error("password hasher closed"));
    this.pending.clear();
  }

  private run(job: JobInput): Promise<string | boolean> {
    const id = this.nextId++;
    const index = this.load.indexOf(Math.min(...this.load));
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
      this.workers[index]?.postMessage({ ...job, id } as PasswordJob);
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

import { AppError } from "../lib/errors";
import type { PasswordJob, PasswordResult } from "./password-worker";

type JobInput = PasswordJob extends infer J
  ? J extends PasswordJob
    ? Omit<J, "id">
    : never
  : never;

export interface PasswordHasherOptions {
  /** bcrypt cost of new hashes. */
  cost: number;
  /** Worker threads: the hashes that run at once. */
  size: number;
  /** Hashes that may wait for a thread; one more is refused at once. */
  queueLimit: number;
  /** How long a hash may wait for a thread before it is refused (ms). */
  maxWaitMs: number;
}

interface Job {
  id: number;
  input: JobInput;
  resolve: (value: string | boolean) => void;
  reject: (error: Error) => void;
  /** Refuses the job if no thread took it in time; cleared when one does. */
  timer?: ReturnType<typeof setTimeout>;
}

interface Thread {
  worker: Worker;
  job?: Job;
}

/**
 * bcrypt (bcryptjs) on a pool of worker threads: a hash costs tens of milliseconds of CPU,
 * which on the main thread would stall every other request. The threads run at normal
 * priority, one hash each at a time, so hashing takes at most `size` cores from the requests;
 * a hash waits for a thread in a queue bounded in length (`queueLimit`) and in time
 * (`maxWaitMs`), and beyond either bound it is refused with 503 `UNAVAILABLE` and Retry-After.
 * However busy the machine, a login is answered within about maxWaitMs plus one hash.
 */
export class PasswordHasher {
  private readonly threads: Thread[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: PasswordHasherOptions) {}

  hash(password: string): Promise<string> {
    return this.run({ op: "hash", password, cost: this.options.cost }) as Promise<string>;
  }

  verify(password: string, hash: string): Promise<boolean> {
    return this.run({ op: "verify", password, hash }) as Promise<boolean>;
  }

  /**
   * Throws the 503 a hash would get now if no thread is free and the queue is full: a login
   * asks first, so once the queue is full a login reads no account before it is refused
   * (logins of one event-loop turn may all pass before any of them queues; `run` still
   * refuses those beyond the bound).
   */
  refuseWhenFull(): void {
    const threadFree =
      this.threads.length < this.options.size || this.threads.some((thread) => !thread.job);
    if (!threadFree && this.queue.length >= this.options.queueLimit) throw this.busy();
  }

  close(): void {
    this.closed = true;
    const error = new Error("password hasher closed");
    for (const thread of this.threads) {
      thread.worker.terminate();
      thread.job?.reject(error);
    }
    this.threads.length = 0;
    for (const job of this.queue.splice(0)) {
      clearTimeout(job.timer);
      job.reject(error);
    }
  }

  private run(input: JobInput): Promise<string | boolean> {
    if (this.closed) return Promise.reject(new Error("password hasher closed"));
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, input, resolve, reject };
      const thread = this.idleThread();
      if (thread) return this.start(thread, job);
      if (this.queue.length >= this.options.queueLimit) return reject(this.busy());
      job.timer = setTimeout(() => {
        const index = this.queue.indexOf(job);
        if (index >= 0) this.queue.splice(index, 1);
        reject(this.busy());
      }, this.options.maxWaitMs);
      this.queue.push(job);
    });
  }

  /** A thread with no job, started on demand (a process that never hashes starts none). */
  private idleThread(): Thread | undefined {
    const idle = this.threads.find((thread) => !thread.job);
    if (idle || this.threads.length >= this.options.size) return idle;
    const thread: Thread = { worker: this.spawn() };
    this.threads.push(thread);
    return thread;
  }

  private spawn(): Worker {
    const worker = new Worker(new URL("./password-worker.ts", import.meta.url));
    worker.onmessage = (event: MessageEvent<PasswordResult>) => this.settle(worker, event.data);
    // A crashed worker fails its job (no login hangs) and leaves the pool; the next job starts
    // a new one. Not restarted at once: a thread that cannot start (its script fails to load)
    // would otherwise be restarted forever, where this way it fails one job per start.
    worker.onerror = (event) => {
      worker.terminate();
      const index = this.threads.findIndex((candidate) => candidate.worker === worker);
      if (index < 0) return;
      const [thread] = this.threads.splice(index, 1);
      thread?.job?.reject(new Error(`password worker failed: ${event.message}`));
      const replacement = this.queue.length > 0 ? this.idleThread() : undefined;
      if (replacement) this.next(replacement);
    };
    // Idle workers must not keep the process alive at shutdown.
    worker.unref();
    return worker;
  }

  private start(thread: Thread, job: Job): void {
    clearTimeout(job.timer);
    thread.job = job;
    thread.worker.postMessage({ ...job.input, id: job.id } as PasswordJob);
  }

  private settle(worker: Worker, result: PasswordResult): void {
    const thread = this.threads.find((candidate) => candidate.worker === worker);
    const job = thread?.job;
    if (!thread || job?.id !== result.id) return;
    thread.job = undefined;
    if ("error" in result) job.reject(new Error(result.error));
    else job.resolve(result.value);
    this.next(thread);
  }

  private next(thread: Thread): void {
    const job = this.queue.shift();
    if (job) this.start(thread, job);
  }

  private busy(): AppError<"UNAVAILABLE"> {
    return new AppError("UNAVAILABLE", {
      message: "Too many passwords are being checked right now; retry shortly",
      retryAfterSeconds: Math.max(1, Math.ceil(this.options.maxWaitMs / 1000)),
    });
  }
}

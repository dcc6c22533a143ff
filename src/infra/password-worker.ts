import { dlopen, FFIType, ptr } from "bun:ffi";
import bcrypt from "bcryptjs";

/** One job for a password worker thread, so a login storm never blocks the event loop. */
export type PasswordJob =
  | { id: number; op: "hash"; password: string; cost: number }
  | { id: number; op: "verify"; password: string; hash: string }
  | { id: number; op: "idle" };

export type PasswordResult =
  | { id: number; value: string | boolean }
  | { id: number; error: string };

declare const self: Worker;

/** Linux's scheduling policy for work that should only ever use otherwise idle CPU. */
const SCHED_IDLE = 5;

/**
 * Puts this thread, and only this thread, under SCHED_IDLE: it runs when no other thread
 * wants the CPU, and a request handler that wakes up preempts it at once (a low nice value
 * still lets it finish its time slice first). Linux only: elsewhere there is no such libc and
 * the call fails, leaving the thread at normal priority.
 */
function runOnlyWhenIdle(): boolean {
  const libc = dlopen("libc.so.6", {
    sched_setscheduler: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  });
  try {
    const schedParam = new Int32Array(1); // sched_priority 0, the only one SCHED_IDLE takes
    // Thread id 0 is the calling thread.
    const status = libc.symbols.sched_setscheduler(0, SCHED_IDLE, ptr(schedParam));
    if (status !== 0) throw new Error(`sched_setscheduler(SCHED_IDLE) returned ${status}`);
    return true;
  } finally {
    libc.close();
  }
}

function perform(job: PasswordJob): string | boolean {
  switch (job.op) {
    case "hash":
      return bcrypt.hashSync(job.password, job.cost);
    case "verify":
      return bcrypt.compareSync(job.password, job.hash);
    case "idle":
      return runOnlyWhenIdle();
  }
}

self.onmessage = (event: MessageEvent<PasswordJob>) => {
  const job = event.data;
  try {
    self.postMessage({ id: job.id, value: perform(job) } satisfies PasswordResult);
  } catch (error) {
    self.postMessage({ id: job.id, error: String(error) } satisfies PasswordResult);
  }
};

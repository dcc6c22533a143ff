import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import bcrypt from "bcryptjs";

/** One job for a password worker thread, so a login storm never blocks the event loop. */
export type PasswordJob =
  | { id: number; op: "hash"; password: string; cost: number }
  | { id: number; op: "verify"; password: string; hash: string }
  | { id: number; op: "nice"; nice: number };

export type PasswordResult =
  | { id: number; value: string | boolean }
  | { id: number; error: string };

declare const self: Worker;

/**
 * Gives this thread, and only this thread, the nice value `nice`. On Linux a thread is a task
 * with a priority of its own, addressed by its thread id (/proc/thread-self names it); other
 * systems have no such path and the call fails, leaving the thread at normal priority.
 */
function lowerPriority(nice: number): boolean {
  const task = readlinkSync("/proc/thread-self");
  setPriority(Number(task.slice(task.lastIndexOf("/") + 1)), nice);
  return true;
}

function perform(job: PasswordJob): string | boolean {
  switch (job.op) {
    case "hash":
      return bcrypt.hashSync(job.password, job.cost);
    case "verify":
      return bcrypt.compareSync(job.password, job.hash);
    case "nice":
      return lowerPriority(job.nice);
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

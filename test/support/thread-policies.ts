import { readdirSync, readFileSync } from "node:fs";

export const SCHED_OTHER = 0;
export const SCHED_IDLE = 5;

export interface ThreadPolicy {
  /** The thread's name, as Linux keeps it (at most 15 characters). */
  name: string;
  policy: number;
}

/** Name and scheduling policy (field 41 of /proc/self/task/<tid>/stat) of each thread. */
export function threadPolicies(): ThreadPolicy[] {
  return readdirSync("/proc/self/task").map((tid) => policyOf(`/proc/self/task/${tid}/stat`));
}

export function policyOf(statPath: string): ThreadPolicy {
  const stat = readFileSync(statPath, "utf8");
  // The name may hold spaces and parentheses: count fields after its last closing parenthesis.
  const nameEnd = stat.lastIndexOf(")");
  return {
    name: stat.slice(stat.indexOf("(") + 1, nameEnd),
    policy: Number(stat.slice(nameEnd + 2).split(" ")[38]),
  };
}

/**
 * Threads that serve the whole process, the main thread's requests included: the main thread,
 * Bun's I/O pool, the JIT's compilers and JSC's GC helpers. None may run under SCHED_IDLE.
 * (A thread inherits its creator's policy and name, so threads an idle worker makes for its own
 * heap are idle too, some of them named "Worker"; that is harmless and not checked.)
 */
export function sharedThreadsAtIdle(threads: ThreadPolicy[]): ThreadPolicy[] {
  const shared = /^(bun|Bun Pool \d+|HeapHelper|JITWorker|mi-scavenger|JSCWarmUp)$/;
  return threads.filter((thread) => shared.test(thread.name) && thread.policy === SCHED_IDLE);
}

/**
 * At least `workers` threads are named "Worker" (Bun's name for a worker's thread), and every
 * one of them runs under SCHED_IDLE: a worker left at normal priority is caught, whatever
 * threads the idle ones made (those inherit their name and their policy).
 */
export function workersAllIdle(threads: ThreadPolicy[], workers: number): boolean {
  const named = threads.filter((thread) => thread.name === "Worker");
  return named.length >= workers && named.every((thread) => thread.policy === SCHED_IDLE);
}

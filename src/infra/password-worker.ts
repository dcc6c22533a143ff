import bcrypt from "bcryptjs";

/** One bcrypt job, run in a worker thread so a login storm never blocks the event loop. */
export type PasswordJob =
  | { id: number; op: "hash"; password: string; cost: number }
  | { id: number; op: "verify"; password: string; hash: string };

export type PasswordResult =
  | { id: number; value: string | boolean }
  | { id: number; error: string };

declare const self: Worker;

self.onmessage = (event: MessageEvent<PasswordJob>) => {
  const job = event.data;
  try {
    const value =
      job.op === "hash"
        ? bcrypt.hashSync(job.password, job.cost)
        : bcrypt.compareSync(job.password, job.hash);
    self.postMessage({ id: job.id, value } satisfies PasswordResult);
  } catch (error) {
    self.postMessage({ id: job.id, error: String(error) } satisfies PasswordResult);
  }
};

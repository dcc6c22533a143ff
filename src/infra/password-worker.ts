import bcrypt from "bcryptjs";

/** One job for a password worker thread, so a login storm never blocks the event loop. */
export type PasswordJob =
  | { id: number; op: "hash"; password: string; cost: number }
  | { id: number; op: "verify"; password: string; hash: string };

export type PasswordResult =
  | { id: number; value: string | boolean }
  | { id: number; error: string };

declare const self: Worker;

function perform(job: PasswordJob): string | boolean {
  switch (job.op) {
    case "hash":
      return bcrypt.hashSync(job.password, job.cost);
    case "verify":
      return bcrypt.compareSync(job.password, job.hash);
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

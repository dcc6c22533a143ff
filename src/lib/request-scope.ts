import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The X-Request-Id of the HTTP request whose work is running, wherever it runs: the booking
 * log stamps its entries with it without every service signature carrying it. Set by the
 * request-context middleware; work outside a request (the worker, timers started at boot)
 * sees none.
 */
const requestIds = new AsyncLocalStorage<string>();

export function inRequest<T>(requestId: string, work: () => T): T {
  return requestIds.run(requestId, work);
}

export function currentRequestId(): string | null {
  return requestIds.getStore() ?? null;
}

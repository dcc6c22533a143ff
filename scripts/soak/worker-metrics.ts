/**
 * The worker's own /metrics (WORKER_METRICS_PORT): how many bookings it expired, so the soak
 * can tell expiry by the cleanup job from the lazy expiry on the hold, pay and confirm paths.
 */

const EXPIRED = /^evently_booking_transitions_total\{to="EXPIRED"\}\s+(\d+(?:\.\d+)?)$/m;

/** Bookings the worker has expired; undefined when its /metrics cannot be read. */
export async function workerExpirations(metricsUrl: string): Promise<number | undefined> {
  try {
    const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) return undefined;
    const match = EXPIRED.exec(await response.text());
    return match ? Number(match[1]) : 0;
  } catch {
    return undefined;
  }
}

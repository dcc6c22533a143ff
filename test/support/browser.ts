import { type BrowserContext, chromium } from "playwright-core";

/** Debian's chromium: the browser suites run on it, and are skipped where it is absent. */
export const CHROMIUM = "/usr/bin/chromium";

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost"]);

/** A headless chromium that reaches out to nothing by itself (no updates, sync or QUIC). */
export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * Lets `context` reach this machine only: every other URL is refused and listed in
 * `outsideRequests`. Later routes of the context still see the local requests.
 */
export async function keepOffline(context: BrowserContext, outsideRequests: string[]) {
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (LOCAL_HOSTS.has(url.hostname)) return route.fallback();
    outsideRequests.push(url.href);
    return route.abort("internetdisconnected");
  });
}

import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** One API instance behind the balancer. */
export interface Upstream {
  name: string;
  baseUrl: string;
}

export interface HaproxySettings {
  /** Where the configuration and its error pages are written. */
  dir: string;
  /** The balancer listens on 127.0.0.1:<port>. */
  port: number;
  upstreams: Upstream[];
  /** Adds `X-Served-By: <upstream name>` to every answer (tests: which instance served it). */
  revealUpstream?: boolean;
}

/** HAProxy's own 502, 503 and 504 in the API's error shape, so clients parse them alike. */
function errorPage(message: string): string {
  const body = JSON.stringify({ message, code: "UNAVAILABLE" });
  return [
    "HTTP/1.1 503 Service Unavailable",
    "Content-Type: application/json",
    "Cache-Control: no-store",
    "Retry-After: 1",
    "Connection: close",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
}

/**
 * Writes an HAProxy (2.6) configuration for `upstreams` into `dir` and answers its path.
 *
 * - Health: `GET /health/ready` every second, two failures take an instance out, two successes
 *   bring it back; a refused connection takes it out at once (`observe layer4`).
 * - Retries: a request whose connection to an instance failed was never sent, so it is sent
 *   again to another instance (`retries`, `option redispatch`). A request the instance closed
 *   without an answer is sent again only when it is a GET or HEAD: a hold, payment or
 *   confirmation may have committed before the instance died.
 * - Such an in-doubt request (and no instance at all) is answered 503 `UNAVAILABLE`, in the
 *   API's error shape, like the API's own answer when it cannot tell whether a commit happened.
 * - `X-Forwarded-For` is appended: run the instances with `TRUST_PROXY=1`.
 * - Live seat-map streams stay open: a heartbeat comes every 15 s, well inside the 60 s idle
 *   timeouts.
 */
export function writeHaproxyConfig(settings: HaproxySettings): string {
  const inDoubt = join(settings.dir, "in-doubt.http");
  const noInstance = join(settings.dir, "no-instance.http");
  writeFileSync(
    inDoubt,
    errorPage(
      "The server handling this request stopped before answering; it may or may not have taken effect. Check before retrying.",
    ),
  );
  writeFileSync(noInstance, errorPage("No server can take this request right now; retry shortly."));
  const config = [
    "global",
    "  maxconn 4096",
    "",
    "defaults",
    "  mode http",
    "  timeout connect 2s",
    "  timeout client 60s",
    "  timeout server 60s",
    "  timeout http-request 10s",
    "  option forwardfor",
    "  retries 3",
    "  option redispatch 1",
    "  retry-on conn-failure empty-response",
    `  errorfile 502 ${inDoubt}`,
    `  errorfile 504 ${inDoubt}`,
    `  errorfile 503 ${noInstance}`,
    "",
    "frontend evently",
    `  bind 127.0.0.1:${settings.port}`,
    "  http-request disable-l7-retry unless METH_GET || METH_HEAD",
    ...(settings.revealUpstream ? ["  http-response set-header X-Served-By %[srv_name]"] : []),
    "  default_backend api",
    "",
    "backend api",
    "  balance roundrobin",
    // HTTP/1.0 without a Host header (HAProxy's default check) is answered 404 by Bun.
    "  option httpchk GET /health/ready HTTP/1.1",
    "  http-check send hdr Host localhost",
    "  http-check expect status 200",
    "  default-server check inter 1s fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down",
    ...settings.upstreams.map(
      (upstream) => `  server ${upstream.name} ${new URL(upstream.baseUrl).host}`,
    ),
    "",
  ].join("\n");
  const path = join(settings.dir, "haproxy.cfg");
  writeFileSync(path, config);
  return path;
}

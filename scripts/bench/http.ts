import { Connection, ConnectionError, type RawResponse } from "./http1";

/**
 * The load generator's HTTP client: a pool of keep-alive HTTP/1.1 connections per base URL
 * (./http1.ts; a connection per request in flight, so 1,000 simultaneous logins are 1,000
 * simultaneous requests), requests spread round-robin over the target's base URLs, every
 * request timed with performance.now() from before it is sent until its body has arrived.
 */

export interface Reply {
  /** HTTP status, or 0 when no response arrived (see `failure`). */
  status: number;
  /** The Retry-After header, in seconds, when the answer has one. */
  retryAfterSeconds?: number;
  failure?: "timeout" | "network error";
  /** performance.now() when the request was sent. */
  startedAt: number;
  ms: number;
  /** Body bytes received (the client asks for no compression). */
  bytes: number;
  /** The parsed JSON body when `read` was "json" and the body was JSON. */
  body?: unknown;
}

export interface Request {
  method?: "GET" | "POST";
  path: string;
  token?: string;
  json?: unknown;
  headers?: Record<string, string>;
  /** "json" parses the body; "bytes" only counts it (cheaper for large responses). */
  read?: "json" | "bytes";
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

const methodOf = (request: Request) =>
  request.method ?? (request.json === undefined ? "GET" : "POST");

/** A status or failure, as counted in the results ("200", "409", "timeout"…). */
export const outcomeOf = (reply: Reply) => reply.failure ?? String(reply.status);

/** A base URL, parsed once: plain HTTP to a host and port, no path. */
interface Target {
  origin: string;
  /** The Host header: host and port. */
  host: string;
  hostname: string;
  port: number;
}

function targetOf(baseUrl: string): Target {
  const url = new URL(baseUrl);
  if (url.protocol !== "http:" || (url.pathname !== "/" && url.pathname !== "")) {
    throw new Error(`the bench's client speaks plain HTTP to a host, not ${baseUrl}`);
  }
  return {
    origin: url.origin,
    host: url.host,
    hostname: url.hostname,
    port: Number(url.port || 80),
  };
}

export class HttpClient {
  private turn = 0;
  private readonly targets: Target[];
  private readonly idle = new Map<string, Connection[]>();

  constructor(readonly baseUrls: string[]) {
    if (baseUrls.length === 0) throw new Error("HttpClient needs at least one base URL");
    this.targets = baseUrls.map(targetOf);
  }

  private nextTarget(): Target {
    const target = this.targets[this.turn % this.targets.length] as Target;
    this.turn += 1;
    return target;
  }

  async send(request: Request): Promise<Reply> {
    const target = this.nextTarget();
    const bytes = encodeRequest(target, request);
    const startedAt = performance.now();
    try {
      const response = await this.exchange(request, target, bytes, request.read === "json");
      const ms = performance.now() - startedAt;
      return {
        status: response.status,
        retryAfterSeconds: response.retryAfterSeconds,
        startedAt,
        ms,
        bytes: response.bytes,
        body: response.body && parseJson(response.body),
      };
    } catch (error) {
      const timedOut = error instanceof Error && error.name === "TimeoutError";
      return {
        status: 0,
        failure: timedOut ? "timeout" : "network error",
        startedAt,
        ms: performance.now() - startedAt,
        bytes: 0,
      };
    }
  }

  /**
   * One request on an idle connection, or a new one. A GET on a reused connection that the
   * server closed while it idled goes once more on a new one; any other request is not sent
   * twice (the server may have acted on it before the connection went).
   */
  private async exchange(request: Request, target: Target, bytes: Uint8Array, keepBody: boolean) {
    const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const pool = this.idle.get(target.origin) ?? [];
    this.idle.set(target.origin, pool);
    let reused = pool.pop();
    while (reused?.closed) reused = pool.pop();
    let response: RawResponse;
    let connection = reused ?? (await openConnection(target, timeoutMs));
    try {
      response = await connection.send(bytes, timeoutMs, keepBody);
    } catch (error) {
      const retryable =
        reused &&
        methodOf(request) === "GET" &&
        error instanceof ConnectionError &&
        error.name !== "TimeoutError";
      if (!retryable) throw error;
      connection = await openConnection(target, timeoutMs);
      response = await connection.send(bytes, timeoutMs, keepBody);
    }
    if (!connection.closed) pool.push(connection);
    return response;
  }

  /** Like send(), but any status other than `expected` is an error (for setup calls). */
  async expect<T>(expected: number, request: Request): Promise<T> {
    const reply = await this.send({ ...request, read: "json" });
    if (reply.status !== expected) {
      throw new Error(
        `${methodOf(request)} ${request.path} → ` +
          `${outcomeOf(reply)} (expected ${expected}): ${JSON.stringify(reply.body)}`,
      );
    }
    return reply.body as T;
  }
}

function openConnection(target: Target, timeoutMs: number): Promise<Connection> {
  return Connection.open(target.hostname, target.port, timeoutMs);
}

function encodeRequest(target: Target, request: Request): Uint8Array {
  const body = request.json === undefined ? "" : JSON.stringify(request.json);
  let head = `${methodOf(request)} ${request.path} HTTP/1.1\r\nHost: ${target.host}\r\n`;
  if (request.token) head += `Authorization: Bearer ${request.token}\r\n`;
  if (request.json !== undefined) head += "Content-Type: application/json\r\n";
  for (const [name, value] of Object.entries(request.headers ?? {}))
    head += `${name}: ${value}\r\n`;
  head += `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return Buffer.from(head + body);
}

function parseJson(raw: Uint8Array): unknown {
  if (raw.byteLength === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(raw));
  } catch {
    return undefined;
  }
}

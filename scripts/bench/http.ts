/**
 * The load generator's HTTP client: Bun's fetch (keep-alive connection pool), requests spread
 * round-robin over the target's base URLs, every request timed with performance.now() from
 * before fetch() until its body has been read.
 */

export interface Reply {
  /** HTTP status, or 0 when no response arrived (see `failure`). */
  status: number;
  failure?: "timeout" | "network error";
  /** performance.now() when the request was sent. */
  startedAt: number;
  ms: number;
  /** Body bytes as received (after any content decoding). */
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

export class HttpClient {
  private turn = 0;

  constructor(readonly baseUrls: string[]) {
    if (baseUrls.length === 0) throw new Error("HttpClient needs at least one base URL");
  }

  private nextBaseUrl(): string {
    const url = this.baseUrls[this.turn % this.baseUrls.length] as string;
    this.turn += 1;
    return url;
  }

  async send(request: Request): Promise<Reply> {
    const headers: Record<string, string> = { ...request.headers };
    if (request.token) headers.Authorization = `Bearer ${request.token}`;
    if (request.json !== undefined) headers["Content-Type"] = "application/json";
    const url = this.nextBaseUrl() + request.path;
    const startedAt = performance.now();
    try {
      const response = await fetch(url, {
        method: methodOf(request),
        headers,
        body: request.json === undefined ? undefined : JSON.stringify(request.json),
        signal: AbortSignal.timeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
      const raw = new Uint8Array(await response.arrayBuffer());
      const ms = performance.now() - startedAt;
      return {
        status: response.status,
        startedAt,
        ms,
        bytes: raw.byteLength,
        body: request.read === "json" ? parseJson(raw) : undefined,
      };
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === "TimeoutError";
      return {
        status: 0,
        failure: timedOut ? "timeout" : "network error",
        startedAt,
        ms: performance.now() - startedAt,
        bytes: 0,
      };
    }
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

function parseJson(raw: Uint8Array): unknown {
  if (raw.byteLength === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(raw));
  } catch {
    return undefined;
  }
}

import type { Socket } from "bun";

/**
 * A minimal HTTP/1.1 client for the load generator: keep-alive connections over Bun.connect,
 * one request in flight per connection, answers with Content-Length or chunked bodies. The
 * load generator shares the machine with the system it measures, and fetch() spent twice
 * this client's CPU per request (about 30 against 15 µs for a hello world), plus a thread.
 */

export interface RawResponse {
  status: number;
  /** The Retry-After header, in seconds, when the answer has one. */
  retryAfterSeconds?: number;
  /** Body bytes received. */
  bytes: number;
  /** The body, when the request asked to keep it. */
  body?: Uint8Array;
}

export class ConnectionError extends Error {}

function timeoutError(): ConnectionError {
  const error = new ConnectionError("timeout");
  error.name = "TimeoutError";
  return error;
}

const CRLF_CRLF = Buffer.from("\r\n\r\n");

interface InFlight {
  resolve: (response: RawResponse) => void;
  reject: (error: Error) => void;
  timer: Timer;
  keepBody: boolean;
}

/** The answer being received: its head, and its body so far. */
interface Incoming {
  head: Head;
  /** Content-Length bodies: the body, allocated once its length is known. */
  body?: Buffer;
  /** Body bytes received (and, when kept, copied into `body`). */
  filled: number;
}

interface Head {
  status: number;
  /** Where the body starts in the bytes received. */
  bodyStart: number;
  /** Body bytes announced by Content-Length (0 for answers that have no body). */
  length: number;
  chunked: boolean;
  keepAlive: boolean;
  retryAfterSeconds?: number;
}

/** Retry-After in seconds: a number of seconds, or an HTTP date; undefined if neither. */
function retryAfterSeconds(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** The status line and headers, once the bytes received hold all of them. */
function parseHead(buffer: Buffer): Head | undefined {
  const headerEnd = buffer.indexOf(CRLF_CRLF);
  if (headerEnd < 0) return undefined;
  const lines = buffer.toString("latin1", 0, headerEnd).split("\r\n");
  const status = Number((lines[0] as string).split(" ")[1]);
  const head: Head = {
    status,
    bodyStart: headerEnd + CRLF_CRLF.length,
    length: 0,
    chunked: false,
    keepAlive: true,
  };
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index] as string;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (name === "content-length") head.length = Number(value);
    else if (name === "transfer-encoding") head.chunked = value.includes("chunked");
    else if (name === "connection") head.keepAlive = value !== "close";
    else if (name === "retry-after") head.retryAfterSeconds = retryAfterSeconds(value);
  }
  // 1xx, 204 and 304 answers have no body whatever their headers say.
  if (status < 200 || status === 204 || status === 304) head.length = 0;
  return head;
}

function decodeChunked(
  buffer: Buffer,
  start: number,
): { body: Uint8Array; rest: Buffer } | undefined {
  const chunks: Buffer[] = [];
  let offset = start;
  for (;;) {
    const lineEnd = buffer.indexOf("\r\n", offset);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(buffer.toString("latin1", offset, lineEnd), 16);
    if (Number.isNaN(size)) throw new ConnectionError("malformed chunked body");
    const dataStart = lineEnd + 2;
    if (size === 0) {
      // No trailers are sent to this client: the last chunk is followed by one empty line.
      if (buffer.length < dataStart + 2) return undefined;
      return { body: Buffer.concat(chunks), rest: buffer.subarray(dataStart + 2) };
    }
    if (buffer.length < dataStart + size + 2) return undefined;
    chunks.push(buffer.subarray(dataStart, dataStart + size));
    offset = dataStart + size + 2;
  }
}

/** One keep-alive connection; requests on it go one after the other. */
export class Connection {
  /** Bytes received before the answer's head was complete (or all of a chunked answer). */
  private pending?: Buffer;
  private incoming?: Incoming;
  private inFlight?: InFlight;
  private unsent?: Uint8Array;
  closed = false;

  private constructor(private socket?: Socket<Connection>) {}

  /** Connects, or fails with a timeout after `timeoutMs` (a late connection is closed). */
  static async open(hostname: string, port: number, timeoutMs: number): Promise<Connection> {
    const connection = new Connection();
    const connecting = Bun.connect<Connection>({
      hostname,
      port,
      data: connection,
      socket: {
        data: (socket, bytes) => socket.data.onData(bytes),
        drain: (socket) => socket.data.flush(),
        close: (socket) => socket.data.fail(new ConnectionError("connection closed")),
        error: (socket, error) => socket.data.fail(new ConnectionError(error.message)),
      },
    });
    let timer: Timer | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError()), timeoutMs);
    });
    try {
      connection.socket = await Promise.race([connecting, deadline]);
    } catch (error) {
      // The request has failed with the timeout: a connection that opens later is closed, and
      // a connect that fails later has nobody left to tell.
      connecting.then(
        (socket) => socket.terminate(),
        () => undefined,
      );
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return connection;
  }

  /**
   * Sends `request` (a whole HTTP/1.1 request) and resolves with the answer; its body is kept
   * only with `keepBody` (counting a 350 KB seat map costs far less than keeping it).
   */
  send(request: Uint8Array, timeoutMs: number, keepBody: boolean): Promise<RawResponse> {
    if (this.closed || this.inFlight) {
      return Promise.reject(new ConnectionError("connection not available"));
    }
    return new Promise<RawResponse>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(timeoutError()), timeoutMs);
      this.inFlight = { resolve, reject, timer, keepBody };
      this.unsent = request;
      this.flush();
    });
  }

  close(): void {
    this.closed = true;
    this.socket?.end();
  }

  private flush(): void {
    if (!this.unsent || !this.socket) return;
    const written = this.socket.write(this.unsent);
    if (written < 0) {
      this.fail(new ConnectionError("write on a closed socket"));
      return;
    }
    this.unsent = written < this.unsent.length ? this.unsent.subarray(written) : undefined;
  }

  private onData(bytes: Buffer): void {
    if (!this.inFlight) return;
    if (this.incoming && !this.incoming.head.chunked) {
      this.receiveBody(this.incoming, bytes, 0);
      return;
    }
    const buffer = this.pending ? Buffer.concat([this.pending, bytes]) : bytes;
    this.pending = buffer;
    const head = this.incoming?.head ?? parseHead(buffer);
    if (!head) return;
    if (head.chunked) {
      this.incoming = { head, filled: 0 };
      let decoded: ReturnType<typeof decodeChunked>;
      try {
        decoded = decodeChunked(buffer, head.bodyStart);
      } catch (error) {
        this.fail(error as ConnectionError);
        return;
      }
      if (decoded) this.finish(head, decoded.body.length, decoded.body);
      return;
    }
    this.pending = undefined;
    const body = this.inFlight.keepBody ? Buffer.allocUnsafe(head.length) : undefined;
    this.incoming = { head, body, filled: 0 };
    this.receiveBody(this.incoming, buffer, head.bodyStart);
  }

  /** Takes the body bytes of `bytes` from `offset` on; finishes once the body is complete. */
  private receiveBody(incoming: Incoming, bytes: Buffer, offset: number): void {
    const { head } = incoming;
    const count = Math.min(bytes.length - offset, head.length - incoming.filled);
    incoming.body?.set(bytes.subarray(offset, offset + count), incoming.filled);
    incoming.filled += count;
    if (incoming.filled === head.length) this.finish(head, head.length, incoming.body);
  }

  private finish(head: Head, bytes: number, body: Uint8Array | undefined): void {
    const inFlight = this.inFlight as InFlight;
    clearTimeout(inFlight.timer);
    this.inFlight = undefined;
    this.incoming = undefined;
    this.pending = undefined;
    // An answer that came before the whole request was written leaves the stream unusable.
    if (!head.keepAlive || this.unsent) {
      this.unsent = undefined;
      this.close();
    }
    inFlight.resolve({
      status: head.status,
      retryAfterSeconds: head.retryAfterSeconds,
      bytes,
      body: inFlight.keepBody ? body : undefined,
    });
  }

  private fail(error: Error): void {
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    const wasOpen = !this.closed;
    this.closed = true;
    // Terminating calls the close handler at once; the request is no longer in flight then.
    if (wasOpen) this.socket?.terminate();
    if (!inFlight) return;
    clearTimeout(inFlight.timer);
    inFlight.reject(error);
  }
}

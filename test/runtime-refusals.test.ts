import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import type { Server } from "bun";
import { expectError } from "./support/answers";
import { createTestApp, type TestApp } from "./support/harness";

/** What came back on a raw connection. */
interface RawAnswer {
  /** The status line and header lines, as sent. */
  head: string;
  headers: Headers;
  body: string;
}

/** Writes `bytes` to a fresh connection as they are (no client fixes them up) and reads to EOF. */
function sendRaw(port: number, bytes: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1", () => socket.end(bytes));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const [head = "", body = ""] = text.split(/\r\n\r\n(.*)/s);
      const headers = new Headers();
      for (const line of head.split("\r\n").slice(1)) {
        const colon = line.indexOf(":");
        headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
      }
      resolve({ head, headers, body });
    });
  });
}

const request = (target: string, headers = "") =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`;

/**
 * Bun's HTTP parser answers some requests itself, before any handler: the app cannot put its
 * error shape on these, and Bun.serve's `error` handler is not called for them either. If a
 * Bun release starts passing them on, these tests fail: then give them the error shape.
 */
describe("requests Bun refuses before the app sees them", () => {
  let app: TestApp;
  let server: Server<undefined>;
  const reachedTheApp: string[] = [];
  const reachedTheErrorHandler: string[] = [];

  beforeAll(async () => {
    app = await createTestApp("embedded");
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (incoming) => {
        reachedTheApp.push(incoming.url);
        return app.runtime.app.fetch(incoming);
      },
      error: (error) => {
        reachedTheErrorHandler.push(error.message);
        return Response.json({ message: "Bad request", code: "BAD_REQUEST" }, { status: 400 });
      },
    });
  });
  afterAll(async () => {
    await server?.stop(true);
    await app?.close();
  });

  test("a query string within the header limit reaches the app and gets its error shape", async () => {
    reachedTheApp.length = 0;
    const answer = await sendRaw(
      server.port as number,
      request(`/api/v1/shows?page=${"9".repeat(8000)}`),
    );
    const status = Number(answer.head.slice("HTTP/1.1 ".length, "HTTP/1.1 ".length + 3));
    expectError(
      { status, headers: answer.headers, body: JSON.parse(answer.body) },
      400,
      "VALIDATION_ERROR",
    );
    expect(reachedTheApp.length).toBe(1);
  });

  test("a query string over the header limit: 431 with an empty body, from Bun alone", async () => {
    reachedTheApp.length = 0;
    const answer = await sendRaw(
      server.port as number,
      request(`/api/v1/shows?q=${"a".repeat(70_000)}`),
    );
    expect(answer.head).toBe("HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close");
    expect(answer.body).toBe("");
    expect({ reachedTheApp, reachedTheErrorHandler }).toEqual({
      reachedTheApp: [],
      reachedTheErrorHandler: [],
    });
  });

  test("a header value with a bare CR: 400 with an empty body, from Bun alone", async () => {
    reachedTheApp.length = 0;
    const answer = await sendRaw(server.port as number, request("/health", "X-Note: a\rb\r\n"));
    expect(answer.head).toBe("HTTP/1.1 400 Bad Request\r\nConnection: close");
    expect(answer.body).toBe("");
    expect({ reachedTheApp, reachedTheErrorHandler }).toEqual({
      reachedTheApp: [],
      reachedTheErrorHandler: [],
    });
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { HttpClient } from "../scripts/bench/http";

// The load generator's own HTTP/1.1 client: every figure of `bun run bench` rests on it.
describe("the bench's HTTP client", () => {
  const large = "x".repeat(1_000_000);
  let server: Server<undefined>;
  let http: HttpClient;

  beforeAll(() => {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 1,
      async fetch(request) {
        const url = new URL(request.url);
        switch (url.pathname) {
          case "/echo":
            return Response.json({
              method: request.method,
              authorization: request.headers.get("Authorization"),
              header: request.headers.get("X-Test"),
              body: request.method === "POST" ? await request.json() : null,
            });
          case "/large":
            return new Response(large);
          case "/chunked":
            return new Response(
              new ReadableStream({
                async pull(controller) {
                  controller.enqueue(new TextEncoder().encode('{"parts":'));
                  await Bun.sleep(5);
                  controller.enqueue(new TextEncoder().encode("[1,2,3]}"));
                  controller.close();
                },
              }),
              { headers: { "Content-Type": "application/json" } },
            );
          case "/not-modified":
            return new Response(null, { status: 304, headers: { ETag: '"v1"' } });
          case "/close":
            return new Response('{"closing":true}', { headers: { Connection: "close" } });
          case "/busy":
            return Response.json(
              { code: "UNAVAILABLE" },
              { status: 503, headers: { "Retry-After": url.searchParams.get("after") ?? "3" } },
            );
          case "/slow":
            await Bun.sleep(500);
            return new Response("late");
          default:
            return Response.json({ error: "missing" }, { status: 404 });
        }
      },
    });
    http = new HttpClient([`http://127.0.0.1:${server.port}`]);
  });
  afterAll(() => server.stop(true));

  test("sends method, token, headers and JSON body; parses the JSON answer", async () => {
    const reply = await http.send({
      path: "/echo",
      token: "t0k3n",
      headers: { "X-Test": "yes" },
      json: { seat_ids: [1, 2], note: "é" },
      read: "json",
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      method: "POST",
      authorization: "Bearer t0k3n",
      header: "yes",
      body: { seat_ids: [1, 2], note: "é" },
    });
    expect(reply.bytes).toBe(JSON.stringify(reply.body).length + 1); // "é" is two bytes
  });

  test("reads Retry-After, as a client told to come back later would", async () => {
    const busy = await http.send({ path: "/busy", json: {}, read: "json" });
    expect({ status: busy.status, retryAfterSeconds: busy.retryAfterSeconds }).toEqual({
      status: 503,
      retryAfterSeconds: 3,
    });
    const fine = await http.send({ path: "/echo", read: "json" });
    expect(fine.retryAfterSeconds).toBeUndefined();
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    const dated = await http.send({ path: `/busy?after=${encodeURIComponent(inTenSeconds)}` });
    expect(dated.retryAfterSeconds).toBeGreaterThanOrEqual(9);
    expect(dated.retryAfterSeconds).toBeLessThanOrEqual(11);
    const garbled = await http.send({ path: "/busy?after=soon" });
    expect(garbled.retryAfterSeconds).toBeUndefined();
  });

  test("reads large, chunked and empty bodies, counting or keeping them", async () => {
    const counted = await http.send({ path: "/large", read: "bytes" });
    expect(counted).toMatchObject({ status: 200, bytes: large.length, body: undefined });
    const chunked = await http.send({ path: "/chunked", read: "json" });
    expect(chunked).toMatchObject({ status: 200, body: { parts: [1, 2, 3] } });
    const empty = await http.send({ path: "/not-modified", read: "json" });
    expect(empty).toMatchObject({ status: 304, bytes: 0, body: undefined });
    const missing = await http.send({ path: "/nowhere", read: "json" });
    expect(missing).toMatchObject({ status: 404, body: { error: "missing" } });
  });

  test("keeps connections alive, and recovers from ones the server closed", async () => {
    const replies = await Promise.all(
      Array.from({ length: 300 }, () => http.send({ path: "/echo", read: "json" })),
    );
    expect(replies.map((reply) => reply.status)).toEqual(Array(300).fill(200));
    expect((await http.send({ path: "/close", read: "json" })).body).toEqual({ closing: true });
    // The server's idle timeout closes every pooled connection; the next requests still work.
    await Bun.sleep(2_500);
    const after = await Promise.all(
      Array.from({ length: 20 }, () => http.send({ path: "/echo", read: "json" })),
    );
    expect(after.map((reply) => reply.status)).toEqual(Array(20).fill(200));
  });

  test("a request past its timeout fails as a timeout, and nothing is left waiting", async () => {
    const slow = await http.send({ path: "/slow", timeoutMs: 100 });
    expect(slow.status).toBe(0);
    expect(slow.failure).toBe("timeout");
    expect((await http.send({ path: "/echo" })).status).toBe(200);
  });

  test("a refused connection is a network error", async () => {
    const nobody = new HttpClient(["http://127.0.0.1:1"]);
    const reply = await nobody.send({ path: "/" });
    expect(reply).toMatchObject({ status: 0, failure: "network error" });
  });
});

describe("the bench's HTTP client on a connection the server drops", () => {
  let opened = 0;
  let requests = 0;
  let dropNext = false;
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open() {
        opened++;
      },
      // The client's requests are small: each read is one whole request.
      data(socket) {
        requests++;
        if (dropNext) {
          dropNext = false;
          socket.terminate();
          return;
        }
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      },
    },
  });
  afterAll(() => server.stop(true));
  const client = () => new HttpClient([`http://127.0.0.1:${server.port}`]);

  test("one connection carries requests sent one after the other", async () => {
    const http = client();
    const before = opened;
    for (let index = 0; index < 20; index++) {
      expect((await http.send({ path: "/" })).status).toBe(200);
    }
    expect(opened - before).toBe(1);
  });

  test("a dropped GET goes once more on a new connection; a dropped POST is never sent twice", async () => {
    const http = client();
    expect((await http.send({ path: "/" })).status).toBe(200);

    let before = requests;
    dropNext = true;
    expect((await http.send({ path: "/" })).status).toBe(200);
    expect(requests - before).toBe(2);

    before = requests;
    dropNext = true;
    const post = await http.send({ path: "/bookings/lock", json: { seat_ids: [1] } });
    expect(post).toMatchObject({ status: 0, failure: "network error" });
    expect(requests - before).toBe(1);
  });
});

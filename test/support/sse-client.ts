export interface SseEvent {
  event: string;
  data: string;
}

/** An SSE client on fetch: parses `event:`/`data:` lines; every wait is bounded. */
export class SseClient {
  private readonly events: SseEvent[] = [];
  private cursor = 0;
  private notify?: () => void;
  private ended = false;

  private constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {
    void this.pump();
  }

  /** Opens the stream; answers the client, or the response when it is not a stream. */
  static async open(
    url: string,
    headers: Record<string, string> = {},
  ): Promise<SseClient | Response> {
    const controller = new AbortController();
    const response = await fetch(url, {
      headers: { Accept: "text/event-stream", ...headers },
      signal: controller.signal,
    });
    if (response.status !== 200) return response;
    return new SseClient(response, controller);
  }

  /** The next event in order, or throws after `timeoutMs`. */
  async next(timeoutMs: number): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = this.events[this.cursor];
      if (event) {
        this.cursor++;
        return event;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.ended) {
        throw new Error(`no SSE event within ${timeoutMs} ms (ended: ${this.ended})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.notify = undefined;
    }
  }

  /** Skips events until one of `name` arrives (heartbeats may come in between). */
  async nextOf(name: string, timeoutMs: number): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = await this.next(Math.max(1, deadline - Date.now()));
      if (event.event === name) return event;
    }
  }

  close() {
    this.controller.abort();
  }

  /** Whether the server ended the stream within `timeoutMs`. */
  async endsWithin(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && Date.now() < deadline) await Bun.sleep(20);
    return this.ended;
  }

  private async pump() {
    const reader = (this.response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        for (;;) {
          const end = buffer.indexOf("\n\n");
          if (end < 0) break;
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = "message";
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) event = line.slice(6).trim();
            else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
          }
          if (data.length > 0) this.events.push({ event, data: data.join("\n") });
          this.notify?.();
        }
      }
    } catch {
      // aborted by close()
    } finally {
      this.ended = true;
      this.notify?.();
    }
  }
}

/**
 * The next `change` event about exactly `seatIds` (holds of earlier tests may lapse meanwhile
 * and announce other seats), within `timeoutMs`.
 */
export async function changeOf(client: SseClient, seatIds: number[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const event = await client.nextOf("change", Math.max(1, deadline - Date.now()));
    const body = JSON.parse(event.data) as { seat_ids: number[]; status: string };
    if (body.seat_ids.join() === seatIds.join()) return body;
  }
}

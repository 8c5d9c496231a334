import { onTestFinished } from "vitest";

// A test's client of the API's server-sent event streams (`/v1/tasks/{id}/events`,
// `/v1/batches/{id}/events`), reading them with fetch as the console does.

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** A small server-sent events reader over fetch's body (the parsing rules of the SSE spec). */
export class SseReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  ended = false;
  private read = 0;
  private commentsRead = 0;
  private waiters: Array<() => void> = [];

  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly controller: AbortController,
  ) {
    void this.pump(body);
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    let id: string | undefined;
    let event = "";
    let data: string[] = [];
    const onLine = (line: string) => {
      if (line === "") {
        if (data.length > 0)
          this.events.push({ id, event: event || "message", data: data.join("\n") });
        event = "";
        data = [];
        return;
      }
      if (line.startsWith(":")) {
        this.comments.push(line.slice(1).trim());
        return;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "event") event = value;
      else if (field === "data") data.push(value);
    };
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.search(/\r\n|\r|\n/); end >= 0; end = buffer.search(/\r\n|\r|\n/)) {
          onLine(buffer.slice(0, end));
          buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
          this.wake();
        }
      }
    } catch {
      // Aborted by the test.
    } finally {
      this.ended = true;
      this.wake();
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  private async until(ready: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} in ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      while (!ready()) {
        await Promise.race([new Promise<void>((r) => this.waiters.push(r)), timedOut]);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next event, or null once the server ended the stream. */
  async next(): Promise<SseEvent | null> {
    await this.until(() => this.read < this.events.length || this.ended, "event");
    return this.read < this.events.length ? this.events[this.read++]! : null;
  }

  /** Every event left, until the server ends the stream. */
  async rest(): Promise<SseEvent[]> {
    await this.until(() => this.ended, "end of stream");
    const left = this.events.slice(this.read);
    this.read = this.events.length;
    return left;
  }

  async nextComment(): Promise<string> {
    await this.until(() => this.commentsRead < this.comments.length, "comment");
    return this.comments[this.commentsRead++]!;
  }

  close(): void {
    this.controller.abort();
  }
}

/**
 * Opens `url` as an event stream: a reader when the answer is one (closed when the test ends),
 * else the status and the JSON body of the refusal.
 */
export async function openEventStream(
  url: string,
  options: { key?: string; lastEventId?: string } = {},
): Promise<{ status: number; contentType: string | null; body: any; reader: SseReader | null }> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: {
      accept: "text/event-stream",
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.lastEventId !== undefined ? { "last-event-id": options.lastEventId } : {}),
    },
    signal: controller.signal,
  });
  const contentType = response.headers.get("content-type");
  if (response.status === 200 && contentType?.startsWith("text/event-stream")) {
    const reader = new SseReader(response.body!, controller);
    onTestFinished(() => reader.close());
    return { status: 200, contentType, body: undefined, reader };
  }
  const text = await response.text();
  return { status: response.status, contentType, body: text ? JSON.parse(text) : "", reader: null };
}

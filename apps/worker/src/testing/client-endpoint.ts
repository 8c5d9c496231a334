import { EventEmitter } from "node:events";
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { RedisConnection } from "@ripen/queue";
import { QueueEvents } from "bullmq";

/** A callback as the client's endpoint received it. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the endpoint answers a request: a status and body, or nothing at all (it hangs). */
export type Answer = { status: number; body?: string } | "hang";

/**
 * A client's webhook endpoint on loopback, for tests: each path answers as its responder says
 * (200 by default), every request is kept, and `received` fires as each one arrives.
 */
export class ClientEndpoint {
  readonly received: Received[] = [];
  readonly events = new EventEmitter<{ received: [Received] }>();
  private readonly responders = new Map<string, (n: number) => Answer>();
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<ClientEndpoint> {
    let endpoint: ClientEndpoint | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => endpoint!.handle(req.url ?? "/", req.headers, chunks, res));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    endpoint = new ClientEndpoint(server, `http://127.0.0.1:${port}`);
    return endpoint;
  }

  private handle(
    path: string,
    headers: IncomingHttpHeaders,
    chunks: Buffer[],
    res: ServerResponse,
  ): void {
    const received = { path, headers, body: Buffer.concat(chunks).toString("utf8") };
    this.received.push(received);
    const n = this.received.filter((r) => r.path === path).length;
    const answer = this.responders.get(path)?.(n) ?? { status: 200, body: "ok" };
    this.events.emit("received", received);
    if (answer === "hang") {
      this.hanging.add(res);
      res.on("close", () => this.hanging.delete(res));
      return;
    }
    res.writeHead(answer.status, { "content-type": "text/plain" }).end(answer.body ?? "");
  }

  /** A fresh path on this endpoint whose n-th request (from 1) gets `answer(n)`. */
  hook(answer: (n: number) => Answer = () => ({ status: 200, body: "ok" })): string {
    const path = `/hooks/${this.responders.size + 1}`;
    this.responders.set(path, answer);
    return `${this.url}${path}`;
  }

  requestsTo(url: string): Received[] {
    const path = new URL(url).pathname;
    return this.received.filter((r) => r.path === path);
  }

  /** Resolves with the `count`-th request to `url` (from 1), at once if it has come. */
  nthRequest(url: string, count: number): Promise<Received> {
    const path = new URL(url).pathname;
    return new Promise((resolve) => {
      const check = () => {
        const seen = this.received.filter((r) => r.path === path);
        if (seen.length < count) return false;
        this.events.off("received", check);
        resolve(seen[count - 1]!);
        return true;
      };
      this.events.on("received", check);
      check();
    });
  }

  /** Ends every request left hanging (the socket closes without an answer). */
  releaseHanging(): void {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  async close(): Promise<void> {
    this.releaseHanging();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

type JobEvent = "completed" | "delayed" | "failed";

/**
 * Every event of the deliveries queue since it was created, kept per job: a test awaits "the
 * job parked for the second time" or "the job completed" without polling or sleeping. It reads
 * the queue's event stream from its start, so nothing that happened before a wait is missed.
 */
export class DeliveryJobEvents {
  private readonly seen = new Map<string, JobEvent[]>();
  private readonly emitter = new EventEmitter();

  private constructor(
    private readonly events: QueueEvents,
    private readonly connection: RedisConnection,
  ) {}

  /** Listens on a connection of its own (a duplicate of `redis`: it blocks on the stream). */
  static async start(redis: RedisConnection, prefix: string): Promise<DeliveryJobEvents> {
    const connection = redis.duplicate();
    connection.on("error", () => {});
    const events = new QueueEvents("deliveries", { connection, prefix, lastEventId: "0" });
    const log = new DeliveryJobEvents(events, connection);
    for (const name of ["completed", "delayed", "failed"] as const) {
      events.on(name, ({ jobId }: { jobId: string }) => log.record(jobId, name));
    }
    await events.waitUntilReady();
    return log;
  }

  private record(jobId: string, event: JobEvent): void {
    const list = this.seen.get(jobId) ?? [];
    list.push(event);
    this.seen.set(jobId, list);
    this.emitter.emit("event");
  }

  count(jobId: string, event: JobEvent): number {
    return (this.seen.get(jobId) ?? []).filter((e) => e === event).length;
  }

  /** Resolves once the job has had `count` events of this kind; rejects after `timeoutMs`. */
  async waitFor(jobId: string, event: JobEvent, count = 1, timeoutMs = 15_000): Promise<void> {
    let listener = () => {};
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        listener = () => {
          if (this.count(jobId, event) >= count) resolve();
        };
        this.emitter.on("event", listener);
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `job ${jobId}: ${event} ×${count} not seen in ${timeoutMs} ms (saw ${JSON.stringify(this.seen.get(jobId) ?? [])})`,
              ),
            ),
          timeoutMs,
        );
        listener();
      });
    } finally {
      clearTimeout(timer);
      this.emitter.off("event", listener);
    }
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.connection.quit().catch(() => {});
  }
}

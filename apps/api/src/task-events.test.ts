import { createTaskEnder, endTask } from "@ripen/core";
import { listen } from "@ripen/infra";
import {
  createRedis,
  createTaskEndingEffects,
  createTaskEventSubscriber,
  createTaskNotifier,
  taskEventsChannel,
} from "@ripen/queue";
import {
  openEventStream,
  type SseEvent,
  type SseReader,
  startTestStack,
  type TestStack,
} from "@ripen/testkit";
import { sweep } from "@ripen/worker";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createApiApp } from "./app";
import { createTaskEventStreams } from "./task-event-streams";

// Live status over SSE: `GET /v1/tasks/{id}/events`. The stack's API and the extra "API
// processes" below re-read Postgres only once an hour, so every live event they send came
// through Redis pub/sub, except in the test of that safety net itself.

const openStream = (
  baseUrl: string,
  taskId: string,
  options: { key?: string; lastEventId?: string } = {},
) => openEventStream(`${baseUrl}/v1/tasks/${taskId}/events`, options);

/** An event's data, parsed: the task query body plus the transition. */
const dataOf = (event: SseEvent) => JSON.parse(event.data);
const transitions = (events: SseEvent[]) => events.map((e) => dataOf(e).transition.to);

/** Another API process: its own server, streams and subscriber connection; same DB and prefix. */
async function startApiProcess(
  stack: TestStack,
  options: { prefix?: string; recheckMs?: number; heartbeatMs?: number; name: string },
) {
  const logger = pino({ level: "silent" });
  const subscriberName = `${options.name}:${stack.prefix}`;
  const subscriberRedis = createRedis(stack.redisUrl, { connectionName: subscriberName });
  subscriberRedis.on("error", () => {});
  const subscriber = createTaskEventSubscriber(subscriberRedis, options.prefix ?? stack.prefix);
  const events = createTaskEventStreams({
    db: stack.db.db,
    subscriber,
    logger,
    recheckMs: options.recheckMs ?? 3_600_000,
    heartbeatMs: options.heartbeatMs,
  });
  const server = await listen(
    createApiApp({
      db: stack.db.db,
      enqueue: (id) => stack.taskQueue.enqueue(id),
      logger,
      clock: stack.clock,
      taskEvents: events,
      ender: stack.ender,
    }),
    { port: 0, host: "127.0.0.1", name: options.name },
  );
  return {
    url: server.url,
    events,
    subscriber,
    subscriberName,
    async close() {
      await events.close();
      await server.close();
      await subscriberRedis.quit().catch(() => {});
    },
  };
}

let stack: TestStack;
let key: string;
let otherKey: string;
let api2: Awaited<ReturnType<typeof startApiProcess>>;

// The worker starts in the test that watches a task live from its first status; the tests
// before it need tasks that stay where they are.
beforeAll(async () => {
  stack = await startTestStack({
    worker: false,
    // Slow enough that the worker always records the accept before the callback arrives.
    sandbox: { generationMs: 300 },
    taskEvents: { recheckMs: 3_600_000 },
  });
  ({ apiKey: key } = await stack.createAccount(100_000));
  ({ apiKey: otherKey } = await stack.createAccount(100_000));
  api2 = await startApiProcess(stack, { name: "api2", heartbeatMs: 50 });
});
afterAll(async () => {
  await api2?.close();
  await stack?.close();
});

async function createTask(): Promise<string> {
  const res = await stack.request("POST", "/v1/images/generations", {
    key,
    body: { model: "nano-banana-2", input: { prompt: "a cat in sunglasses" } },
  });
  expect(res.status).toBe(200);
  return res.body.data.taskId;
}

async function startWorkerOnce() {
  stack.worker ??= await stack.startWorker();
}

const ofChannel = async (taskId: string) => {
  const [, subscribers] = (await stack.redis.pubsub(
    "NUMSUB",
    taskEventsChannel(stack.prefix, taskId),
  )) as [string, number];
  return Number(subscribers);
};

describe("before the stream starts", () => {
  it("answers in the error envelope: no key 401, another account's task or a malformed id 404, a bad Last-Event-ID 400", async () => {
    const taskId = await createTask();
    const envelope = (code: string, type: string) => ({
      error: { code, message: expect.any(String), type },
    });

    const anonymous = await openStream(stack.apiUrl, taskId);
    expect(anonymous.status).toBe(401);
    expect(anonymous.contentType).toMatch(/application\/json/);
    expect(anonymous.body).toEqual(envelope("invalid_api_key", "authentication_error"));

    const wrongKey = await openStream(stack.apiUrl, taskId, { key: "sk-not-a-key" });
    expect(wrongKey.status).toBe(401);

    const others = await openStream(stack.apiUrl, taskId, { key: otherKey });
    expect(others.status).toBe(404);
    expect(others.body).toEqual(envelope("task_not_found", "invalid_request_error"));

    for (const malformed of ["nope", "task_", "task_01k'--", "%20"]) {
      const res = await openStream(stack.apiUrl, malformed, { key });
      expect(res.status, malformed).toBe(404);
      expect(res.body, malformed).toEqual(envelope("task_not_found", "invalid_request_error"));
    }

    for (const lastEventId of ["abc", "-1", "1.5", "99999999999999999999"]) {
      const res = await openStream(stack.apiUrl, taskId, { key, lastEventId });
      expect(res.status, lastEventId).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      expect(res.body.error.message).toMatch(/Last-Event-ID/);
    }
    // None of these opened a stream or a subscription.
    expect(stack.taskEvents.stats()).toEqual({ streams: 0, tasks: 0, timers: false });
  });
});

describe("streams share one subscriber connection per API process", () => {
  it("30 streams on 3 tasks: one connection, one channel per task; closing them unsubscribes and stops the timers", async () => {
    const taskIds = [await createTask(), await createTask(), await createTask()];
    const readers: SseReader[] = [];
    for (let i = 0; i < 30; i++) {
      const opened = await openStream(api2.url, taskIds[i % 3]!, { key });
      expect(opened.status).toBe(200);
      readers.push(opened.reader!);
    }
    for (const [i, reader] of readers.entries()) {
      const first = await reader.next();
      expect(first?.event).toBe("status");
      expect(dataOf(first!)).toMatchObject({ id: taskIds[i % 3], status: "pending" });
      expect(dataOf(first!).transition).toMatchObject({ from: null, to: "queued", source: "api" });
    }

    expect(api2.events.stats()).toEqual({ streams: 30, tasks: 3, timers: true });
    expect(api2.subscriber.channels).toBe(3);
    for (const taskId of taskIds) expect(await ofChannel(taskId)).toBe(1);
    const clients = ((await stack.redis.client("LIST")) as string)
      .split("\n")
      .filter((line) => line.includes(` name=${api2.subscriberName} `));
    expect(clients).toHaveLength(1);
    expect(clients[0]).toMatch(/ sub=3 /);

    // An idle stream still hears from the server: a heartbeat comment (every 50 ms here).
    expect(await readers[0]!.nextComment()).toBe("heartbeat");

    for (const reader of readers) reader.close();
    await api2.events.whenIdle();
    expect(api2.events.stats()).toEqual({ streams: 0, tasks: 0, timers: false });
    expect(api2.subscriber.channels).toBe(0);
    for (const taskId of taskIds) expect(await ofChannel(taskId)).toBe(0);
  });
});

describe("Postgres is the truth, pub/sub only a hint", () => {
  it("a process that hears no hint still streams the change, from its periodic re-read", async () => {
    // Its subscriber listens under another prefix: it never hears this stack's hints.
    const deaf = await startApiProcess(stack, {
      name: "deaf",
      prefix: `{deaf-${stack.prefix}}`,
      recheckMs: 50,
    });
    onTestFinished(() => deaf.close());
    const taskId = await createTask();
    const { reader } = await openStream(deaf.url, taskId, { key });
    expect(transitions([(await reader!.next())!])).toEqual(["queued"]);

    // Committed with no hint published at all.
    await endTask(stack.db.db, {
      taskId,
      outcome: { status: "canceled", errorCode: "canceled", errorMessage: "Canceled by a test." },
      source: "test",
      now: stack.clock.now(),
    });
    const rest = await reader!.rest();
    expect(transitions(rest)).toEqual(["canceled"]);
    expect(dataOf(rest[0]!)).toMatchObject({
      id: taskId,
      status: "failed",
      error: { code: "canceled", message: "Canceled by a test." },
      transition: { from: "queued", to: "canceled", source: "test" },
    });
  });

  it("an expiry committed by the sweep reaches a stream at once (the sweep publishes its hint)", async () => {
    const taskId = await createTask();
    const { reader } = await openStream(api2.url, taskId, { key });
    expect(transitions([(await reader!.next())!])).toEqual(["queued"]);

    stack.clock.advance(16 * 60_000); // past nano-banana-2's 15-minute deadline
    await sweep({
      db: stack.db.db,
      taskQueue: stack.taskQueue,
      clock: stack.clock,
      logger: pino({ level: "silent" }),
      graceMs: 60 * 60_000,
      ender: createTaskEnder(
        createTaskEndingEffects({
          logger: pino({ level: "silent" }),
          redis: {
            taskQueue: stack.taskQueue,
            deliveryQueue: stack.deliveryQueue,
            notifier: createTaskNotifier(stack.producerRedis, stack.prefix),
            releaseSlot: async () => {},
          },
        }),
      ),
    });
    const rest = await reader!.rest();
    expect(transitions(rest)).toEqual(["expired"]);
    expect(dataOf(rest[0]!)).toMatchObject({
      status: "failed",
      error: { code: "task_expired" },
      transition: { source: "deadline" },
    });
  });
});

describe("publishing", () => {
  it("a hint Redis cannot take is dropped and reported, never thrown at the committer", async () => {
    const offline = createRedis("redis://127.0.0.1:1", { lazyConnect: true });
    onTestFinished(() => offline.disconnect());
    const reported: string[] = [];
    const notifier = createTaskNotifier(offline, stack.prefix, {
      onError: (_error, taskId) => reported.push(taskId),
    });
    await expect(notifier.taskChanged("task_01kjkb3q000e1gh9xqq0rejs26")).resolves.toBeUndefined();
    expect(reported).toEqual(["task_01kjkb3q000e1gh9xqq0rejs26"]);
  });
});

describe("Last-Event-ID", () => {
  it("an id past the task's last event means 'had everything': nothing is replayed, and the end still comes", async () => {
    const taskId = await createTask();
    const { reader } = await openStream(api2.url, taskId, { key, lastEventId: "999999999999" });
    // Nothing to replay; the stream waits (a heartbeat shows it is open).
    expect(await reader!.nextComment()).toBe("heartbeat");
    expect(reader!.events).toEqual([]);

    await endTask(stack.db.db, {
      taskId,
      outcome: { status: "canceled", errorCode: "canceled", errorMessage: "Canceled by a test." },
      source: "test",
      now: stack.clock.now(),
    });
    await stack.notifier.taskChanged(taskId);
    expect(transitions(await reader!.rest())).toEqual(["canceled"]);

    const after = await openStream(api2.url, taskId, { key, lastEventId: "999999999999" });
    expect(after.status).toBe(204);
  });
});

describe("shutting down", () => {
  it("closing an API process's streams ends them (clients reconnect elsewhere) and refuses new ones", async () => {
    const api = await startApiProcess(stack, { name: "closing" });
    onTestFinished(() => api.close());
    // No worker runs yet: the task stays queued and its stream open.
    const taskId = await createTask();
    const { reader } = await openStream(api.url, taskId, { key });
    expect(await reader!.next()).not.toBeNull();
    await api.events.close();
    await reader!.rest();
    expect(reader!.ended).toBe(true);
    expect(api.events.stats().streams).toBe(0);
    const refused = await openStream(api.url, taskId, { key });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe("service_unavailable");
  });
});

describe("a real task through the sandbox", () => {
  let taskId: string;
  let live: SseEvent[];

  it("streams every transition live, in order with increasing ids, through any API process, then ends", async () => {
    taskId = await createTask();
    const first = await openStream(stack.apiUrl, taskId, { key });
    const second = await openStream(api2.url, taskId, { key });
    for (const { reader } of [first, second]) {
      expect(transitions([(await reader!.next())!])).toEqual(["queued"]);
    }

    // Only now does anything move: every later event is a change committed by the worker or
    // the callback receiver and announced over Redis.
    await startWorkerOnce();
    // Every event each stream received, once: `events` holds them all once the stream ended
    // (events past the first may already be in it before `rest` is awaited).
    const streamed = await Promise.all(
      [first, second].map(async ({ reader }) => {
        await reader!.rest();
        return [...reader!.events];
      }),
    );
    for (const events of streamed) {
      expect(events.map((e) => e.event)).toEqual(["status", "status", "status", "status"]);
      expect(transitions(events)).toEqual(["queued", "submitting", "running", "succeeded"]);
      expect(events.map((e) => dataOf(e).status)).toEqual([
        "pending",
        "pending",
        "processing",
        "completed",
      ]);
      const ids = events.map((e) => Number(e.id));
      expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
      expect(events.map((e) => Number(dataOf(e).transition.id))).toEqual(ids);
    }
    expect(streamed[1]!.map((e) => e.id)).toEqual(streamed[0]!.map((e) => e.id));
    live = streamed[0]!;

    // The last event's body is what GET /v1/tasks/{id} answers, and the events are the history's.
    const { transition, ...body } = dataOf(live.at(-1)!);
    const task = await stack.request("GET", `/v1/tasks/${taskId}`, { key });
    expect(body).toEqual(task.body);
    expect(body.output.urls).toHaveLength(1);
    expect(transition).toMatchObject({ from: "running", to: "succeeded" });
    const history = await stack.request("GET", `/v1/tasks/${taskId}/history`, { key });
    expect(live.map((e) => ({ ...dataOf(e).transition, id: undefined }))).toEqual(
      history.body.events.map((e: any) => ({ ...e, id: undefined })),
    );
    // Earlier events show the task as it stood then: no output before the end.
    expect(dataOf(live[2]!)).toEqual({
      id: taskId,
      status: "processing",
      model: "nano-banana-2",
      created_at: body.created_at,
      transition: expect.objectContaining({ to: "running", source: "worker" }),
    });
    await api2.events.whenIdle();
    await stack.taskEvents.whenIdle();
  });

  it("a task already ended streams its history and ends at once", async () => {
    const { reader } = await openStream(stack.apiUrl, taskId, { key });
    const events = await reader!.rest();
    expect(events.map((e) => e.id)).toEqual(live.map((e) => e.id));
    expect(events.map((e) => e.data)).toEqual(live.map((e) => e.data));
  });

  it("Last-Event-ID replays only what was missed; after the end it answers 204 (EventSource stops)", async () => {
    const { reader } = await openStream(stack.apiUrl, taskId, { key, lastEventId: live[1]!.id });
    const missed = await reader!.rest();
    expect(transitions(missed)).toEqual(["running", "succeeded"]);
    expect(missed.map((e) => e.id)).toEqual(live.slice(2).map((e) => e.id));

    const done = await openStream(stack.apiUrl, taskId, { key, lastEventId: live.at(-1)!.id });
    expect(done.status).toBe(204);
    expect(done.body).toBe("");
  });

  it("a client that drops mid-task and reconnects gets exactly the events it missed", async () => {
    const next = await createTask();
    const { reader } = await openStream(stack.apiUrl, next, { key });
    const first = (await reader!.next())!;
    expect(transitions([first])).toEqual(["queued"]);
    reader!.close();

    await stack.waitForTask(next, ["succeeded"]);
    const again = await openStream(stack.apiUrl, next, { key, lastEventId: first.id });
    const missed = await again.reader!.rest();
    expect(transitions(missed)).toEqual(["submitting", "running", "succeeded"]);
    expect(Number(missed[0]!.id)).toBeGreaterThan(Number(first.id));
  });
});

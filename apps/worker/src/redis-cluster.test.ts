import { setTimeout as sleep } from "node:timers/promises";
import { deliveries, taskEvents, tasks } from "@ripen/db";
import { checkRedis } from "@ripen/infra";
import { createProviderHealth } from "@ripen/providers";
import { taskEventsChannel } from "@ripen/queue";
import {
  ledgerViolations,
  type PrivateRedisCluster,
  startPrivateRedisCluster,
  startTestStack,
  type TestStack,
} from "@ripen/testkit";
import { asc, eq, inArray } from "drizzle-orm";
import { Cluster, Redis } from "ioredis";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ClientEndpoint, DeliveryJobEvents } from "./testing/client-endpoint";

// The whole stack (API, worker, callbacks receiver) on a Redis Cluster of three masters, given
// to it only as REDIS_URL (`redis+cluster://…`): BullMQ, provider limits, rate limits and live
// status all go through ioredis Cluster clients made by the one connection factory.

let cluster: PrivateRedisCluster;
let stack: TestStack;
let endpoint: ClientEndpoint;
let jobs: DeliveryJobEvents;
let key: string;
let accountId: string;
const GRANTED = 10_000;

beforeAll(async () => {
  cluster = await startPrivateRedisCluster();
  stack = await startTestStack({
    redisUrl: cluster.url,
    // Started in the first test, once its live-status stream is subscribed.
    worker: false,
    // Providers that send callbacks are first polled after 30 s, so their tasks end by their
    // callback; nanobanana's (it sends none) are polled from 20 ms and end by a poll.
    poll: { baseMs: 20, maxMs: 200, callbackGraceMs: 30_000 },
    // Live status learns of changes only through Redis pub/sub (its re-read is an hour away).
    taskEvents: { recheckMs: 3_600_000 },
  });
  stack.sandbox.configure({ generationMs: 50, failureRate: 0, callbackLossRate: 0 });
  endpoint = await ClientEndpoint.start();
  jobs = await DeliveryJobEvents.start(stack.redis, stack.prefix);
  ({ apiKey: key, accountId } = await stack.createAccount(GRANTED));
});
afterAll(async () => {
  try {
    await jobs?.close();
    await endpoint?.close();
    await stack?.close();
  } finally {
    await cluster?.stop();
  }
});

const startWorkerOnce = async () => {
  stack.worker ??= await stack.startWorker();
};

/** The stack's Redis connections, as Cluster clients (each test's view of the cluster). */
const clusterOf = (connection: unknown): Cluster => {
  expect(connection).toBeInstanceOf(Cluster);
  return connection as Cluster;
};

/** Every key of one server matching `pattern`. */
async function keysOf(server: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await server.scan(cursor, "MATCH", pattern, "COUNT", 500);
    found.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  return found;
}

/** Resolves once `ready` holds, asked every 20 ms (what it waits on has no event). */
async function until(ready: () => Promise<boolean>, what: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** The `data` of each server-sent event of a stream, parsed, until the server ends it. */
async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<any> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const data = buffer
        .slice(0, end)
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart());
      buffer = buffer.slice(end + 2);
      if (data.length > 0) yield JSON.parse(data.join("\n"));
    }
  }
}

/** How each task ended, as its last event says: `succeeded<-callback`, `succeeded<-poll`. */
async function endingsOf(taskIds: readonly string[]): Promise<Map<string, string>> {
  const rows = await stack.db.db
    .select({ taskId: taskEvents.taskId, to: taskEvents.toStatus, source: taskEvents.source })
    .from(taskEvents)
    .where(inArray(taskEvents.taskId, [...taskIds]))
    .orderBy(asc(taskEvents.id));
  return new Map(rows.map((row) => [row.taskId, `${row.to}<-${row.source}`]));
}

describe("Ripen on a Redis Cluster of three masters", () => {
  it("makes every connection a Cluster client of three masters", async () => {
    // What every service checks at start, before it connects.
    await expect(checkRedis(cluster.url)).resolves.toBeUndefined();
    for (const connection of [stack.redis, stack.producerRedis, stack.subscriberRedis]) {
      clusterOf(connection);
    }
    const slots = (await clusterOf(stack.redis).cluster("SLOTS")) as unknown[];
    expect(slots).toHaveLength(3);
  });

  it("streams a task's live status over SSE, every change arriving by pub/sub", async () => {
    const created = await stack.request("POST", "/v1/images/generations", {
      key,
      body: { model: "nano-banana-2", input: { prompt: "a cat on a cluster" } },
    });
    expect(created.status).toBe(200);
    const taskId = created.body.data.taskId as string;

    const controller = new AbortController();
    const response = await fetch(`${stack.apiUrl}/v1/tasks/${taskId}/events`, {
      headers: { accept: "text/event-stream", authorization: `Bearer ${key}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const events = sseData(response.body!);
    try {
      expect((await events.next()).value.transition.to).toBe("queued");
      // PUBSUB NUMSUB answers for its own node: summed over the cluster, one subscription.
      const channel = taskEventsChannel(stack.prefix, taskId);
      const subscribers = async () => {
        let count = 0;
        for (const node of clusterOf(stack.redis).nodes("all")) {
          const [, n] = (await node.pubsub("NUMSUB", channel)) as [string, number];
          count += Number(n);
        }
        return count;
      };
      await until(async () => (await subscribers()) === 1, "the stream's subscription");

      await startWorkerOnce();
      const rest: string[] = [];
      for await (const data of events) rest.push(data.transition.to);
      expect(rest).toEqual(["submitting", "running", "succeeded"]);
    } finally {
      controller.abort();
    }
    expect((await endingsOf([taskId])).get(taskId)).toBe("succeeded<-callback");
  });

  it("runs creates through three doors and a batch, ending by provider callbacks and polls, with a signed client callback", async () => {
    await startWorkerOnce();
    // kie's door, with its client callback (nano-banana-2 routes to aivideoapi, which calls back).
    const kieHook = endpoint.hook();
    const kie = await stack.request("POST", "/api/v1/jobs/createTask", {
      key,
      body: { model: "nano-banana-2", callBackUrl: kieHook, input: { prompt: "a kie banana" } },
    });
    expect(kie.status, JSON.stringify(kie.body)).toBe(200);
    const kieTaskId = kie.body.data.taskId as string;

    // nanobanana's door: two images of nano-banana only nanobanana serves (revid makes one),
    // and it is polled under its request budget (the rate window's Lua scripts, on the cluster).
    const nanobanana = await stack.request("POST", "/api/v1/images/generate", {
      key,
      body: { prompt: "a polled banana", mode: "text", aspect_ratio: "16:9", num_images: 2 },
    });
    expect(nanobanana.status, JSON.stringify(nanobanana.body)).toBe(200);
    const polledTaskId = nanobanana.body.data.task_id as string;

    // The native door's batch, mixing both kinds, with its own callback.
    const batchHook = endpoint.hook();
    const batch = await stack.request("POST", "/v1/batches", {
      key,
      body: {
        requests: [
          ...[1, 2, 3].map((i) => ({ model: "nano-banana-2", input: { prompt: `item ${i}` } })),
          ...[4, 5].map((i) => ({
            model: "nano-banana",
            input: { prompt: `item ${i}`, num_images: 2 },
          })),
        ],
        callback_url: batchHook,
      },
    });
    expect(batch.status, JSON.stringify(batch.body)).toBe(200);
    const batchId = batch.body.data.id as string;

    const batchCallback = await endpoint.nthRequest(batchHook, 1);
    const kieCallback = await endpoint.nthRequest(kieHook, 1);
    const items = await stack.db.db
      .select({ id: tasks.id, model: tasks.model })
      .from(tasks)
      .where(eq(tasks.batchId, batchId));
    expect(items).toHaveLength(5);
    for (const taskId of [kieTaskId, polledTaskId]) {
      expect(await stack.waitForTask(taskId, ["succeeded", "failed", "expired"])).toBe("succeeded");
    }

    const endings = await endingsOf([kieTaskId, polledTaskId, ...items.map((item) => item.id)]);
    expect(endings.get(kieTaskId)).toBe("succeeded<-callback");
    expect(endings.get(polledTaskId)).toBe("succeeded<-poll");
    for (const item of items) {
      expect(endings.get(item.id), item.model).toBe(
        item.model === "nano-banana" ? "succeeded<-poll" : "succeeded<-callback",
      );
    }

    // Both client callbacks are signed with the account's secret and say what happened.
    const secret = (await stack.request("GET", "/v1/webhook-secret", { key })).body.data.secret;
    const verify = (received: typeof kieCallback) =>
      new Webhook(secret).verify(received.body, received.headers as Record<string, string>);
    expect(verify(kieCallback)).toMatchObject({
      code: 200,
      data: { taskId: kieTaskId, state: "success" },
    });
    expect(verify(batchCallback)).toMatchObject({ id: batchId, state: "ended", succeeded: 5 });
    const sent = await stack.db.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(inArray(deliveries.taskId, [kieTaskId]));
    expect(sent).toHaveLength(1);
    await jobs.waitFor(sent[0]!.id, "completed");

    // The ledger settles: every task captured its price, nothing is held.
    const charged = await stack.db.db
      .select({ status: tasks.status, price: tasks.price })
      .from(tasks)
      .where(eq(tasks.accountId, accountId));
    expect(charged).toHaveLength(8);
    expect(charged.every((task) => task.status === "succeeded")).toBe(true);
    const spent = charged.reduce((sum, task) => sum + task.price, 0);
    const credits = (await stack.request("GET", "/v1/credits", { key })).body.data;
    expect(credits).toEqual({ credits: GRANTED - spent, balance: GRANTED - spent, held: 0 });
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });

  it("keeps every key in the prefix's hash slot, on the one master that serves it", async () => {
    const redis = clusterOf(stack.redis);
    const slot = Number(await redis.cluster("KEYSLOT", stack.prefix));
    const keysByMaster = await Promise.all(
      redis
        .nodes("master")
        .map(async (node) => ({ node, keys: await keysOf(node, `${stack.prefix}:*`) })),
    );
    const holding = keysByMaster.filter(({ keys }) => keys.length > 0);
    expect(holding).toHaveLength(1);
    const [{ node: owner, keys }] = holding as [(typeof keysByMaster)[number]];
    // The owner holds no other key of that slot, and nothing of it sits elsewhere.
    expect(Number(await owner.cluster("COUNTKEYSINSLOT", slot))).toBe(keys.length);
    for (const key of keys.slice(0, 50)) {
      expect(Number(await owner.cluster("KEYSLOT", key)), key).toBe(slot);
    }
    // BullMQ's queues, the providers' limits and the API's rate limits are all there.
    const families = new Set(keys.map((key) => key.slice(stack.prefix.length + 1).split(":")[0]));
    for (const family of ["tasks", "deliveries", "provider", "ratelimit"]) {
      expect(families, family).toContain(family);
    }
    expect(keys).toContain(`${stack.prefix}:provider:nanobanana:requests`);

    // Why QUEUE_PREFIX must hold a hash tag: without one, a script reading several providers'
    // keys spans slots, which the cluster refuses.
    const untagged = createProviderHealth(redis, "ripen");
    await expect(untagged.states(["aivideoapi", "kie"])).rejects.toThrow(/CROSSSLOT/);

    // Nothing of this stack went to the machine's own Redis.
    const shared = new Redis(inject("redisUrl"));
    try {
      expect(await keysOf(shared, `${stack.prefix}:*`)).toEqual([]);
    } finally {
      shared.disconnect();
    }
  });
});

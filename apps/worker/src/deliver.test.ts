import {
  acceptAttempt,
  callbackToken,
  createTask,
  DELIVERY_LOG_KEEP,
  endTask,
  findTask,
  signingSecrets,
} from "@ripen/core";
import { deliveries, deliveryAttempts } from "@ripen/db";
import { freePort } from "@ripen/infra";
import { getModel } from "@ripen/models";
import {
  completedCallbackBody,
  openTestAttempt,
  startTestStack,
  TEST_CALLBACK_SECRET,
  type TestStack,
} from "@ripen/testkit";
import { asc, eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClientEndpoint, DeliveryJobEvents, type Received } from "./testing/client-endpoint";

// The production schedule's eight tries, in milliseconds instead of up to hours: these tests
// follow deliveries end to end without waiting; deliver-schedule.test.ts follows the real one.
const SCHEDULE = [0, 10, 20, 30, 40, 50, 60, 70];

let stack: TestStack;
let endpoint: ClientEndpoint;
let jobs: DeliveryJobEvents;
let key: string;
let accountId: string;

beforeAll(async () => {
  stack = await startTestStack({
    workerOptions: { deliveries: { schedule: SCHEDULE, timeoutMs: 1_000 } },
  });
  endpoint = await ClientEndpoint.start();
  jobs = await DeliveryJobEvents.start(stack.redis, stack.prefix);
});
afterAll(async () => {
  await jobs?.close();
  await endpoint?.close();
  await stack?.close();
});
beforeEach(async () => {
  stack.sandbox.configure({ generationMs: 50, failureRate: 0, callbackLossRate: 0 });
  ({ apiKey: key, accountId } = await stack.createAccount(10_000));
});

async function create(callbackUrl?: string, as = key): Promise<string> {
  const res = await stack.request("POST", "/v1/images/generations", {
    key: as,
    body: {
      model: "nano-banana-2",
      input: { prompt: "a cat" },
      ...(callbackUrl ? { callback_url: callbackUrl } : {}),
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data.taskId as string;
}

const deliveriesOf = (taskId: string) =>
  stack.db.db.select().from(deliveries).where(eq(deliveries.taskId, taskId));

async function deliveryRow(deliveryId: string) {
  const [row] = await stack.db.db.select().from(deliveries).where(eq(deliveries.id, deliveryId));
  return row!;
}

const triesOf = (deliveryId: string) =>
  stack.db.db
    .select()
    .from(deliveryAttempts)
    .where(eq(deliveryAttempts.deliveryId, deliveryId))
    .orderBy(asc(deliveryAttempts.number));

/** Creates a task with `callbackUrl` through the API and awaits its ending and its delivery. */
async function endedTask(callbackUrl: string) {
  const taskId = await create(callbackUrl);
  await stack.waitForTask(taskId, ["succeeded", "failed", "expired", "canceled"]);
  const rows = await deliveriesOf(taskId);
  expect(rows).toHaveLength(1);
  return { taskId, deliveryId: rows[0]!.id };
}

/** `GET /v1/tasks/{id}` exactly as a client reads it: the raw body. */
async function queryText(taskId: string): Promise<string> {
  const res = await fetch(`${stack.apiUrl}/v1/tasks/${taskId}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  expect(res.status).toBe(200);
  return res.text();
}

const headersOf = (received: Received) => received.headers as Record<string, string>;

describe("client callbacks", () => {
  it("are signed per Standard Webhooks, carry the dialect's headers, and send the query's answer", async () => {
    const url = endpoint.hook();
    const { taskId, deliveryId } = await endedTask(url);
    const received = await endpoint.nthRequest(url, 1);
    await jobs.waitFor(deliveryId, "completed");

    const secret = (await stack.request("GET", "/v1/webhook-secret", { key })).body.data.secret;
    const payload = new Webhook(secret).verify(received.body, headersOf(received));
    expect(payload).toMatchObject({ id: taskId, status: "completed" });
    expect(received.body).toBe(await queryText(taskId));

    const headers = headersOf(received);
    expect(headers).toMatchObject({
      "content-type": "application/json",
      "x-event": "task.completed",
      "x-task-id": taskId,
      "webhook-id": deliveryId,
    });
    expect(deliveryId).toMatch(/^msg_/);
    expect(headers["x-timestamp"]).toBe(headers["webhook-timestamp"]);
    expect(Math.abs(Number(headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);

    // A body or id changed on the way is refused by the same library.
    expect(() =>
      new Webhook(secret).verify(received.body.replace("completed", "failed"), headers),
    ).toThrow();
    expect(() =>
      new Webhook(secret).verify(received.body, { ...headers, "webhook-id": "msg_other" }),
    ).toThrow();
    expect(await deliveryRow(deliveryId)).toMatchObject({
      state: "succeeded",
      tries: 1,
      lastStatus: 200,
      nextTryAt: null,
      event: "task.completed",
    });
  });

  it("of a failed task send the failed query answer, as task.failed", async () => {
    stack.sandbox.configure({ failureRate: 1 });
    const url = endpoint.hook();
    const { taskId, deliveryId } = await endedTask(url);
    expect((await findTask(stack.db.db, taskId))?.status).toBe("failed");
    const received = await endpoint.nthRequest(url, 1);
    await jobs.waitFor(deliveryId, "completed");
    expect(headersOf(received)["x-event"]).toBe("task.failed");
    expect(received.body).toBe(await queryText(taskId));
    expect(JSON.parse(received.body)).toMatchObject({
      status: "failed",
      error: { code: "upstream_error" },
    });
  });

  it("during a rotation's overlap are signed with both secrets, and verify with either", async () => {
    const before = (await stack.request("GET", "/v1/webhook-secret", { key })).body.data.secret;
    const rotated = (await stack.request("POST", "/v1/webhook-secret/rotate", { key })).body.data;
    expect(rotated.secret).not.toBe(before);
    expect(rotated.previous.secret).toBe(before);

    const url = endpoint.hook();
    const { deliveryId } = await endedTask(url);
    const received = await endpoint.nthRequest(url, 1);
    await jobs.waitFor(deliveryId, "completed");
    const headers = headersOf(received);
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(new Webhook(before).verify(received.body, headers)).toBeTruthy();
    expect(new Webhook(rotated.secret).verify(received.body, headers)).toBeTruthy();
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`).verify(received.body, headers),
    ).toThrow();

    // Past the 24 h overlap only the new secret signs.
    const later = new Date(rotated.previous.expires_at * 1000 + 1_000);
    expect(await signingSecrets(stack.db.db, accountId, later)).toEqual([rotated.secret]);
  });

  it("to an endpoint answering 500 twice then 200: three tries, one success, each in the log", async () => {
    const url = endpoint.hook((n) =>
      n <= 2 ? { status: 500, body: "é".repeat(3_000) } : { status: 200, body: "thanks" },
    );
    const { taskId, deliveryId } = await endedTask(url);
    await jobs.waitFor(deliveryId, "completed");

    const requests = endpoint.requestsTo(url);
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set([deliveryId]));
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
    expect(await deliveryRow(deliveryId)).toMatchObject({ state: "succeeded", tries: 3 });

    const log = await stack.request("GET", `/v1/tasks/${taskId}/deliveries`, { key });
    expect(log.status).toBe(200);
    expect(log.body.task_id).toBe(taskId);
    expect(log.body.deliveries).toHaveLength(1);
    const [delivery] = log.body.deliveries;
    expect(delivery).toMatchObject({
      id: deliveryId,
      event: "task.completed",
      url,
      state: "succeeded",
      last_status: 200,
      next_try_at: null,
    });
    expect(delivery.ended_at).toBeGreaterThan(0);
    expect(
      delivery.attempts.map((a: { number: number; status: number; error: null }) => [
        a.number,
        a.status,
        a.error,
      ]),
    ).toEqual([
      [1, 500, null],
      [2, 500, null],
      [3, 200, null],
    ]);
    for (const attempt of delivery.attempts) {
      expect(attempt.latency_ms).toBeGreaterThanOrEqual(0);
      expect(attempt.at).toBeGreaterThan(0);
    }
    // The first 1 KB of the answer: "é" is two bytes, so 512 of them.
    expect(delivery.attempts[0].excerpt).toBe("é".repeat(512));
    expect(delivery.attempts[2].excerpt).toBe("thanks");
  });

  it("stop at a 410 Gone", async () => {
    const url = endpoint.hook(() => ({ status: 410, body: "unsubscribed" }));
    const { deliveryId } = await endedTask(url);
    await jobs.waitFor(deliveryId, "completed");
    expect(endpoint.requestsTo(url)).toHaveLength(1);
    expect(jobs.count(deliveryId, "delayed")).toBe(0);
    expect(await deliveryRow(deliveryId)).toMatchObject({
      state: "gone",
      tries: 1,
      lastStatus: 410,
      nextTryAt: null,
    });
  });

  it("fail after the schedule's eight tries; a refused connection is recorded as such", async () => {
    const url = endpoint.hook(() => ({ status: 503 }));
    const { deliveryId } = await endedTask(url);
    await jobs.waitFor(deliveryId, "completed");
    expect(endpoint.requestsTo(url)).toHaveLength(8);
    expect(await deliveryRow(deliveryId)).toMatchObject({
      state: "failed",
      tries: 8,
      nextTryAt: null,
    });
    expect((await triesOf(deliveryId)).map((t) => t.status)).toEqual(Array(8).fill(503));

    // Nothing listens there: no status, the connection's error.
    const { deliveryId: refused } = await endedTask(`http://127.0.0.1:${await freePort()}/hook`);
    await jobs.waitFor(refused, "completed");
    const tries = await triesOf(refused);
    expect(tries).toHaveLength(8);
    expect(tries[0]).toMatchObject({ status: null, excerpt: null });
    expect(tries[0]!.error).toMatch(/ECONNREFUSED|refused/i);
  });

  it("to a hung endpoint do not delay another delivery; the hung try times out", async () => {
    const slow = endpoint.hook((n) => (n === 1 ? "hang" : { status: 200 }));
    const fast = endpoint.hook();
    const a = await endedTask(slow);
    await endpoint.nthRequest(slow, 1);

    const b = await endedTask(fast);
    await jobs.waitFor(b.deliveryId, "completed");
    expect(await deliveryRow(b.deliveryId)).toMatchObject({ state: "succeeded" });
    // A's first try is still hanging, recorded as started.
    expect(await deliveryRow(a.deliveryId)).toMatchObject({ state: "pending", tries: 1 });
    expect(endpoint.requestsTo(slow)).toHaveLength(1);

    // The try's timeout (15 s in production, 1 s here) ends it; the next try succeeds.
    await jobs.waitFor(a.deliveryId, "completed");
    const tries = await triesOf(a.deliveryId);
    expect(tries.map((t) => t.status)).toEqual([null, 200]);
    expect(tries[0]!.error).toMatch(/timed out/);
    expect(tries[0]!.latencyMs).toBeGreaterThanOrEqual(1_000);
  });

  it("are redelivered with the same webhook-id and body, adding tries to the log", async () => {
    const url = endpoint.hook((n) => (n === 2 ? "hang" : { status: 200 }));
    const { taskId, deliveryId } = await endedTask(url);
    await jobs.waitFor(deliveryId, "completed");
    const first = await endpoint.nthRequest(url, 1);

    const res = await stack.request("POST", `/v1/tasks/${taskId}/deliveries/redeliver`, { key });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      code: 200,
      msg: "success",
      data: { id: deliveryId, state: "pending" },
    });
    const second = await endpoint.nthRequest(url, 2);
    expect(second.headers["webhook-id"]).toBe(deliveryId);
    expect(second.body).toBe(first.body);

    // While it is being tried, another redelivery is refused.
    const again = await stack.request("POST", `/v1/tasks/${taskId}/deliveries/redeliver`, { key });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: "delivery_pending",
      type: "invalid_request_error",
    });

    // The hung try fails (the connection closes), the next one succeeds.
    endpoint.releaseHanging();
    await jobs.waitFor(deliveryId, "completed", 2);
    const log = await stack.request("GET", `/v1/tasks/${taskId}/deliveries`, { key });
    const [delivery] = log.body.deliveries;
    expect(delivery.state).toBe("succeeded");
    expect(
      delivery.attempts.map((a: { number: number; status: number }) => [a.number, a.status]),
    ).toEqual([
      [1, 200],
      [2, null],
      [3, 200],
    ]);
    expect(new Set(endpoint.requestsTo(url).map((r) => r.headers["webhook-id"]))).toEqual(
      new Set([deliveryId]),
    );
  });

  it("redelivery and the log: 404 without a delivery, for another account's task, for a bad id", async () => {
    const plain = await create();
    await stack.waitForTask(plain, ["succeeded"]);
    const none = await stack.request("POST", `/v1/tasks/${plain}/deliveries/redeliver`, { key });
    expect(none.status).toBe(404);
    expect(none.body.error).toMatchObject({ code: "delivery_not_found" });
    const empty = await stack.request("GET", `/v1/tasks/${plain}/deliveries`, { key });
    expect(empty.body).toEqual({ task_id: plain, deliveries: [] });

    const { taskId } = await endedTask(endpoint.hook());
    const other = await stack.createAccount(0);
    for (const [method, path] of [
      ["GET", `/v1/tasks/${taskId}/deliveries`],
      ["POST", `/v1/tasks/${taskId}/deliveries/redeliver`],
      ["GET", "/v1/tasks/task_nope/deliveries"],
      ["POST", "/v1/tasks/task_nope/deliveries/redeliver"],
    ] as const) {
      const res = await stack.request(method, path, { key: other.apiKey });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe("task_not_found");
    }
    expect((await stack.request("GET", `/v1/tasks/${taskId}/deliveries`)).status).toBe(401);
  });

  it("keep at most the last 50 tries in the log, and one job in Redis per pending delivery", async () => {
    const url = endpoint.hook(() => ({ status: 500 }));
    const { taskId, deliveryId } = await endedTask(url);
    for (let round = 1; round <= 7; round++) {
      await jobs.waitFor(deliveryId, "completed", round);
      if (round < 7) {
        const res = await stack.request("POST", `/v1/tasks/${taskId}/deliveries/redeliver`, {
          key,
        });
        expect(res.status).toBe(200);
      }
    }
    expect(endpoint.requestsTo(url)).toHaveLength(56);
    const numbers = (await triesOf(deliveryId)).map((t) => t.number);
    expect(numbers).toHaveLength(DELIVERY_LOG_KEEP);
    expect(numbers[0]).toBe(56 - DELIVERY_LOG_KEEP + 1);
    expect(numbers.at(-1)).toBe(56);
    // Its job is gone once it ended: Redis holds jobs of pending deliveries only.
    expect(await stack.deliveryQueue.queue.getJobState(deliveryId)).toBe("unknown");
  });
});

describe("the outbox", () => {
  /** A running task with a callback URL, as the worker leaves it after the upstream accepted it. */
  async function runningTaskWithCallback(callbackUrl: string) {
    const task = await createTask(stack.db.db, {
      accountId,
      model: getModel("nano-banana-2"),
      input: { prompt: "x" },
      callbackUrl,
    });
    const providerTaskId = `upstream-${task.id}`;
    const attempt = await openTestAttempt(stack.db.db, task.id);
    await acceptAttempt(stack.db.db, { attempt, providerTaskId, now: new Date() });
    return { taskId: task.id, providerTaskId };
  }

  const succeeded = {
    status: "succeeded" as const,
    output: { urls: ["https://files.example/p.png"], metadata: {} },
  };

  it("is written in the completion's transaction: a rolled-back ending leaves no delivery", async () => {
    const { taskId, providerTaskId } = await runningTaskWithCallback(endpoint.hook());
    await expect(
      stack.db.db.transaction(async (tx) => {
        const result = await endTask(tx, {
          taskId,
          outcome: succeeded,
          source: "poll",
          attempt: { number: 1, providerTaskId },
        });
        expect(result.deliveryId).toMatch(/^msg_/);
        expect(
          await tx.select().from(deliveries).where(eq(deliveries.taskId, taskId)),
        ).toHaveLength(1);
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect(await deliveriesOf(taskId)).toHaveLength(0);
    expect((await findTask(stack.db.db, taskId))?.status).toBe("running");
  });

  it("holds exactly one delivery for a task ended by its callback and by a poll at once", async () => {
    const url = endpoint.hook();
    const { taskId, providerTaskId } = await runningTaskWithCallback(url);
    const [callback, poll] = await Promise.all([
      fetch(
        `${stack.callbacksUrl}/callbacks/aivideoapi/${taskId}/${callbackToken(TEST_CALLBACK_SECRET, taskId, 1)}`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(completedCallbackBody(providerTaskId)),
        },
      ),
      endTask(stack.db.db, {
        taskId,
        outcome: succeeded,
        source: "poll",
        attempt: { number: 1, providerTaskId },
      }),
    ]);
    expect(callback.status).toBe(200);
    const rows = await deliveriesOf(taskId);
    expect(rows).toHaveLength(1);
    const [row] = rows;
    // Whoever ended it added the job after its commit (the worker's poll does it in `end`).
    if (poll.applied) {
      expect(poll.deliveryId).toBe(row!.id);
      await stack.deliveryQueue.enqueue(row!.id);
    } else {
      expect(poll.deliveryId).toBeNull();
    }
    await jobs.waitFor(row!.id, "completed");
    expect(endpoint.requestsTo(url)).toHaveLength(1);
    expect(endpoint.requestsTo(url)[0]!.body).toBe(await queryText(taskId));
  });
});

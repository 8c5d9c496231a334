import {
  acceptAttempt,
  createTask,
  DELIVERY_SCHEDULE_MS,
  endTask,
  enqueueDeliveryOf,
} from "@ripen/core";
import { deliveries, deliveryAttempts } from "@ripen/db";
import { getModel } from "@ripen/models";
import {
  openTestAttempt,
  type PrivateRedis,
  startPrivateRedis,
  startTestStack,
  type TestStack,
} from "@ripen/testkit";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClientEndpoint, DeliveryJobEvents } from "./testing/client-endpoint";

// The production schedule and an injected clock that moves only when told: each try is made by
// advancing the clock to its due time and promoting the parked job, without waiting for it.
let redis: PrivateRedis;
let stack: TestStack;
let endpoint: ClientEndpoint;
let jobs: DeliveryJobEvents;
let key: string;
let accountId: string;

beforeAll(async () => {
  redis = await startPrivateRedis();
  stack = await startTestStack({
    redisUrl: redis.url,
    // Tasks created through the API stay running (no result) until the test expires them.
    sandbox: { generationMs: 3_600_000, callbackLossRate: 1 },
    poll: { baseMs: 60_000, maxMs: 60_000 },
  });
  stack.clock.freeze();
  endpoint = await ClientEndpoint.start();
  jobs = await DeliveryJobEvents.start(stack.redis, stack.prefix);
});
afterAll(async () => {
  await jobs?.close();
  await endpoint?.close();
  await stack?.close();
  await redis?.stop();
});
beforeEach(async () => {
  ({ apiKey: key, accountId } = await stack.createAccount(1_000));
});

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

/** Ends a running task with a callback URL now (the clock's now), as the worker's poll does. */
async function endTaskWithCallback(callbackUrl: string) {
  const task = await createTask(stack.db.db, {
    accountId,
    model: getModel("nano-banana-2"),
    input: { prompt: "x" },
    callbackUrl,
    now: stack.clock.now(),
  });
  const attempt = await openTestAttempt(stack.db.db, task.id);
  await acceptAttempt(stack.db.db, { attempt, providerTaskId: `up-${task.id}`, now: new Date() });
  const endedAt = stack.clock.now();
  const result = await endTask(stack.db.db, {
    taskId: task.id,
    outcome: {
      status: "succeeded",
      output: { urls: ["https://files.example/x.png"], metadata: {} },
    },
    source: "poll",
    attempt: { number: 1, providerTaskId: `up-${task.id}` },
    now: endedAt,
  });
  await enqueueDeliveryOf(result, stack.deliveryQueue.enqueue, console);
  return { taskId: task.id, deliveryId: result.deliveryId!, endedAt };
}

/** Moves the clock to the delivery's next try and runs its parked job now. */
async function runNextTry(deliveryId: string): Promise<void> {
  const row = await deliveryRow(deliveryId);
  stack.clock.advance(row.nextTryAt!.getTime() - stack.clock.now().getTime());
  const job = await stack.deliveryQueue.queue.getJob(deliveryId);
  expect(await job!.isDelayed()).toBe(true);
  await job!.promote();
}

describe("the retry schedule, with an injected clock", () => {
  it("tries at 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then marks the delivery failed", async () => {
    const url = endpoint.hook(() => ({ status: 500 }));
    const { deliveryId, endedAt } = await endTaskWithCallback(url);
    const offsets = [(await deliveryRow(deliveryId)).nextTryAt!.getTime() - endedAt.getTime()];

    for (let tries = 1; tries < 8; tries++) {
      await jobs.waitFor(deliveryId, "delayed", tries === 1 ? 1 : tries + 1);
      const row = await deliveryRow(deliveryId);
      const last = (await triesOf(deliveryId)).at(-1)!;
      expect(row).toMatchObject({ state: "pending", tries, lastStatus: 500 });
      expect(last.number).toBe(tries);
      offsets.push(row.nextTryAt!.getTime() - last.startedAt.getTime());
      // Redis holds this delivery's one job, parked until then.
      expect(await stack.deliveryQueue.queue.getJobCounts("delayed", "waiting", "active")).toEqual({
        delayed: 1,
        waiting: 0,
        active: 0,
      });
      if (tries === 1) {
        // Woken before its time (the clock has not moved), the job parks again and sends nothing.
        await (await stack.deliveryQueue.queue.getJob(deliveryId))!.promote();
        await jobs.waitFor(deliveryId, "delayed", 2);
        expect(endpoint.requestsTo(url)).toHaveLength(1);
      }
      await runNextTry(deliveryId);
    }
    await jobs.waitFor(deliveryId, "completed");

    expect(offsets).toEqual([
      0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
    expect(offsets).toEqual([...DELIVERY_SCHEDULE_MS]);
    expect(await deliveryRow(deliveryId)).toMatchObject({
      state: "failed",
      tries: 8,
      nextTryAt: null,
      lastStatus: 500,
    });
    const tries = await triesOf(deliveryId);
    expect(tries.map((t) => t.status)).toEqual(Array(8).fill(500));
    // Each try was made when due: its start is the schedule's step after the one before.
    const gaps = tries
      .slice(1)
      .map((t, i) => t.startedAt.getTime() - tries[i]!.startedAt.getTime());
    expect(gaps).toEqual(DELIVERY_SCHEDULE_MS.slice(1));
    expect(endpoint.requestsTo(url)).toHaveLength(8);
    expect(await stack.deliveryQueue.queue.getJobState(deliveryId)).toBe("unknown");
  });

  it("after Redis is flushed, the sweep re-adds the pending delivery's job and the next try is made", async () => {
    const url = endpoint.hook((n) => (n === 1 ? { status: 500 } : { status: 200 }));
    const { deliveryId } = await endTaskWithCallback(url);
    await jobs.waitFor(deliveryId, "delayed");
    expect(await deliveryRow(deliveryId)).toMatchObject({ state: "pending", tries: 1 });

    await stack.redis.flushall();
    // Put the sweep's own schedule back at once, so the worker's watchdog does not sweep here.
    await stack.worker!.ensureSweepSchedule();
    expect(await stack.deliveryQueue.queue.getJobState(deliveryId)).toBe("unknown");
    // Not yet overdue: the sweep leaves it alone.
    expect((await stack.worker!.sweepNow()).deliveries).toBeUndefined();

    stack.clock.advance(5_001);
    expect((await stack.worker!.sweepNow()).deliveries).toEqual({
      requeued: 1,
      live: 0,
      failed: 0,
    });
    await jobs.waitFor(deliveryId, "completed");
    expect(endpoint.requestsTo(url)).toHaveLength(2);
    expect(await deliveryRow(deliveryId)).toMatchObject({ state: "succeeded", tries: 2 });
    expect((await stack.worker!.sweepNow()).deliveries).toBeUndefined();
  });

  it("a task that expires sends the query's failed answer, as task.failed", async () => {
    const url = endpoint.hook();
    const created = await stack.request("POST", "/v1/images/generations", {
      key,
      body: { model: "nano-banana-2", input: { prompt: "slow" }, callback_url: url },
    });
    const taskId = created.body.data.taskId as string;
    await stack.waitForTask(taskId, ["running"]);

    stack.clock.advance(16 * 60_000);
    // Expired by this sweep or by the worker's scheduled one, which can run between the clock's
    // move and this call: a CI run saw this sweep find nothing to expire (the likely cause).
    await stack.worker!.sweepNow();
    await stack.waitForTask(taskId, ["expired"]);
    const received = await endpoint.nthRequest(url, 1);
    const [row] = await stack.db.db.select().from(deliveries).where(eq(deliveries.taskId, taskId));
    await jobs.waitFor(row!.id, "completed");

    expect(received.headers["x-event"]).toBe("task.failed");
    const query = await fetch(`${stack.apiUrl}/v1/tasks/${taskId}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(received.body).toBe(await query.text());
    expect(JSON.parse(received.body)).toMatchObject({
      status: "failed",
      error: { code: "task_expired" },
    });
  });
});

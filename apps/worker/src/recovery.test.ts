import { createTask as createTaskRow, recordPoll, type TaskOrder } from "@ripen/core";
import { deliveries, ledgerEntries, tasks, terminalTaskStatuses } from "@ripen/db";
import { getModel } from "@ripen/models";
import { createProviderHealth } from "@ripen/providers";
import {
  ledgerViolations,
  type PrivateRedis,
  startPrivateRedis,
  startTestStack,
  type TestStack,
} from "@ripen/testkit";
import { QueueEvents } from "bullmq";
import { eq, inArray, sql } from "drizzle-orm";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { sweep } from "./sweep";

let stack: TestStack | undefined;
let redis: PrivateRedis | undefined;
afterEach(async () => {
  if (stack) expect(await ledgerViolations(stack.db.db)).toEqual([]);
  await stack?.close();
  await redis?.stop();
  stack = undefined;
  redis = undefined;
});

async function createTasks(on: TestStack, count: number): Promise<string[]> {
  const { apiKey } = await on.createAccount(count * 16);
  const ids: string[] = [];
  for (let i = 0; i < count; i += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, count - i) }, async () => {
        const res = await on.request("POST", "/v1/images/generations", {
          key: apiKey,
          body: { model: "nano-banana-2", input: { prompt: "in flight" } },
        });
        expect(res.status).toBe(200);
        return res.body.data.taskId as string;
      }),
    );
    ids.push(...batch);
  }
  return ids;
}

/** Task rows written 5 s ago without their jobs, as if the process died after the commit. */
async function createUnqueuedTasks(on: TestStack, accountId: string, count: number) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const task = await createTaskRow(on.db.db, {
      accountId,
      model: getModel("nano-banana-2"),
      input: { prompt: `never enqueued ${i}` },
      now: new Date(Date.now() - 5_000),
    });
    ids.push(task.id);
  }
  return ids;
}

/** Awaits every task reaching one of `statuses`. */
async function waitForAll(
  on: TestStack,
  ids: string[],
  statuses: Parameters<TestStack["waitForTask"]>[1],
) {
  await Promise.all(ids.map((id) => on.waitForTask(id, statuses, 90_000)));
}

const liveStates = ["active", "waiting", "delayed", "prioritized"];

/**
 * Resolves once `done()` holds, re-checking after each `event` from `emitter`. The listener is
 * in place before each check, so an event between the check and the wait is not missed.
 */
async function until(
  emitter: {
    once(event: string, listener: () => void): unknown;
    off(event: string, listener: () => void): unknown;
  },
  event: string,
  done: () => boolean | Promise<boolean>,
  describe: () => Promise<string> | string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let listener = () => {};
    let timer: NodeJS.Timeout | undefined;
    const next = new Promise<void>((resolve) => {
      listener = resolve;
      emitter.once(event, listener);
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    });
    if (await done()) {
      emitter.off(event, listener);
      clearTimeout(timer);
      return;
    }
    if (Date.now() >= deadline)
      throw new Error(`gave up waiting for '${event}': ${await describe()}`);
    await next;
    clearTimeout(timer);
  }
}

/** Resolves once `count` jobs sit in the delayed set, woken by BullMQ's own events. */
async function allParked(on: TestStack, count: number): Promise<void> {
  const events = new QueueEvents(on.taskQueue.queue.name, {
    connection: on.redis.duplicate(),
    prefix: on.prefix,
  });
  try {
    await events.waitUntilReady();
    await until(
      events,
      "delayed",
      async () => (await on.taskQueue.queue.getDelayedCount()) >= count,
      async () => JSON.stringify(await on.taskQueue.queue.getJobCounts()),
    );
  } finally {
    await events.close();
  }
}

async function jobStates(on: TestStack, ids: string[]): Promise<string[]> {
  return Promise.all(ids.map((id) => on.taskQueue.queue.getJobState(id)));
}

async function capturesPerTask(on: TestStack, ids: string[]): Promise<number[]> {
  const rows = await on.db.db
    .select({ taskId: ledgerEntries.taskId, n: sql<number>`count(*)::int` })
    .from(ledgerEntries)
    .where(inArray(ledgerEntries.taskId, ids))
    .groupBy(ledgerEntries.taskId);
  return rows.map((r) => r.n);
}

describe("the sweep", () => {
  // 600 tasks through the sandbox: seconds alone, much longer while the suite runs the
  // 10,000-item batch beside it.
  it("finds all of 600 tasks in flight whose jobs were deleted, and a lost one among live ones", async () => {
    stack = await startTestStack({
      sandbox: { generationMs: 3_600_000, callbackLossRate: 1 },
      poll: { baseMs: 60_000, maxMs: 60_000 },
    });
    const ids = await createTasks(stack, 600);
    await waitForAll(stack, ids, ["running"]);
    await allParked(stack, ids.length);
    expect(new Set(await jobStates(stack, ids))).toEqual(new Set(["delayed"]));

    await stack.taskQueue.queue.obliterate({ force: true });
    expect(new Set(await jobStates(stack, ids))).toEqual(new Set(["unknown"]));
    // A minute later, every task's wake-up has passed without its job.
    stack.clock.advance(61_000);
    const first = await stack.worker!.sweepNow();
    expect(first).toEqual({ expired: 0, requeued: 600, live: 0, failed: 0 });
    for (const state of await jobStates(stack, ids)) expect(liveStates).toContain(state);
    expect((await stack.worker!.sweepNow()).requeued).toBe(0);

    // Every job runs again, polls once and parks: then lose one, its wake-up passed.
    await until(
      stack.sandbox.events,
      "queried",
      () => stack!.sandbox.stats.statusCalls >= 600,
      () => JSON.stringify(stack!.sandbox.stats),
    );
    await allParked(stack, ids.length);
    const lost = ids[417]!;
    await stack.taskQueue.queue.remove(lost);
    await stack.db.db
      .update(tasks)
      .set({ nextWakeAt: new Date(stack.clock.now().getTime() - 1_000) })
      .where(eq(tasks.id, lost));
    expect(await stack.worker!.sweepNow()).toEqual({ expired: 0, requeued: 1, live: 0, failed: 0 });
    expect(liveStates).toContain(await stack.taskQueue.queue.getJobState(lost));
    stack.clock.advance(-61_000);
  }, 120_000);

  it("goes on past a task it cannot handle, counts it, and handles it next time", async () => {
    stack = await startTestStack({ worker: false });
    const { accountId } = await stack.createAccount(100);
    const ids = await createUnqueuedTasks(stack, accountId, 3);
    const broken = ids[1]!;
    const taskQueue = {
      ...stack.taskQueue,
      enqueue: async (task: TaskOrder) => {
        if (task.id === broken) throw new Error("Redis said no");
        await stack!.taskQueue.enqueue(task);
      },
    };
    const deps = {
      db: stack.db.db,
      taskQueue,
      clock: stack.clock,
      logger: pino({ level: "silent" }),
      graceMs: 0,
      ender: stack.ender,
    };
    expect(await sweep(deps)).toEqual({ expired: 0, requeued: 2, live: 0, failed: 1 });
    expect(await stack.taskQueue.queue.getJobState(broken)).toBe("unknown");

    stack.clock.advance(2_000);
    // The two it re-added are still waiting (no worker runs here): live, not added twice.
    expect(await sweep({ ...deps, taskQueue: stack.taskQueue })).toEqual({
      expired: 0,
      requeued: 1,
      live: 2,
      failed: 0,
    });
    // Queued at its place in line (earliest due first).
    expect(await stack.taskQueue.queue.getJobState(broken)).toBe("prioritized");
    stack.clock.advance(-2_000);
  });
});

describe("the sweep after Redis was emptied", () => {
  it("re-adds every active task's job once, however far off its wake-up, and stops", async () => {
    // Its claims push each wake-up a grace ahead, still before the week it looks across: a chaos
    // run's sweep claimed the same tasks page after page until 20,000 (52 s under load), and
    // never reached the tasks whose wake-ups were further off than the grace.
    stack = await startTestStack({ worker: false });
    const { accountId } = await stack.createAccount(1_000);
    const ids = await createUnqueuedTasks(stack, accountId, 12);
    // Deadlines finer than a millisecond (a Date holds none): each page's last is still claimed once.
    await stack.db.db
      .update(tasks)
      .set({ deadlineAt: sql`deadline_at + interval '500 microseconds'` })
      .where(inArray(tasks.id, ids));
    // Two parked for a poll five minutes off.
    await stack.db.db
      .update(tasks)
      .set({ nextWakeAt: new Date(stack.clock.now().getTime() + 300_000) })
      .where(inArray(tasks.id, ids.slice(0, 2)));
    // And 12 client callbacks pending, two of them backing off for an hour.
    const deliveryIds = ids.map((_, i) => `msg_emptied${String(i).padStart(2, "0")}`);
    await stack.db.db.insert(deliveries).values(
      deliveryIds.map((id, i) => ({
        id,
        accountId,
        taskId: ids[i],
        event: "task.completed",
        url: "https://client.example/hook",
        body: "{}",
        nextTryAt: new Date(stack!.clock.now().getTime() + (i < 2 ? 3_600_000 : -1_000)),
      })),
    );
    const deps = {
      db: stack.db.db,
      taskQueue: stack.taskQueue,
      clock: stack.clock,
      logger: pino({ level: "silent" }),
      graceMs: 30_000,
      ender: stack.ender,
      deliveryQueue: stack.deliveryQueue,
      pageSize: 5,
      maxPerSweep: 1_000,
    };
    expect(await sweep(deps, { redisEmptied: true })).toEqual({
      expired: 0,
      requeued: 12,
      live: 0,
      failed: 0,
      deliveries: { requeued: 12, live: 0, failed: 0 },
    });
    for (const state of await jobStates(stack, ids)) expect(liveStates).toContain(state);
  });
});

describe("poll records", () => {
  it("are kept an hour, for a Redis that restarts empty, then removed by the sweep", async () => {
    stack = await startTestStack({ worker: false });
    const ago = (ms: number) => new Date(stack!.clock.now().getTime() - ms);
    const poll = (taskId: string, agoMs: number) =>
      recordPoll(stack!.db.db, { provider: "nanobanana", taskId, now: ago(agoMs) });
    await poll("task_an_hour_ago", 3_601_000);
    await poll("task_a_minute_ago", 60_000);
    await sweep({
      db: stack.db.db,
      taskQueue: stack.taskQueue,
      clock: stack.clock,
      logger: pino({ level: "silent" }),
      graceMs: 0,
      ender: stack.ender,
    });
    const { rows } = await stack.db.pool.query<{ task_id: string }>(
      "select task_id from provider_polls",
    );
    expect(rows.map((row) => row.task_id)).toEqual(["task_a_minute_ago"]);
  });
});

describe("Redis that loses everything", () => {
  it("a flush mid-run: every task still ends once and the upstream is paid once per task", async () => {
    redis = await startPrivateRedis();
    stack = await startTestStack({
      redisUrl: redis.url,
      sweep: { everyMs: 300, graceMs: 200 },
      sandbox: { generationMs: 400, callbackLossRate: 0.5 },
    });
    const ids = await createTasks(stack, 30);
    // Its 400 ms generation can be over by the time the 30th create is answered.
    await stack.waitForTask(ids[0]!, ["running", "succeeded"]);
    await stack.redis.flushall();

    await waitForAll(stack, ids, terminalTaskStatuses);
    const rows = await stack.db.db.select().from(tasks).where(inArray(tasks.id, ids));
    expect(new Set(rows.map((t) => t.status))).toEqual(new Set(["succeeded"]));
    expect(await capturesPerTask(stack, ids)).toEqual(ids.map(() => 2));
    expect(stack.sandbox.stats.submitCalls).toBe(30);
    // The watchdog put the sweep's schedule back.
    expect(await stack.worker!.ensureSweepSchedule()).toBe(false);
  });

  it("creates made while Redis is down are answered, committed, and run once it is back, not after the sweep's grace", async () => {
    redis = await startPrivateRedis();
    // The production sweep: every 15 s, a task's job checked 30 s after its wake-up was due.
    stack = await startTestStack({
      redisUrl: redis.url,
      sweep: { everyMs: 15_000, graceMs: 30_000 },
    });
    await redis.stop();
    const ids = await createTasks(stack, 5);
    const rows = await stack.db.db.select().from(tasks).where(inArray(tasks.id, ids));
    expect(rows.map((t) => t.status)).toEqual(ids.map(() => "queued"));

    await redis.start();
    // A worker finds Ripen's marker key gone: Redis was emptied, so no active task has a job,
    // and every one is enqueued again then.
    await Promise.all(ids.map((id) => stack!.waitForTask(id, terminalTaskStatuses, 10_000)));
    const ended = await stack.db.db.select().from(tasks).where(inArray(tasks.id, ids));
    expect(new Set(ended.map((t) => t.status))).toEqual(new Set(["succeeded"]));
    expect(stack.sandbox.stats.submitCalls).toBe(5);
  });

  it("a worker killed while sweeping after Redis was emptied: the next to look finishes the sweep", async () => {
    // Issue 16's chaos run of 2026-12-06 (ninth session): the worker that found Redis emptied was
    // killed 8 s into its sweep; the tasks it had not reached had no job until their next
    // wake-up, and 17 items of a batch expired unsubmitted.
    redis = await startPrivateRedis();
    stack = await startTestStack({
      redisUrl: redis.url,
      worker: false,
      sweep: { everyMs: 300, graceMs: 200 },
    });
    const ids = await createTasks(stack, 10);
    // Each waits for a later wake-up (a rate limit's, say): no ordinary sweep checks it before.
    await stack.db.pool.query(
      "update tasks set next_wake_at = now() + interval '1 hour' where id = any($1)",
      [ids],
    );
    await stack.redis.flushall();
    // The process that found it emptied, killed in its sweep before it re-added a job: its
    // lease on the sweep runs out, and the worker started meanwhile takes it over.
    const killed = createProviderHealth(stack.redis, stack.prefix);
    expect(await killed.claimEmptied()).toBe(true);
    expect(await killed.claimEmptiedSweep(1_000)).toBe(true);

    await stack.startWorker();
    await Promise.all(ids.map((id) => stack!.waitForTask(id, terminalTaskStatuses, 15_000)));
    const ended = await stack.db.db.select().from(tasks).where(inArray(tasks.id, ids));
    expect(new Set(ended.map((t) => t.status))).toEqual(new Set(["succeeded"]));
    expect(stack.sandbox.stats.submitCalls).toBe(10);
  });
});

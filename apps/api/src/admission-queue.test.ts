import { countTasksWaitingToStart } from "@ripen/core";
import { createQueueLoadReader } from "@ripen/queue";
import {
  ledgerViolations,
  publishQueuePace,
  startedKeys as startedKeysOf,
  startTestStack,
  type TestStack,
} from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Issue 16's chaos run: providers healthy and unlimited, but Ripen's own workers slower than the
// creates (killed, restarting): creates were accepted into a queue that reached them minutes
// after their deadline. Admission counts that queue too: the tasks due before the create that
// wait to be started, at the pace the workers report starting tasks.

let stack: TestStack;
let apiKey: string;
beforeAll(async () => {
  // No worker takes jobs here: the queue only grows, at the pace a (pretend) worker reports.
  stack = await startTestStack({ worker: false });
  ({ apiKey } = await stack.createAccount(100_000));
}, 60_000);
afterAll(async () => {
  if (stack) expect(await ledgerViolations(stack.db.db)).toEqual([]);
  await stack?.close();
});

/** A queue reader as a process that never saw a pace makes it. */
const reader = () =>
  createQueueLoadReader(stack.producerRedis, stack.prefix, (horizonMs) =>
    countTasksWaitingToStart(stack.db.db, horizonMs),
  );

const startedKeys = () => startedKeysOf(stack.prefix);
const pace = (tasksPerSecond: number, startedPerSecond?: number | null) =>
  publishQueuePace(stack.producerRedis, stack.prefix, tasksPerSecond, startedPerSecond);

const create = (timeoutSeconds: number) =>
  stack.request("POST", "/v1/images/generations", {
    key: apiKey,
    body: {
      model: "nano-banana-2",
      input: { prompt: "queued" },
      timeout_seconds: timeoutSeconds,
    },
  });

describe("admission control counts Ripen's own queue", () => {
  // First: no pace has been published yet, so the batch is admitted whatever waits.
  it("counts a batch item as ahead of single creates once half its time is within a minute", async () => {
    const before = await reader()();
    const res = await stack.request("POST", "/v1/batches", {
      key: apiKey,
      body: {
        requests: Array.from({ length: 3 }, (_, i) => ({
          model: "nano-banana-2",
          input: { prompt: `soon ${i}` },
          // Due 50 s from now, half of its time: ahead of a single create, due in 60 s.
          timeout_seconds: 100,
        })),
      },
    });

    expect(res.status).toBe(200);
    const after = await reader()();
    expect(after.waiting - before.waiting).toBe(3);
    expect(after.later).toBe(before.later);
  });

  it("refuses a create its queue cannot reach before the deadline, admits a patient one", async () => {
    // 200 tasks wait to be started (admitted while no worker had said its pace).
    for (let i = 0; i < 200; i++) expect((await create(600)).status).toBe(200);
    // The workers start 2 tasks a second: a new one waits some 100 s.
    await pace(2);

    const hurried = await create(60);
    expect(hurried.status).toBe(429);
    expect(hurried.body.error).toMatchObject({ code: "capacity_exceeded" });
    expect(hurried.body.error.message).toMatch(/earliest start is in about 10\d s/);

    // Started in 100 s, within 80% of 150 s: admitted. Its status poll keeps its place in line
    // (earliest due first), ahead of everything created after it, so it does not wait the queue
    // again.
    expect((await create(150)).status).toBe(200);
  });

  it("when every worker falls silent (killed, starting), the last pace seen stands", async () => {
    await stack.producerRedis.del(`${stack.prefix}:tasks:load`);
    await new Promise((resolve) => setTimeout(resolve, 600));
    // The tasks still wait, and nobody starts them: no reason to admit a hurried create.
    expect((await create(60)).status).toBe(429);
    // A process that never saw a pace has no figure to refuse on.
    expect((await reader()()).tasksPerSecond).toBeNull();
  });

  it("a pace measured with no step waiting is demand, not capacity: no figure", async () => {
    const read = reader();
    await pace(1);
    const publish = (value: string) =>
      stack.producerRedis.hset(`${stack.prefix}:tasks:load`, "pretend-worker", value);
    await publish(`1:${Date.now()}:0`);
    expect((await read()).tasksPerSecond).toBeNull();
    await publish(`1:${Date.now()}:1`);
    expect((await read()).tasksPerSecond).toBe(1);
    await stack.producerRedis.del(`${stack.prefix}:tasks:load`, ...startedKeys());
  });

  it("the pace is what the workers started over the last busy seconds, when lower than the live ones say", async () => {
    // Two workers up say 10 tasks a second each; killed in turn, together they started 4 a
    // second over the last half minute.
    for (const key of startedKeys()) await stack.producerRedis.set(key, "4", "EX", 60);
    for (const worker of ["up-1", "up-2"]) {
      await stack.producerRedis.hset(`${stack.prefix}:tasks:load`, worker, `10:${Date.now()}:1`);
    }
    expect((await reader()()).tasksPerSecond).toBe(4);
    await stack.producerRedis.del(`${stack.prefix}:tasks:load`, ...startedKeys());
  });

  it("a pace not yet seen through the window counts at half, and in full once it has", async () => {
    // A fresh or emptied Redis: the live workers say 10 a second, no busy second on record.
    await pace(10, null);
    expect((await reader()()).tasksPerSecond).toBe(5);
    // 15 of the window's 30 seconds busy at 10 a second: three quarters.
    const second = Math.floor(Date.now() / 1000);
    for (let i = 2; i < 17; i++) {
      await stack.producerRedis.set(`${stack.prefix}:tasks:started:${second - i}`, "10", "EX", 60);
    }
    expect((await reader()()).tasksPerSecond).toBeCloseTo(7.5, 0);
    await pace(10);
    expect((await reader()()).tasksPerSecond).toBe(10);
    await stack.producerRedis.del(`${stack.prefix}:tasks:load`, ...startedKeys());
  });

  it("a Redis restarted empty forgot the queue: the tasks Postgres holds queued still count", async () => {
    await stack.producerRedis.del(`${stack.prefix}:tasks:prioritized`);
    await pace(2);
    const hurried = await create(60);
    expect(hurried.status).toBe(429);
    // Some 200 tasks at 2 a second: about 100 s.
    expect(hurried.body.error.message).toMatch(/earliest start is in about 10\d s/);
  });

  it("refuses single creates that would push admitted batch items past their deadlines", async () => {
    // Some 200 tasks wait; the workers start 5 a second.
    await pace(5);
    // 150 items with 150 s to live, due in 75 s (half of it: a batch leaves room for the single
    // creates after it): they would start in some 71 s, within it: admitted.
    const batch = await stack.request("POST", "/v1/batches", {
      key: apiKey,
      body: {
        requests: Array.from({ length: 150 }, (_, i) => ({
          model: "nano-banana-2",
          input: { prompt: `due in 75 s, ${i}` },
          timeout_seconds: 150,
        })),
      },
    });
    expect(batch.status).toBe(200);
    // Each single create, however patient, goes ahead of them (due within a minute): some 245
    // more fit before their start-by (80% of their time, 120 s); then the next is refused.
    let admitted = 0;
    let refused: Awaited<ReturnType<typeof create>> | undefined;
    while (!refused && admitted < 600) {
      const res = await create(600);
      if (res.status === 429) refused = res;
      else admitted++;
    }
    expect(refused?.body.error).toMatchObject({ code: "capacity_exceeded" });
    expect(admitted).toBeGreaterThan(100);
    expect(admitted).toBeLessThan(400);
  });
});

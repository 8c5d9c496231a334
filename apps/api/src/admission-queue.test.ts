import { createQueueLoadReader } from "@ripen/queue";
import { ledgerViolations, startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Issue 16's chaos run: providers healthy and unlimited, but Ripen's own workers slower than the
// creates (killed, restarting): creates were accepted into a queue that reached them minutes
// after their deadline. Admission counts that queue too: the steps due before the create and the
// parked ones that come due before it should start, at the pace the workers report.

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
  it("refuses a create its queue cannot reach before the deadline, admits a patient one", async () => {
    // 2,000 steps wait; the workers take 20 a second: a new one waits some 100 s.
    const ids = Array.from({ length: 2_000 }, (_, i) => `task_waiting_${i}`);
    const createdAt = new Date();
    const deadlineAt = new Date(createdAt.getTime() + 600_000);
    for (const id of ids) {
      await stack.taskQueue.enqueue({ id, createdAt, deadlineAt, batchId: null });
    }
    await stack.producerRedis.hset(
      `${stack.prefix}:tasks:load`,
      "pretend-worker",
      `20:${Date.now()}:1`,
    );
    // The pace and the queue are read at most every half second per process.
    await new Promise((resolve) => setTimeout(resolve, 600));

    const hurried = await create(60);
    expect(hurried.status).toBe(429);
    expect(hurried.body.error).toMatchObject({ code: "capacity_exceeded" });
    expect(hurried.body.error.message).toMatch(/earliest start is in about 10\d s/);

    // Reached in 100 s, within 80% of 150 s: admitted. Its status poll keeps its place in line
    // (earliest due first), ahead of everything created after it, so it does not wait the queue
    // again.
    expect((await create(150)).status).toBe(200);
  });

  it("when every worker falls silent (killed, starting), the last pace seen stands", async () => {
    await stack.producerRedis.del(`${stack.prefix}:tasks:load`);
    await new Promise((resolve) => setTimeout(resolve, 600));
    // The 2,000 steps still wait, and nobody takes them: no reason to admit a hurried create.
    expect((await create(60)).status).toBe(429);
    // A process that never saw a pace has no figure to refuse on.
    const fresh = await createQueueLoadReader(stack.producerRedis, stack.prefix)();
    expect(fresh.stepsPerSecond).toBeNull();
  });

  it("a pace measured with no step waiting is demand, not capacity: no figure", async () => {
    const read = createQueueLoadReader(stack.producerRedis, stack.prefix);
    const pace = (value: string) =>
      stack.producerRedis.hset(`${stack.prefix}:tasks:load`, "pretend-worker", value);
    await pace(`1:${Date.now()}:0`);
    expect((await read()).stepsPerSecond).toBeNull();
    await pace(`1:${Date.now()}:1`);
    expect((await read()).stepsPerSecond).toBe(1);
    await stack.producerRedis.del(`${stack.prefix}:tasks:load`);
  });

  it("a Redis restarted empty forgot the queue: the tasks Postgres holds queued still count", async () => {
    await stack.producerRedis.del(`${stack.prefix}:tasks:prioritized`);
    // 300 patient creates are admitted (the workers' last pace was 20 steps a second).
    for (let i = 0; i < 300; i++) expect((await create(600)).status).toBe(200);
    // Redis loses their jobs; the workers, back, take 2 steps a second.
    await stack.producerRedis.del(`${stack.prefix}:tasks:prioritized`);
    await stack.producerRedis.hset(
      `${stack.prefix}:tasks:load`,
      "pretend-worker",
      `2:${Date.now()}:1`,
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    const hurried = await create(60);
    expect(hurried.status).toBe(429);
    // Some 300 tasks at 2 a second: about 150 s.
    expect(hurried.body.error.message).toMatch(/earliest start is in about 1[45]\d s/);
  });

  it("counts the parked steps (polls, retries) that come due before a create should start", async () => {
    await stack.producerRedis.del(`${stack.prefix}:tasks:prioritized`);
    // 1,000 polls parked for 20 s; about 300 tasks are still queued in Postgres; the workers take
    // 20 steps a second: a create made now waits some 65 s for its submit.
    for (let i = 0; i < 1_000; i++) {
      const id = `task_parked_${i}`;
      await stack.taskQueue.queue.add("task.run", { taskId: id }, { jobId: id, delay: 20_000 });
    }
    await stack.producerRedis.hset(
      `${stack.prefix}:tasks:load`,
      "pretend-worker",
      `20:${Date.now()}:1`,
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    const hurried = await create(60);
    expect(hurried.status).toBe(429);
    expect(hurried.body.error.message).toMatch(/earliest start is in about 6\d s/);
    expect((await create(600)).status).toBe(200);
  });
});

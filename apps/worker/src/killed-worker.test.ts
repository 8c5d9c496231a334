import type { ChildProcess } from "node:child_process";
import { taskAttempts } from "@ripen/db";
import { ledgerViolations, startTestStack, type TestStack } from "@ripen/testkit";
import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { killWorker, spawnWorker } from "./testing/worker-process";

// Issue 16: after a worker is killed -9, every task it held runs again within 30 s. The worker
// here keeps the production lock and stalled-job settings; so does the one that takes over.

let stack: TestStack;
let child: ChildProcess | undefined;
beforeAll(async () => {
  // Generation outlasts the test's wait, so no callback settles a task before its job runs again.
  stack = await startTestStack({ worker: false, sandbox: { generationMs: 40_000 } });
});
afterAll(async () => {
  await killWorker(child);
  if (stack) expect(await ledgerViolations(stack.db.db)).toEqual([]);
  await stack?.close();
});

it("the jobs a killed worker held run again in another worker well within 30 s", async () => {
  const { apiKey } = await stack.createAccount(1_000);
  const held = 5;
  // The upstream takes each submit, then holds its answer: the worker is mid-call when killed.
  stack.sandbox.stallNextSubmits(held, 120_000);
  child = await spawnWorker(stack, { defaultLocks: true });
  const submitted = new Promise<void>((resolve) => {
    let seen = 0;
    stack.sandbox.events.on("created", () => {
      if (++seen === held) resolve();
    });
  });
  const taskIds: string[] = [];
  for (let i = 0; i < held; i++) {
    const res = await stack.request("POST", "/v1/images/generations", {
      key: apiKey,
      body: { model: "nano-banana-2", input: { prompt: `held ${i}` } },
    });
    expect(res.status).toBe(200);
    taskIds.push(res.body.data.taskId);
  }
  await submitted;
  await killWorker(child);
  const killedAt = Date.now();

  await stack.startWorker();
  // The job running again finds its attempt still `sending` and marks it `unknown` (it never
  // submits twice): that write is the moment the task is back in a live worker's hands.
  const deadline = killedAt + 30_000;
  for (;;) {
    const attempts = await stack.db.db
      .select({ state: taskAttempts.state })
      .from(taskAttempts)
      .where(inArray(taskAttempts.taskId, taskIds));
    if (attempts.length === held && attempts.every((a) => a.state !== "sending")) break;
    if (Date.now() > deadline) {
      throw new Error(
        `after 30 s, attempts still held by the dead worker: ${attempts.map((a) => a.state)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log(`killed worker's ${held} jobs running again after ${Date.now() - killedAt} ms`);
  // Nothing was submitted twice; their callbacks settle them later.
  expect(stack.sandbox.stats.submitCalls).toBe(held);
}, 60_000);

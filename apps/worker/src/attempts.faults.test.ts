import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { findTask } from "@ripen/core";
import { ledgerEntries, taskAttempts, terminalTaskStatuses } from "@ripen/db";
import { ledgerViolations, startTestStack, type TestStack, until } from "@ripen/testkit";
import { asc, eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { killWorker, spawnWorker } from "./testing/worker-process";

let stack: TestStack | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  child?.kill("SIGKILL");
  child = undefined;
  if (stack) expect(await ledgerViolations(stack.db.db)).toEqual([]);
  await stack?.close();
  stack = undefined;
});

async function createTask(on: TestStack, input: Record<string, unknown> = { prompt: "a fox" }) {
  const { apiKey } = await on.createAccount(1_000);
  const res = await on.request("POST", "/v1/images/generations", {
    key: apiKey,
    body: { model: "nano-banana-2", input },
  });
  expect(res.status).toBe(200);
  return res.body.data.taskId as string;
}

const attemptsOf = (on: TestStack, taskId: string) =>
  on.db.db
    .select()
    .from(taskAttempts)
    .where(eq(taskAttempts.taskId, taskId))
    .orderBy(asc(taskAttempts.number));

const ledgerOf = async (on: TestStack, taskId: string) =>
  (await on.db.db.select().from(ledgerEntries).where(eq(ledgerEntries.taskId, taskId)))
    .map((e) => `${e.kind}:${e.amount}`)
    .sort();

describe("at most one paid submission per attempt", () => {
  it("records the attempt with the upstream's documented price before the call", async () => {
    stack = await startTestStack();
    const taskId = await createTask(stack, { prompt: "a fox", resolution: "4K" });
    expect(await stack.waitForTask(taskId, terminalTaskStatuses)).toBe("succeeded");
    const [attempt, ...more] = await attemptsOf(stack, taskId);
    expect(more).toEqual([]);
    expect(attempt).toMatchObject({
      number: 1,
      provider: "aivideoapi",
      upstreamModel: "nano-banana-2",
      state: "succeeded",
      upstreamCost: 36,
    });
    expect(attempt?.providerTaskId).toBeTruthy();
    expect(attempt?.acceptedAt).toBeInstanceOf(Date);
  });

  it("treats a submit that timed out as an unknown outcome: no resubmit, its callback settles it", async () => {
    // The upstream accepts the task but answers after our 300 ms timeout; its callback comes later.
    stack = await startTestStack({ providerTimeoutMs: 300, sandbox: { generationMs: 1_000 } });
    stack.sandbox.stallNextSubmits(1, 5_000);
    const taskId = await createTask(stack);
    expect(await stack.waitForTask(taskId, terminalTaskStatuses)).toBe("succeeded");
    expect(stack.sandbox.stats.submitCalls).toBe(1);
    expect(await attemptsOf(stack, taskId)).toMatchObject([{ number: 1, state: "succeeded" }]);
    expect(await ledgerOf(stack, taskId)).toEqual(["capture:16", "hold:16"]);
  });

  it("an unknown outcome that never settles expires at the deadline, refunded, paid once", async () => {
    // Accepted upstream, answered too late for us, and its callback is lost.
    stack = await startTestStack({
      providerTimeoutMs: 200,
      sandbox: { generationMs: 3_600_000, callbackLossRate: 1 },
    });
    stack.sandbox.stallNextSubmits(1, 2_000);
    const accepted = once(stack.sandbox.events, "created");
    const taskId = await createTask(stack);
    await accepted;
    // Twenty minutes later, past nano-banana-2's 15-minute deadline, by the worker's clock.
    stack.clock.advance(20 * 60_000);
    expect(await stack.waitForTask(taskId, terminalTaskStatuses)).toBe("expired");
    expect(stack.sandbox.stats.submitCalls).toBe(1);
    expect(await attemptsOf(stack, taskId)).toMatchObject([{ number: 1, state: "abandoned" }]);
    expect(await ledgerOf(stack, taskId)).toEqual(["hold:16", "release:16"]);
    stack.clock.advance(-20 * 60_000);
  });

  it("an unknown outcome whose callback is overdue fails then, refunded, paid once", async () => {
    // Providers send each callback once (documents 000, 002, 004 name no retries). Once the
    // callback is far later than any the provider sent lately, it is not coming: a chaos run's
    // ~90 such tasks (timed-out submits whose callbacks were lost) each waited to its deadline.
    stack = await startTestStack({
      providerTimeoutMs: 200,
      sandbox: { generationMs: 300 },
      // The first task ends by its callback, not by a poll racing it: callbacks teach the time.
      poll: { baseMs: 20, maxMs: 200, callbackGraceMs: 10_000 },
    });
    const taught = await createTask(stack);
    expect(await stack.waitForTask(taught, terminalTaskStatuses)).toBe("succeeded");
    stack.sandbox.configure({ callbackLossRate: 1 });
    stack.sandbox.stallNextSubmits(1, 2_000);
    const accepted = once(stack.sandbox.events, "created");
    const taskId = await createTask(stack);
    await accepted;
    const on = stack;
    await until(async () => (await attemptsOf(on, taskId))[0]?.state === "unknown", 10_000);
    // Ten seconds on, the worker looks again and still waits: a late callback could settle it.
    stack.clock.advance(10_000);
    const looked = stack.clock.now().getTime();
    await until(
      async () => (await findTask(on.db.db, taskId))!.nextWakeAt!.getTime() > looked,
      10_000,
    );
    expect(await findTask(stack.db.db, taskId)).toMatchObject({
      status: "submitting",
      waitingFor: { reason: "callback", provider: "aivideoapi" },
    });
    // Twenty seconds on, past the floor of the wait (the provider's recent callbacks came in
    // ~300 ms). Three chaos runs marked 402 submits unknown, and no callback came for any of them
    // after the mark; waited a minute, those started in the last minute before their deadlines
    // expired.
    stack.clock.advance(11_000);
    expect(await stack.waitForTask(taskId, terminalTaskStatuses, 10_000)).toBe("failed");
    const task = await findTask(stack.db.db, taskId);
    expect(task).toMatchObject({ errorCode: "upstream_error" });
    expect(task?.errorMessage).toContain("callback");
    expect(stack.sandbox.stats.submitCalls).toBe(2);
    expect(await attemptsOf(stack, taskId)).toMatchObject([
      { number: 1, provider: "aivideoapi", state: "abandoned" },
    ]);
    expect(await ledgerOf(stack, taskId)).toEqual(["hold:16", "release:16"]);
    stack.clock.advance(-21_000);
  });

  it("an unknown outcome where no callback can come fails at once, refunded, paid once", async () => {
    // nanobanana sends no callbacks, and a task whose id Ripen never learned cannot be polled:
    // nothing can settle it. A chaos run's such task held its client (and the run's drain) to its
    // 30-minute deadline.
    stack = await startTestStack({ providerTimeoutMs: 200, sandbox: { generationMs: 1_000 } });
    stack.sandbox.stallNextSubmits(1, 2_000, "nanobanana");
    const { apiKey } = await stack.createAccount(1_000);
    const res = await stack.request("POST", "/v1/images/generations", {
      key: apiKey,
      body: { model: "seedream4", input: { prompt: "a fox" } },
    });
    expect(res.status).toBe(200);
    const taskId = res.body.data.taskId as string;
    expect(await stack.waitForTask(taskId, terminalTaskStatuses, 10_000)).toBe("failed");
    const task = await findTask(stack.db.db, taskId);
    expect(task).toMatchObject({ errorCode: "upstream_error" });
    expect(task?.errorMessage).toContain("sends no callbacks");
    expect(stack.sandbox.stats.submitCalls).toBe(1);
    expect(await attemptsOf(stack, taskId)).toMatchObject([
      { number: 1, provider: "nanobanana", state: "abandoned" },
    ]);
    const price = task!.price;
    expect(await ledgerOf(stack, taskId)).toEqual([`hold:${price}`, `release:${price}`]);
  });

  it("a worker killed between the upstream's accept and our write does not pay twice", async () => {
    stack = await startTestStack({
      worker: false,
      // Long enough that the replacement worker runs the job before the callback arrives.
      sandbox: { generationMs: 4_000 },
      workerOptions: { stalledIntervalMs: 300, lockDurationMs: 1_000 },
    });
    // The upstream creates the task, then holds its answer: the worker is between accept and write.
    stack.sandbox.stallNextSubmits(1, 60_000);
    const taskId = await createTask(stack);
    const created = once(stack.sandbox.events, "created");
    child = await spawnWorker(stack, { waitReady: false });
    await created;
    await killWorker(child);
    expect((await attemptsOf(stack, taskId)).map((a) => a.state)).toEqual(["sending"]);

    // BullMQ hands the dead worker's job to a live one once its lock expires.
    await stack.startWorker();
    expect(await stack.waitForTask(taskId, terminalTaskStatuses, 20_000)).toBe("succeeded");
    expect(stack.sandbox.stats.submitCalls).toBe(1);
    const attempts = await attemptsOf(stack, taskId);
    expect(attempts).toMatchObject([{ number: 1, state: "succeeded" }]);
    expect(attempts[0]?.providerTaskId).toBeTruthy();
    expect(await ledgerOf(stack, taskId)).toEqual(["capture:16", "hold:16"]);
  });
});

describe("an upstream that lost an accepted task", () => {
  it("opens a new attempt once two polls in a row find it missing, and completes", async () => {
    stack = await startTestStack({ sandbox: { generationMs: 3_600_000, callbackLossRate: 1 } });
    const taskId = await createTask(stack);
    await stack.waitForTask(taskId, ["running"]);
    // The upstream restarts: it forgets every task. Work submitted afterwards finishes quickly.
    stack.sandbox.configure({ generationMs: 50 });
    stack.sandbox.forgetTasks();
    expect(await stack.waitForTask(taskId, terminalTaskStatuses)).toBe("succeeded");

    expect(stack.sandbox.stats.submitCalls).toBe(2);
    const [lost, replacement] = await attemptsOf(stack, taskId);
    expect(lost).toMatchObject({ number: 1, state: "lost", errorCode: "task_not_found" });
    expect(lost?.notFoundCount).toBe(2);
    expect(replacement).toMatchObject({ number: 2, state: "succeeded" });
    expect(await findTask(stack.db.db, taskId)).toMatchObject({ attempts: 2 });
    expect(await ledgerOf(stack, taskId)).toEqual(["capture:16", "hold:16"]);
  });

  it("fails and refunds when the attempts run out", async () => {
    stack = await startTestStack({
      sandbox: { generationMs: 3_600_000, callbackLossRate: 1 },
      retry: { maxAttempts: 1 },
    });
    const taskId = await createTask(stack);
    await stack.waitForTask(taskId, ["running"]);
    stack.sandbox.forgetTasks();
    expect(await stack.waitForTask(taskId, terminalTaskStatuses)).toBe("failed");
    const task = await findTask(stack.db.db, taskId);
    expect(task?.errorCode).toBe("upstream_error");
    expect(task?.errorMessage).toMatch(/1 attempts/);
    expect(stack.sandbox.stats.submitCalls).toBe(1);
    expect(await ledgerOf(stack, taskId)).toEqual(["hold:16", "release:16"]);
  });
});

import { createTask, findTask } from "@ripen/core";
import { ledgerEntries, taskEvents } from "@ripen/db";
import { getModel } from "@ripen/models";
import { ledgerViolations, startTestStack, type TestStack } from "@ripen/testkit";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

let stack: TestStack;
let key: string;
let accountId: string;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.close());

beforeEach(async () => {
  stack.sandbox.configure({
    generationMs: 50,
    failureRate: 0,
    callbackLossRate: 0,
    callbackDuplicateRate: 0,
  });
  ({ apiKey: key, accountId } = await stack.createAccount(1_000));
});

async function create(
  input: Record<string, unknown> = { prompt: "a cat in sunglasses" },
  model = "nano-banana-2",
) {
  const res = await stack.request("POST", "/v1/images/generations", {
    key,
    body: { model, input },
  });
  expect(res.status).toBe(200);
  return res.body.data.taskId as string;
}

const ledgerOf = async (taskId: string) =>
  (await stack.db.db.select().from(ledgerEntries).where(eq(ledgerEntries.taskId, taskId)))
    .map((e) => `${e.kind}:${e.amount}`)
    .sort();

const sourcesOf = async (taskId: string, on: TestStack = stack) =>
  (
    await on.db.db
      .select()
      .from(taskEvents)
      .where(eq(taskEvents.taskId, taskId))
      .orderBy(asc(taskEvents.id))
  ).map((e) => `${e.toStatus}<-${e.source}`);

describe("a task's journey", () => {
  it("waits its provider's callback grace before the first poll (bench d: polls racing callbacks)", async () => {
    const graced = await startTestStack({
      poll: { baseMs: 20, maxMs: 200, callbackGraceMs: 60_000 },
    });
    try {
      // Callbacks lost and a long generation: only the first poll's schedule is left to read.
      graced.sandbox.configure({ generationMs: 3_600_000, callbackLossRate: 1 });
      const { apiKey } = await graced.createAccount(1_000);
      const res = await graced.request("POST", "/v1/images/generations", {
        key: apiKey,
        body: { model: "nano-banana-2", input: { prompt: "x" } },
      });
      const taskId = res.body.data.taskId as string;
      expect(await graced.waitForTask(taskId, ["running"])).toBe("running");
      const task = await findTask(graced.db.db, taskId);
      // aivideoapi sends callbacks: base 20 ms + grace 60 s after the accept.
      expect(task!.nextWakeAt!.getTime() - task!.submittedAt!.getTime()).toBe(60_020);
    } finally {
      await graced.close();
    }
  });

  it("completes, captures its price, and serves a real image", async () => {
    const taskId = await create({ prompt: "a cat", resolution: "2K", output_format: "png" });
    expect(await stack.waitForTask(taskId, ["succeeded", "failed", "expired"])).toBe("succeeded");

    const events = await sourcesOf(taskId);
    expect(events.at(-1)).toMatch(/^succeeded<-(callback|poll)$/);

    const res = await stack.request("GET", `/v1/tasks/${taskId}`, { key });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: taskId, status: "completed", model: "nano-banana-2" });
    expect(res.body.output.urls).toHaveLength(1);
    expect(res.body.output.metadata.model).toBe("nano-banana-2");
    expect(typeof res.body.completed_at).toBe("number");

    const image = await fetch(res.body.output.urls[0]);
    expect(image.headers.get("content-type")).toContain("image/png");
    const bytes = Buffer.from(await image.arrayBuffer());
    expect(bytes.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");

    expect(await ledgerOf(taskId)).toEqual(["capture:24", "hold:24"]);
    const credits = await stack.request("GET", "/v1/credits", { key });
    expect(credits.body.data).toEqual({ credits: 1_000 - 24, balance: 1_000 - 24, held: 0 });
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });

  it("completes by callback when polling is too slow to get there first", async () => {
    const slowPolls = await startTestStack({ poll: { baseMs: 600_000, maxMs: 600_000 } });
    try {
      const { apiKey } = await slowPolls.createAccount(100);
      const res = await slowPolls.request("POST", "/v1/images/generations", {
        key: apiKey,
        body: { model: "nano-banana-2-lite", input: { prompt: "a dog" } },
      });
      const taskId = res.body.data.taskId;
      expect(await slowPolls.waitForTask(taskId, ["succeeded", "failed"])).toBe("succeeded");
      const events = await sourcesOf(taskId, slowPolls);
      expect(events.slice(0, 2)).toEqual(["queued<-api", "submitting<-worker"]);
      expect(events.at(-1)).toBe("succeeded<-callback");
      const output = await slowPolls.request("GET", `/v1/tasks/${taskId}`, { key: apiKey });
      const image = await fetch(output.body.output.urls[0]);
      expect(image.headers.get("content-type")).toContain("image/jpeg");
      expect(
        Buffer.from(await image.arrayBuffer())
          .subarray(0, 3)
          .toString("hex"),
      ).toBe("ffd8ff");
      expect(await ledgerViolations(slowPolls.db.db)).toEqual([]);
    } finally {
      await slowPolls.close();
    }
  });

  it("completes by polling when the callback is lost", async () => {
    stack.sandbox.configure({ callbackLossRate: 1 });
    const taskId = await create();
    expect(await stack.waitForTask(taskId, ["succeeded", "failed", "expired"])).toBe("succeeded");
    expect((await sourcesOf(taskId)).at(-1)).toBe("succeeded<-poll");
    expect(await ledgerOf(taskId)).toEqual(["capture:16", "hold:16"]);
  });

  it("refunds a task every provider serving it fails, tried again until its attempts run out", async () => {
    stack.sandbox.configure({ failureRate: 1 });
    const taskId = await create({ prompt: "a cat", resolution: "4K" });
    expect(await stack.waitForTask(taskId, ["succeeded", "failed", "expired"])).toBe("failed");
    const res = await stack.request("GET", `/v1/tasks/${taskId}`, { key });
    expect(res.body).toMatchObject({
      id: taskId,
      status: "failed",
      error: { code: "upstream_error" },
    });
    expect(res.body.error.message).toContain("Generation failed");
    // nanobanana does not take the default aspect ratio (auto): aivideoapi, then kie, then
    // aivideoapi again (a failed generation is retried, once per provider): the test stack's
    // three attempts.
    const history = await stack.request("GET", `/v1/tasks/${taskId}/history`, { key });
    expect(history.body.attempts.map((a: { provider: string }) => a.provider)).toEqual([
      "aivideoapi",
      "kie",
      "aivideoapi",
    ]);
    expect(res.body.output).toBeUndefined();
    expect(await ledgerOf(taskId)).toEqual(["hold:36", "release:36"]);
    const credits = await stack.request("GET", "/v1/credits", { key });
    expect(credits.body.data.credits).toBe(1_000);
  });

  it("expires a task past its model's deadline and refunds it", async () => {
    stack.sandbox.configure({ generationMs: 3_600_000, callbackLossRate: 1 });
    const taskId = await create();
    await stack.waitForTask(taskId, ["running"]);
    // Twenty minutes later, by the worker's clock: past nano-banana-2's 15-minute deadline.
    stack.clock.advance(20 * 60_000);
    expect(await stack.waitForTask(taskId, ["succeeded", "failed", "expired"])).toBe("expired");
    const res = await stack.request("GET", `/v1/tasks/${taskId}`, { key });
    expect(res.body).toMatchObject({ status: "failed", error: { code: "task_expired" } });
    expect(await ledgerOf(taskId)).toEqual(["hold:16", "release:16"]);
    expect((await stack.request("GET", "/v1/credits", { key })).body.data.credits).toBe(1_000);
    stack.clock.advance(-20 * 60_000);
  });

  it("the sweep expires overdue tasks that have no live job", async () => {
    const task = await createTask(stack.db.db, {
      accountId,
      model: getModel("nano-banana-2"),
      input: { prompt: "never enqueued" },
      now: new Date(Date.now() - 16 * 60_000),
    });
    const result = await stack.worker!.sweepNow();
    expect(result.expired).toBeGreaterThanOrEqual(1);
    expect((await findTask(stack.db.db, task.id))?.status).toBe("expired");
    expect(await ledgerOf(task.id)).toEqual(["hold:16", "release:16"]);
  });

  it("retries a transient upstream error on submit, then succeeds", async () => {
    stack.sandbox.failNextSubmits(1, 503);
    const taskId = await create();
    expect(await stack.waitForTask(taskId, ["succeeded", "failed", "expired"])).toBe("succeeded");
    expect((await findTask(stack.db.db, taskId))?.attempts).toBe(2);
  });

  it("fails and refunds when the upstreams keep failing past the retry budget", async () => {
    stack.sandbox.failNextSubmits(3, 500, "aivideoapi");
    stack.sandbox.failNextSubmits(3, 500, "kie");
    const taskId = await create();
    expect(await stack.waitForTask(taskId, ["succeeded", "failed", "expired"])).toBe("failed");
    const task = await findTask(stack.db.db, taskId);
    expect(task?.attempts).toBe(3);
    expect(task?.errorCode).toBe("upstream_error");
    expect(await ledgerOf(taskId)).toEqual(["hold:16", "release:16"]);
  });

  it("recovers a crash between commit and enqueue through the sweep", async () => {
    // The API commits the task, then dies before adding its job.
    const task = await createTask(stack.db.db, {
      accountId,
      model: getModel("nano-banana-2"),
      input: { prompt: "orphan" },
    });
    expect(await stack.taskQueue.queue.getJob(task.id)).toBeUndefined();
    const result = await stack.worker!.sweepNow();
    expect(result.requeued).toBeGreaterThanOrEqual(1);
    expect(await stack.waitForTask(task.id, ["succeeded", "failed", "expired"])).toBe("succeeded");
    expect(await ledgerOf(task.id)).toEqual(["capture:16", "hold:16"]);
  });

  it("a sweep leaves tasks with live work alone", async () => {
    stack.sandbox.configure({ generationMs: 3_600_000, callbackLossRate: 1 });
    const taskId = await create();
    await stack.waitForTask(taskId, ["running"]);
    const before = await stack.taskQueue.queue.getJob(taskId);
    expect(before).toBeDefined();
    const result = await stack.worker!.sweepNow();
    expect(result.requeued).toBe(0);
  });

  it("keeps the ledger invariants after all of the above", async () => {
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });
});

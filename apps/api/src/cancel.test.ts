import { Writable } from "node:stream";
import { callbackToken, createTaskEnder, findTask } from "@ripen/core";
import { deliveries, ledgerEntries, taskAttempts, taskEvents } from "@ripen/db";
import { listen } from "@ripen/infra";
import {
  completedCallbackBody,
  createRunningTask,
  ledgerViolations,
  startTestStack,
  TEST_CALLBACK_SECRET,
  type TestStack,
} from "@ripen/testkit";
import { and, asc, eq, inArray } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiApp } from "./app";

let stack: TestStack;
let accountId: string;
let apiKey: string;

// No worker: tasks stay where the test puts them, and the test plays the provider.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ accountId, apiKey } = await stack.createAccount(10_000));
});
afterAll(() => stack?.close());

const createImage = async (key = apiKey) => {
  const res = await stack.request("POST", "/v1/images/generations", {
    key,
    body: { model: "nano-banana-2", input: { prompt: "a cat" } },
  });
  expect(res.status).toBe(200);
  return res.body.data.taskId as string;
};
const cancel = (taskId: string, key = apiKey) =>
  stack.request("POST", `/v1/tasks/${taskId}/cancel`, { key });

const ledgerOf = async (taskId: string) =>
  (
    await stack.db.db
      .select({ kind: ledgerEntries.kind, amount: ledgerEntries.amount })
      .from(ledgerEntries)
      .where(eq(ledgerEntries.taskId, taskId))
      .orderBy(asc(ledgerEntries.createdAt))
  ).map((e) => `${e.kind} ${e.amount}`);

const endingsOf = async (taskId: string) =>
  (
    await stack.db.db
      .select({ to: taskEvents.toStatus, source: taskEvents.source })
      .from(taskEvents)
      .where(
        and(
          eq(taskEvents.taskId, taskId),
          inArray(taskEvents.toStatus, ["succeeded", "failed", "canceled", "expired"]),
        ),
      )
  ).map((e) => `${e.to} by ${e.source}`);

const postCallback = (taskId: string, providerTaskId: string) =>
  fetch(
    `${stack.callbacksUrl}/callbacks/aivideoapi/${taskId}/${callbackToken(TEST_CALLBACK_SECRET, taskId, 1)}`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(completedCallbackBody(providerTaskId)),
    },
  ).then(async (r) => ({ status: r.status, ...((await r.json()) as { outcome: string }) }));

describe("POST /v1/tasks/{id}/cancel", () => {
  it("ends a queued task as canceled, releases its hold once, and answers it as GET does", async () => {
    const before = (await stack.request("GET", "/v1/credits", { key: apiKey })).body.data;
    const taskId = await createImage();

    const res = await cancel(taskId);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: taskId,
      status: "failed",
      model: "nano-banana-2",
      error: { code: "task_canceled" },
    });
    expect(res.body).toEqual(
      (await stack.request("GET", `/v1/tasks/${taskId}`, { key: apiKey })).body,
    );
    expect((await findTask(stack.db.db, taskId))?.status).toBe("canceled");
    expect(await ledgerOf(taskId)).toEqual(["hold 16", "release 16"]);
    expect(await endingsOf(taskId)).toEqual(["canceled by api"]);
    expect((await stack.request("GET", "/v1/credits", { key: apiKey })).body.data).toEqual(before);
  });

  it("writes the client's callback: the canceled task as the query shows it", async () => {
    const created = await stack.request("POST", "/v1/images/generations", {
      key: apiKey,
      body: {
        model: "nano-banana-2",
        input: { prompt: "a cat" },
        callback_url: "https://client.example/hooks/ripen",
      },
    });
    const taskId = created.body.data.taskId as string;
    const res = await cancel(taskId);
    expect(res.status).toBe(200);
    const rows = await stack.db.db.select().from(deliveries).where(eq(deliveries.taskId, taskId));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      event: "task.failed",
      url: "https://client.example/hooks/ripen",
    });
    expect(JSON.parse(rows[0]!.body)).toEqual(res.body);
  });

  it("a second cancel is a 409 task_already_ended in the envelope, and releases nothing more", async () => {
    const taskId = await createImage();
    expect((await cancel(taskId)).status).toBe(200);
    const again = await cancel(taskId);
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      error: {
        code: "task_already_ended",
        message: expect.stringContaining("canceled"),
        type: "invalid_request_error",
      },
    });
    expect(await ledgerOf(taskId)).toEqual(["hold 16", "release 16"]);
  });

  it("a task that succeeded cannot be canceled: 409, still captured", async () => {
    const { taskId, providerTaskId } = await createRunningTask(stack.db.db, accountId);
    expect((await postCallback(taskId, providerTaskId)).outcome).toBe("applied");
    const res = await cancel(taskId);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("task_already_ended");
    expect(await ledgerOf(taskId)).toEqual(["hold 16", "capture 16"]);
  });

  it("another account's task, an unknown id and a malformed id are 404 task_not_found", async () => {
    const taskId = await createImage();
    const other = await stack.createAccount(100);
    const foreign = await cancel(taskId, other.apiKey);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe("task_not_found");
    expect((await findTask(stack.db.db, taskId))?.status).toBe("queued");
    expect((await cancel("task_01kb0000000000000000000000")).status).toBe(404);
    expect((await cancel("not-a-task")).status).toBe(404);
    expect((await stack.request("POST", `/v1/tasks/${taskId}/cancel`)).status).toBe(401);
  });

  it("a late upstream result is recorded on the abandoned attempt and changes nothing else", async () => {
    const { taskId, providerTaskId } = await createRunningTask(stack.db.db, accountId);
    const credits = (await stack.request("GET", "/v1/credits", { key: apiKey })).body.data;
    const canceled = await cancel(taskId);
    expect(canceled.status).toBe(200);
    const afterCancel = (await stack.request("GET", "/v1/credits", { key: apiKey })).body.data;
    expect(afterCancel).toEqual({
      ...credits,
      credits: credits.credits + 16,
      held: credits.held - 16,
    });

    const late = await postCallback(taskId, providerTaskId);
    expect(late).toMatchObject({ status: 200, outcome: "late" });

    const [attempt] = await stack.db.db
      .select()
      .from(taskAttempts)
      .where(eq(taskAttempts.taskId, taskId));
    expect(attempt).toMatchObject({ state: "abandoned", providerTaskId });
    expect(attempt?.result).toEqual({
      status: "succeeded",
      urls: ["https://files.example/abc.png"],
    });
    expect(attempt?.resultAt).toBeInstanceOf(Date);
    const task = await findTask(stack.db.db, taskId);
    expect(task).toMatchObject({ status: "canceled", output: null, errorCode: "task_canceled" });
    expect(await ledgerOf(taskId)).toEqual(["hold 16", "release 16"]);
    expect(await endingsOf(taskId)).toEqual(["canceled by api"]);
    expect((await stack.request("GET", "/v1/credits", { key: apiKey })).body.data).toEqual(
      afterCancel,
    );
  });

  it("cancel racing the provider's callback: exactly one ending, one settlement, every time", async () => {
    const outcomes = { canceled: 0, succeeded: 0 };
    for (let round = 0; round < 40; round++) {
      const { taskId, providerTaskId } = await createRunningTask(stack.db.db, accountId);
      const [canceled, callback] = await Promise.all([
        cancel(taskId),
        postCallback(taskId, providerTaskId),
      ]);
      const task = await findTask(stack.db.db, taskId);
      if (canceled.status === 200) {
        expect(task?.status).toBe("canceled");
        expect(callback.outcome).toBe("late");
        expect(await ledgerOf(taskId)).toEqual(["hold 16", "release 16"]);
        outcomes.canceled++;
      } else {
        expect(canceled.status).toBe(409);
        expect(task?.status).toBe("succeeded");
        expect(callback.outcome).toBe("applied");
        expect(await ledgerOf(taskId)).toEqual(["hold 16", "capture 16"]);
        outcomes.succeeded++;
      }
      expect(await endingsOf(taskId)).toHaveLength(1);
    }
    expect(outcomes.canceled + outcomes.succeeded).toBe(40);
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });

  it("many cancels of one task at once: one 200, the rest 409, one release", async () => {
    const taskId = await createImage();
    const answers = await Promise.all(Array.from({ length: 20 }, () => cancel(taskId)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(19);
    expect(await ledgerOf(taskId)).toEqual(["hold 16", "release 16"]);
  });
});

describe("cancel's log lines", () => {
  it("logs task.canceled and credits.refunded with taskId and accountId", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const api = await listen(
      createApiApp({
        db: stack.db.db,
        enqueue: async () => {},
        logger: pino({ level: "info" }, sink),
        clock: stack.clock,
        ender: createTaskEnder({ logger: pino({ level: "info" }, sink) }),
      }),
      { port: 0, host: "127.0.0.1", name: "API" },
    );
    try {
      const taskId = await createImage();
      const res = await fetch(`${api.url}/v1/tasks/${taskId}/cancel`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}` },
      });
      expect(res.status).toBe(200);
      const events = lines.filter((l) => l.taskId === taskId);
      expect(events.map((l) => l.event)).toEqual(["task.canceled", "credits.refunded"]);
      for (const line of events) expect(line).toMatchObject({ taskId, accountId });
      expect(events[0]).toMatchObject({ errorCode: "task_canceled", source: "api" });
      expect(events[1]).toMatchObject({ amount: 16 });
    } finally {
      await api.close();
    }
  });
});

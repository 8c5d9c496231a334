import { findTask } from "@ripen/core";
import { ledgerEntries } from "@ripen/db";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let apiKey: string;

// The sandbox takes an hour per generation: tasks stay running until the test moves the clock.
beforeAll(async () => {
  stack = await startTestStack({ sandbox: { generationMs: 3_600_000 } });
  ({ apiKey } = await stack.createAccount(10_000));
});
afterAll(() => stack?.close());

const create = (body: Record<string, unknown>, endpoint = "images") =>
  stack.request("POST", `/v1/${endpoint}/generations`, { key: apiKey, body });
const image = (extra: Record<string, unknown> = {}) =>
  create({ model: "nano-banana-2", input: { prompt: "a cat" }, ...extra });

const ledgerOf = async (taskId: string) =>
  (
    await stack.db.db
      .select()
      .from(ledgerEntries)
      .where(eq(ledgerEntries.taskId, taskId))
      .orderBy(asc(ledgerEntries.createdAt))
  ).map((e) => `${e.kind} ${e.amount}`);

describe("timeout_seconds: a per-request deadline", () => {
  it("ends the task as expired and refunds it once its own deadline passes", async () => {
    const short = await image({ timeout_seconds: 10 });
    const usual = await image();
    expect([short.status, usual.status]).toEqual([200, 200]);
    const shortId = short.body.data.taskId as string;
    const usualId = usual.body.data.taskId as string;

    const created = (await findTask(stack.db.db, shortId))!;
    expect(created.deadlineAt.getTime() - created.createdAt.getTime()).toBe(10_000);
    const other = (await findTask(stack.db.db, usualId))!;
    expect(other.deadlineAt.getTime() - other.createdAt.getTime()).toBe(15 * 60_000);
    await stack.waitForTask(shortId, ["running"]);
    await stack.waitForTask(usualId, ["running"]);

    stack.clock.advance(10_001);
    try {
      await stack.worker!.sweepNow();
      await stack.waitForTask(shortId, ["expired"]);
    } finally {
      stack.clock.advance(-10_001);
    }

    const shown = await stack.request("GET", `/v1/tasks/${shortId}`, { key: apiKey });
    expect(shown.body).toMatchObject({ status: "failed", error: { code: "task_expired" } });
    expect(await ledgerOf(shortId)).toEqual(["hold 16", "release 16"]);
    // The model's own deadline still holds the other one.
    expect((await findTask(stack.db.db, usualId))?.status).toBe("running");
    expect(await ledgerOf(usualId)).toEqual(["hold 16"]);
  });

  it("accepts any whole number of seconds from 10 to just under the model's deadline", async () => {
    for (const [body, endpoint, seconds] of [
      [{ model: "nano-banana-2", input: { prompt: "x" }, timeout_seconds: 899 }, "images", 899],
      [{ model: "nano-banana-2-lite", input: { prompt: "x" }, timeout_seconds: 10 }, "images", 10],
      [{ model: "veo-3.1-fast", input: { prompt: "x" }, timeout_seconds: 1799 }, "videos", 1799],
    ] as const) {
      const res = await create(body, endpoint);
      expect(res.status).toBe(200);
      const task = (await findTask(stack.db.db, res.body.data.taskId))!;
      expect(task.deadlineAt.getTime() - task.createdAt.getTime()).toBe(seconds * 1000);
    }
  });

  it("refuses a deadline as long as the model's, naming its limit, and charges nothing", async () => {
    const before = (await stack.request("GET", "/v1/credits", { key: apiKey })).body.data;
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [
        { model: "nano-banana-2", timeout_seconds: 900 },
        "images",
        /nano-banana-2's own deadline of 900 seconds/,
      ],
      [{ model: "nano-banana-2", timeout_seconds: 86_400 }, "images", /900 seconds/],
      [{ model: "nano-banana-2-lite", timeout_seconds: 600 }, "images", /deadline of 600 seconds/],
      [{ model: "veo-3.1-fast", timeout_seconds: 1800 }, "videos", /deadline of 1800 seconds/],
      [{ model: "nano-banana-2", timeout_seconds: 9 }, "images", /at least 10 seconds/],
      [{ model: "nano-banana-2", timeout_seconds: 0 }, "images", /at least 10 seconds/],
      [{ model: "nano-banana-2", timeout_seconds: -30 }, "images", /at least 10 seconds/],
      [{ model: "nano-banana-2", timeout_seconds: 10.5 }, "images", /whole number/],
      [{ model: "nano-banana-2", timeout_seconds: "60" }, "images", /whole number/],
      [{ model: "nano-banana-2", timeout_seconds: null }, "images", /whole number/],
      [{ model: "nano-banana-2", timeout_seconds: 1e300 }, "images", /timeout_seconds/],
    ];
    for (const [extra, endpoint, message] of cases) {
      const res = await create({ input: { prompt: "x" }, ...extra }, endpoint);
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      expect(res.body.error.message).toContain("'timeout_seconds'");
      expect(res.body.error.message).toMatch(message);
    }
    expect((await stack.request("GET", "/v1/credits", { key: apiKey })).body.data).toEqual(before);
  });
});

describe("cancel with the worker running", () => {
  it("a running task canceled while its upstream works: refunded, and its job settles nothing", async () => {
    const res = await image();
    const taskId = res.body.data.taskId as string;
    await stack.waitForTask(taskId, ["running"]);
    const canceled = await stack.request("POST", `/v1/tasks/${taskId}/cancel`, { key: apiKey });
    expect(canceled.status).toBe(200);
    expect(canceled.body).toMatchObject({ status: "failed", error: { code: "task_canceled" } });
    // Past its deadline the sweep leaves it alone: it has ended.
    stack.clock.advance(15 * 60_000 + 1);
    try {
      await stack.worker!.sweepNow();
    } finally {
      stack.clock.advance(-(15 * 60_000 + 1));
    }
    expect((await findTask(stack.db.db, taskId))?.status).toBe("canceled");
    expect(await ledgerOf(taskId)).toEqual(["hold 16", "release 16"]);
  });
});

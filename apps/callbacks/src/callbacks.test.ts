import { callbackToken, completeTask, createTask, findTask, transitionTask } from "@ripen/core";
import { ledgerEntries, providerCallbacks } from "@ripen/db";
import {
  ledgerViolations,
  startTestStack,
  TEST_CALLBACK_SECRET,
  type TestStack,
} from "@ripen/testkit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let accountId: string;

// No worker: these tests play the provider themselves, posting callbacks over HTTP.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ accountId } = await stack.createAccount(1_000));
});
afterAll(() => stack?.close());

/** A task that was submitted upstream as `upstream-<id>` and is running. */
async function runningTask() {
  const task = await createTask(stack.db.db, {
    accountId,
    model: "nano-banana-2",
    input: { prompt: "x" },
  });
  const providerTaskId = `upstream-${task.id}`;
  await transitionTask(stack.db.db, {
    taskId: task.id,
    from: ["queued"],
    to: "submitting",
    source: "test",
  });
  await transitionTask(stack.db.db, {
    taskId: task.id,
    from: ["submitting"],
    to: "running",
    source: "test",
    changes: { providerTaskId },
  });
  return { taskId: task.id, providerTaskId };
}

const completedBody = (providerTaskId: string) => ({
  id: providerTaskId,
  status: "completed",
  model: "nano-banana-2",
  created_at: 1775383908,
  completed_at: 1775383910,
  output: {
    urls: ["https://files.example/abc.png"],
    metadata: { model: "nano-banana-2", costTime: 70 },
  },
});

function post(
  taskId: string,
  body: unknown,
  token = callbackToken(TEST_CALLBACK_SECRET, taskId),
  provider = "aivideoapi",
) {
  return fetch(`${stack.callbacksUrl}/callbacks/${provider}/${taskId}/${token}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const capturesOf = async (taskId: string) =>
  (await stack.db.db.select().from(ledgerEntries).where(eq(ledgerEntries.taskId, taskId))).filter(
    (e) => e.kind === "capture",
  ).length;

describe("provider callbacks", () => {
  it("completes the task, stores the raw body, and answers 200", async () => {
    const { taskId, providerTaskId } = await runningTask();
    const raw = JSON.stringify(completedBody(providerTaskId));
    const res = await post(taskId, raw);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: "applied" });
    const task = await findTask(stack.db.db, taskId);
    expect(task?.status).toBe("succeeded");
    expect(task?.output?.urls).toEqual(["https://files.example/abc.png"]);
    const stored = await stack.db.db
      .select()
      .from(providerCallbacks)
      .where(eq(providerCallbacks.taskId, taskId));
    expect(stored.map((s) => [s.body, s.outcome])).toEqual([[raw, "applied"]]);
  });

  it("answers a duplicate with 200 and no second capture", async () => {
    const { taskId, providerTaskId } = await runningTask();
    expect((await post(taskId, completedBody(providerTaskId))).status).toBe(200);
    const again = await post(taskId, completedBody(providerTaskId));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ outcome: "duplicate" });
    expect(await capturesOf(taskId)).toBe(1);
  });

  it("applies exactly one of many concurrent identical callbacks", async () => {
    const { taskId, providerTaskId } = await runningTask();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        post(taskId, completedBody(providerTaskId)).then(
          (r) => r.json() as Promise<{ outcome: string }>,
        ),
      ),
    );
    expect(answers.filter((a) => a.outcome === "applied")).toHaveLength(1);
    expect(answers.filter((a) => a.outcome === "duplicate")).toHaveLength(9);
    expect(await capturesOf(taskId)).toBe(1);
  });

  it("a callback racing the poller: the first wins, the second changes nothing", async () => {
    const { taskId, providerTaskId } = await runningTask();
    const [viaPoll, viaCallback] = await Promise.all([
      completeTask(stack.db.db, {
        taskId,
        source: "poll",
        outcome: {
          status: "succeeded",
          output: { urls: ["https://files.example/p.png"], metadata: {} },
        },
      }),
      post(taskId, completedBody(providerTaskId)).then(
        (r) => r.json() as Promise<{ outcome: string }>,
      ),
    ]);
    const applied = [viaPoll.applied, viaCallback.outcome === "applied"];
    expect(applied.filter(Boolean)).toHaveLength(1);
    expect(await capturesOf(taskId)).toBe(1);
  });

  it("refuses a forged token with 401 and changes nothing", async () => {
    const { taskId, providerTaskId } = await runningTask();
    const forged = callbackToken("some-other-secret-0123456789", taskId);
    const res = await post(taskId, completedBody(providerTaskId), forged);
    expect(res.status).toBe(401);
    expect((await findTask(stack.db.db, taskId))?.status).toBe("running");
    const wrongLength = await post(taskId, completedBody(providerTaskId), "abc");
    expect(wrongLength.status).toBe(401);
    const stored = await stack.db.db
      .select()
      .from(providerCallbacks)
      .where(eq(providerCallbacks.taskId, taskId));
    expect(stored).toEqual([]);
  });

  it("a token for one task does not open another", async () => {
    const a = await runningTask();
    const b = await runningTask();
    const res = await post(
      b.taskId,
      completedBody(b.providerTaskId),
      callbackToken(TEST_CALLBACK_SECRET, a.taskId),
    );
    expect(res.status).toBe(401);
  });

  it("answers 404 for an unknown task with a valid token, and for an unknown provider", async () => {
    const ghost = "task_01doesnotexist";
    expect((await post(ghost, completedBody("nope"))).status).toBe(404);
    const { taskId, providerTaskId } = await runningTask();
    expect(
      (await post(taskId, completedBody(providerTaskId), undefined, "no-such-provider")).status,
    ).toBe(404);
  });

  it("rejects a malformed body with 400, keeps it for audit, and leaves the task running", async () => {
    const { taskId } = await runningTask();
    const notJson = await post(taskId, "{oops");
    expect(notJson.status).toBe(400);
    const wrongShape = await post(taskId, { id: 42, status: "done" });
    expect(wrongShape.status).toBe(400);
    expect((await findTask(stack.db.db, taskId))?.status).toBe("running");
    const stored = await stack.db.db
      .select()
      .from(providerCallbacks)
      .where(eq(providerCallbacks.taskId, taskId));
    expect(stored.map((s) => s.outcome)).toEqual(["invalid", "invalid"]);
  });

  it("rejects a callback for another upstream task", async () => {
    const { taskId } = await runningTask();
    const res = await post(taskId, completedBody("upstream-someone-else"));
    expect(res.status).toBe(400);
    expect((await findTask(stack.db.db, taskId))?.status).toBe("running");
  });

  it("refunds on a failed callback and ignores progress callbacks", async () => {
    const { taskId, providerTaskId } = await runningTask();
    const progress = await post(taskId, {
      id: providerTaskId,
      status: "processing",
      model: "nano-banana-2",
    });
    expect(progress.status).toBe(200);
    expect((await findTask(stack.db.db, taskId))?.status).toBe("running");
    const failed = await post(taskId, {
      id: providerTaskId,
      status: "failed",
      model: "nano-banana-2",
      error: { code: "upstream_error", message: "Image generation failed" },
    });
    expect(failed.status).toBe(200);
    const task = await findTask(stack.db.db, taskId);
    expect(task?.status).toBe("failed");
    const kinds = (
      await stack.db.db.select().from(ledgerEntries).where(eq(ledgerEntries.taskId, taskId))
    ).map((e) => e.kind);
    expect(kinds.sort()).toEqual(["hold", "release"]);
  });

  it("keeps the ledger invariants", async () => {
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });
});

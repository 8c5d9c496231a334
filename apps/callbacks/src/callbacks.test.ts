import {
  acceptAttempt,
  callbackToken,
  createTask,
  endAttempt,
  endTask,
  findTask,
} from "@ripen/core";
import { ledgerEntries, providerCallbacks, taskAttempts } from "@ripen/db";
import { getModel } from "@ripen/models";
import {
  completedCallbackBody,
  createRunningTask,
  ledgerViolations,
  openTestAttempt,
  startTestStack,
  TEST_CALLBACK_SECRET,
  type TestStack,
} from "@ripen/testkit";
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let accountId: string;

// No worker: these tests play the provider themselves, posting callbacks over HTTP.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ accountId } = await stack.createAccount(1_000));
});
afterAll(() => stack?.close());

const open = (taskId: string) => openTestAttempt(stack.db.db, taskId);
const runningTask = () => createRunningTask(stack.db.db, accountId);

const attemptsOf = (taskId: string) =>
  stack.db.db
    .select()
    .from(taskAttempts)
    .where(eq(taskAttempts.taskId, taskId))
    .orderBy(asc(taskAttempts.number));

const completedBody = completedCallbackBody;

function post(
  taskId: string,
  body: unknown,
  token = callbackToken(TEST_CALLBACK_SECRET, taskId, 1),
  provider = "aivideoapi",
) {
  return fetch(`${stack.callbacksUrl}/callbacks/${provider}/${taskId}/${token}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body),
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
    expect(stored.map((s) => [s.body.toString("utf8"), s.outcome, s.attemptNumber])).toEqual([
      [raw, "applied", 1],
    ]);
    const [attempt] = await attemptsOf(taskId);
    expect(attempt).toMatchObject({ state: "succeeded", upstreamCost: 16 });
    expect(attempt?.result).toEqual({
      status: "succeeded",
      urls: ["https://files.example/abc.png"],
    });
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

  it("settles one account's callbacks arriving together in groups, each task exactly once", async () => {
    const { accountId: busy } = await stack.createAccount(100_000);
    const running: { taskId: string; providerTaskId: string }[] = [];
    for (let i = 0; i < 120; i++) running.push(await createRunningTask(stack.db.db, busy));
    const before = stack.ender.stats;
    // Every callback twice, all at once: the second of each is a duplicate, whichever group.
    const answers = await Promise.all(
      [...running, ...running].map(({ taskId, providerTaskId }) =>
        post(taskId, completedBody(providerTaskId)).then((res) => res.status),
      ),
    );
    expect(answers.every((status) => status === 200)).toBe(true);
    for (const { taskId } of running) {
      expect((await findTask(stack.db.db, taskId))?.status).toBe("succeeded");
      expect(await capturesOf(taskId)).toBe(1);
      const recorded = await stack.db.db
        .select({ outcome: providerCallbacks.outcome })
        .from(providerCallbacks)
        .where(eq(providerCallbacks.taskId, taskId));
      expect(recorded.map((row) => row.outcome).sort()).toEqual(["applied", "duplicate"]);
    }
    expect(stack.ender.stats.batches).toBeGreaterThan(before.batches);
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });

  it("a callback racing the poller: the first wins, the second changes nothing", async () => {
    const { taskId, providerTaskId } = await runningTask();
    const [viaPoll, viaCallback] = await Promise.all([
      endTask(stack.db.db, {
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
    const forged = callbackToken("some-other-secret-0123456789", taskId, 1);
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
      callbackToken(TEST_CALLBACK_SECRET, a.taskId, 1),
    );
    expect(res.status).toBe(401);
  });

  it("answers 404 for an attempt the task never opened", async () => {
    const { taskId, providerTaskId } = await runningTask();
    const res = await post(
      taskId,
      completedBody(providerTaskId),
      callbackToken(TEST_CALLBACK_SECRET, taskId, 2),
    );
    expect(res.status).toBe(404);
    expect((await findTask(stack.db.db, taskId))?.status).toBe("running");
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

  it("stores any body byte for byte and answers 400 for text Postgres cannot hold", async () => {
    const { taskId, providerTaskId } = await runningTask();
    const valid = JSON.stringify(completedBody(providerTaskId));
    const bodies = [
      Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x7d]),
      valid.replace('"model":"nano-banana-2"', String.raw`"model":"nano\u0000banana"`),
      valid.replace("abc.png", String.raw`\ud800.png`),
      valid.replace('"costTime"', String.raw`"cost\udc00"`),
    ];
    expect(new Set(bodies.map(String)).size).toBe(4);
    for (const body of bodies) {
      const res = await post(taskId, body);
      expect(res.status).toBe(400);
    }
    expect((await findTask(stack.db.db, taskId))?.status).toBe("running");
    const stored = await stack.db.db
      .select()
      .from(providerCallbacks)
      .where(eq(providerCallbacks.taskId, taskId))
      .orderBy(asc(providerCallbacks.id));
    expect(stored[0]?.body).toEqual(bodies[0]);
    expect(stored.map((s) => s.outcome)).toEqual(["invalid", "invalid", "invalid", "invalid"]);
  });

  it("answers 400, not 500, for a path with broken percent-encoding", async () => {
    const res = await fetch(`${stack.callbacksUrl}/callbacks/aivideoapi/%E0%A4%A/x`, {
      method: "POST",
      body: "{}",
    });
    expect(res.status).toBe(400);
  });

  it("settles the task from a callback for an attempt whose accept was never recorded", async () => {
    // The worker sent attempt 1 and died before writing the upstream's answer.
    const task = await createTask(stack.db.db, {
      accountId,
      model: getModel("nano-banana-2"),
      input: { prompt: "crash after send" },
    });
    await open(task.id);
    const res = await post(task.id, completedBody("upstream-recovered"));
    expect(await res.json()).toMatchObject({ outcome: "applied" });
    expect(await findTask(stack.db.db, task.id)).toMatchObject({
      status: "succeeded",
      providerTaskId: "upstream-recovered",
    });
    expect(await attemptsOf(task.id)).toMatchObject([
      { number: 1, state: "succeeded", providerTaskId: "upstream-recovered" },
    ]);
    expect(await capturesOf(task.id)).toBe(1);
  });

  it("records a superseded attempt's late result on that attempt and leaves the task alone", async () => {
    const { taskId, providerTaskId } = await runningTask();
    // The upstream lost attempt 1, so attempt 2 was submitted and is running.
    const [first] = await attemptsOf(taskId);
    await endAttempt(stack.db.db, {
      attemptId: first!.id,
      state: "lost",
      from: ["accepted"],
      now: new Date(),
    });
    const second = await open(taskId);
    await acceptAttempt(stack.db.db, {
      attempt: second!,
      providerTaskId: `${providerTaskId}-2`,
      now: new Date(),
    });

    const late = await post(taskId, completedBody(providerTaskId));
    expect(late.status).toBe(200);
    expect(await late.json()).toMatchObject({ outcome: "late" });
    expect(await findTask(stack.db.db, taskId)).toMatchObject({
      status: "running",
      attempts: 2,
      providerTaskId: `${providerTaskId}-2`,
    });
    expect(await capturesOf(taskId)).toBe(0);
    const [lateAttempt] = await attemptsOf(taskId);
    expect(lateAttempt).toMatchObject({ state: "lost", result: { status: "succeeded" } });

    const current = await post(
      taskId,
      completedBody(`${providerTaskId}-2`),
      callbackToken(TEST_CALLBACK_SECRET, taskId, 2),
    );
    expect(await current.json()).toMatchObject({ outcome: "applied" });
    expect(await capturesOf(taskId)).toBe(1);
    const outcomes = await stack.db.db
      .select({ n: providerCallbacks.attemptNumber, outcome: providerCallbacks.outcome })
      .from(providerCallbacks)
      .where(and(eq(providerCallbacks.taskId, taskId)))
      .orderBy(asc(providerCallbacks.id));
    expect(outcomes).toEqual([
      { n: 1, outcome: "late" },
      { n: 2, outcome: "applied" },
    ]);
  });

  it("rejects a callback for another upstream task", async () => {
    const { taskId } = await runningTask();
    const res = await post(taskId, completedBody("upstream-someone-else"));
    expect(res.status).toBe(400);
    expect((await findTask(stack.db.db, taskId))?.status).toBe("running");
  });

  it("ends the attempt, not the task, on a failed callback; ignores progress callbacks", async () => {
    const { taskId, providerTaskId } = await runningTask();
    const progress = await post(taskId, {
      id: providerTaskId,
      status: "processing",
      model: "nano-banana-2",
    });
    expect(progress.status).toBe(200);
    expect((await findTask(stack.db.db, taskId))?.status).toBe("running");
    const failedBody = {
      id: providerTaskId,
      status: "failed",
      model: "nano-banana-2",
      error: { code: "upstream_error", message: "Image generation failed" },
    };
    const failed = await post(taskId, failedBody);
    expect(failed.status).toBe(200);
    expect(await failed.json()).toMatchObject({ outcome: "applied" });
    // The upstream refunds its failure; another provider gets the task, which keeps its hold.
    expect((await findTask(stack.db.db, taskId))?.status).toBe("running");
    const [attempt] = await stack.db.db
      .select()
      .from(taskAttempts)
      .where(eq(taskAttempts.taskId, taskId));
    expect(attempt).toMatchObject({
      state: "failed",
      failureKind: "failover",
      errorCode: "upstream_error",
      upstreamCost: 0,
    });
    const kinds = (
      await stack.db.db.select().from(ledgerEntries).where(eq(ledgerEntries.taskId, taskId))
    ).map((e) => e.kind);
    expect(kinds).toEqual(["hold"]);
    // Its job was woken to open the next attempt.
    expect(await stack.taskQueue.queue.getJob(taskId)).toBeDefined();
    expect(await (await post(taskId, failedBody)).json()).toMatchObject({ outcome: "duplicate" });
  });

  it("keeps the ledger invariants", async () => {
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });
});

/**
 * The per-account limit of active tasks (interactive tasks not yet ended), enforced by the
 * statement that writes the hold: concurrent creates never take an account past it, and every
 * ending frees its slot exactly once.
 */
import { accounts, activeTaskStatuses, tasks } from "@ripen/db";
import { getModel } from "@ripen/models";
import { createTestDatabase, ledgerViolations, type TestDatabase } from "@ripen/testkit";
import { and, count, eq, inArray, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "./accounts";
import { createBatch } from "./batch-create";
import { ActiveTaskLimitExceeded, InsufficientCredits } from "./errors";
import { createTask } from "./task-create";
import { canceledOutcome, endTask, expiredOutcome } from "./task-ending";
import { transitionTask } from "./task-machine";
import { createTaskWriter } from "./task-writer";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const model = getModel("nano-banana-2");
const PRICE = 16;

/** An account with this many credits that may run `maxActiveTasks` tasks at once (null: any). */
async function accountWith(maxActiveTasks: number | null, credits = 1_000_000) {
  const { accountId } = await createAccount(db.db, { name: "runner", credits });
  await db.db.update(accounts).set({ maxActiveTasks }).where(eq(accounts.id, accountId));
  return accountId;
}

const create = (accountId: string) =>
  createTask(db.db, { accountId, model, input: { prompt: "x" } });

const refusalOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a refusal");
    },
    (error: unknown) => error,
  );

async function activeTasksOf(accountId: string): Promise<number> {
  const [row] = await db.db
    .select({ activeTasks: accounts.activeTasks })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  return row!.activeTasks;
}

async function tasksNotEnded(accountId: string): Promise<number> {
  const [row] = await db.db
    .select({ n: count() })
    .from(tasks)
    .where(
      and(
        eq(tasks.accountId, accountId),
        inArray(tasks.status, [...activeTaskStatuses]),
        isNull(tasks.batchId),
      ),
    );
  return row!.n;
}

describe("an account's active-task limit", () => {
  it("200 creates racing through two writers start exactly the limit, the rest refused", async () => {
    const accountId = await accountWith(5);
    // Two writers stand for two API processes.
    const writers = [createTaskWriter(db.db), createTaskWriter(db.db)];
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        writers[i % 2]!.create({ accountId, model, input: { prompt: `p${i}` } }).then(
          () => "started",
          (error: unknown) => error,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === "started")).toHaveLength(5);
    for (const refusal of outcomes.filter((o) => o !== "started")) {
      expect(refusal).toBeInstanceOf(ActiveTaskLimitExceeded);
      expect(refusal).toMatchObject({ limit: 5, code: "active_task_limit_exceeded" });
    }
    expect(await tasksNotEnded(accountId)).toBe(5);
    expect(await activeTasksOf(accountId)).toBe(5);
    expect(await ledgerViolations(db.db)).toEqual([]);
  });

  it("frees a slot at every ending, once, whatever the ending", async () => {
    const accountId = await accountWith(4);
    const running = [];
    for (let i = 0; i < 4; i++) running.push(await create(accountId));
    expect(await refusalOf(create(accountId))).toBeInstanceOf(ActiveTaskLimitExceeded);

    const [succeeded, failed, canceled, expired] = running;
    await transitionTask(db.db, { taskId: succeeded!.id, to: "submitting", source: "test" });
    const endings = [
      {
        taskId: succeeded!.id,
        outcome: { status: "succeeded" as const, output: { urls: [], metadata: {} } },
      },
      {
        taskId: failed!.id,
        outcome: { status: "failed" as const, errorCode: "x", errorMessage: "x" },
      },
      { taskId: canceled!.id, outcome: canceledOutcome() },
      { taskId: expired!.id, outcome: expiredOutcome() },
    ];
    for (const [i, ending] of endings.entries()) {
      await endTask(db.db, { ...ending, source: "test" });
      expect(await activeTasksOf(accountId)).toBe(3 - i);
      // A second ending of the same task frees nothing more.
      await endTask(db.db, { ...ending, source: "test" });
      expect(await activeTasksOf(accountId)).toBe(3 - i);
    }
    for (let i = 0; i < 4; i++) await create(accountId);
    expect(await refusalOf(create(accountId))).toBeInstanceOf(ActiveTaskLimitExceeded);
    expect(await activeTasksOf(accountId)).toBe(4);
  });

  it("a refused create does not refuse its group-mates of other accounts", async () => {
    const [limited, free] = [await accountWith(1), await accountWith(null)];
    const writer = createTaskWriter(db.db);
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        writer
          .create({ accountId: i % 2 ? limited : free, model, input: { prompt: `p${i}` } })
          .then(
            () => `${i % 2 ? "limited" : "free"} ok`,
            (error: unknown) => `${i % 2 ? "limited" : "free"} ${(error as Error).name}`,
          ),
      ),
    );
    const tally = (outcome: string) => outcomes.filter((o) => o === outcome).length;
    expect(tally("free ok")).toBe(50);
    expect(tally("limited ok")).toBe(1);
    expect(tally("limited ActiveTaskLimitExceeded")).toBe(49);
    expect(writer.stats.fallbacks).toBeGreaterThan(0);
    expect(await activeTasksOf(free)).toBe(50);
  });

  it("does not count a batch's items, which start even at the limit", async () => {
    const accountId = await accountWith(1);
    await create(accountId);
    const batch = await createBatch(db.db, {
      accountId,
      requests: Array.from({ length: 3 }, () => ({
        model: "nano-banana-2",
        input: { prompt: "b" },
      })),
      resolveModel: getModel,
    });
    expect(await activeTasksOf(accountId)).toBe(1);
    await endTask(db.db, { taskId: batch.taskIds[0]!, outcome: canceledOutcome(), source: "test" });
    expect(await activeTasksOf(accountId)).toBe(1);
    expect(await refusalOf(create(accountId))).toBeInstanceOf(ActiveTaskLimitExceeded);
  });

  it("is told short of credit before the limit matters, and has no limit by default", async () => {
    const poor = await accountWith(10, PRICE);
    await create(poor);
    expect(await refusalOf(create(poor))).toBeInstanceOf(InsufficientCredits);
    expect(await activeTasksOf(poor)).toBe(1);
    const { accountId } = await createAccount(db.db, { name: "default", credits: 100 * PRICE });
    await Promise.all(Array.from({ length: 100 }, () => create(accountId)));
    expect(await activeTasksOf(accountId)).toBe(100);
    expect(await ledgerViolations(db.db)).toEqual([]);
  });
});

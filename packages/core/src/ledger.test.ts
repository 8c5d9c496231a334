import { accounts, ledgerEntries, tasks } from "@ripen/db";
import { getModel } from "@ripen/models";
import { createTestDatabase, ledgerViolations, type TestDatabase } from "@ripen/testkit";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "./accounts";
import { IllegalTransition } from "./errors";
import { newId } from "./ids";
import { resolveHold } from "./ledger";
import { createTask } from "./task-create";
import { endTask } from "./task-ending/end-task";
import { sourcesOf, transitionTask } from "./task-machine";

let db: TestDatabase;
let accountId: string;
beforeAll(async () => {
  db = await createTestDatabase();
  ({ accountId } = await createAccount(db.db, { name: "ledger", credits: 1_000 }));
});
afterAll(() => db?.drop());

const newTask = () =>
  createTask(db.db, { accountId, model: getModel("nano-banana-2"), input: { prompt: "x" } });

/** The Postgres error a statement fails with (drizzle wraps the driver's error). */
async function refusal(
  statement: Promise<unknown>,
): Promise<{ code?: string; constraint?: string }> {
  const error = await statement.then(
    () => null,
    (e: { cause?: object }) => e.cause ?? e,
  );
  expect(error).not.toBeNull();
  return error as { code?: string; constraint?: string };
}

const resolution = (values: Partial<typeof ledgerEntries.$inferInsert>) =>
  db.db.insert(ledgerEntries).values({
    id: newId("ledger"),
    accountId,
    kind: "capture",
    amount: 16,
    idempotencyKey: `forged:${newId("ledger")}`,
    ...values,
  });

describe("the ledger, enforced by the database", () => {
  it("refuses a capture or release that names no hold", async () => {
    const task = await newTask();
    const error = await refusal(resolution({ taskId: task.id }));
    expect(error.constraint).toBe("ledger_entries_resolution_names_hold");
  });

  it("refuses a resolution of another amount, another account, or of something not a hold", async () => {
    const task = await newTask();
    const [hold] = await db.db
      .select()
      .from(ledgerEntries)
      .where(eq(ledgerEntries.idempotencyKey, `hold:${task.id}`));
    const wrongAmount = await refusal(resolution({ taskId: task.id, holdId: hold!.id, amount: 1 }));
    expect(wrongAmount.constraint).toBe("ledger_entries_resolves_hold");

    const other = await createAccount(db.db, { name: "other", credits: 100 });
    const wrongAccount = await refusal(
      resolution({ accountId: other.accountId, taskId: task.id, holdId: hold!.id }),
    );
    expect(wrongAccount.constraint).toBe("ledger_entries_resolves_hold");

    const [grant] = await db.db
      .select()
      .from(ledgerEntries)
      .where(sql`${ledgerEntries.accountId} = ${accountId} and ${ledgerEntries.kind} = 'grant'`);
    const notAHold = await refusal(
      resolution({ kind: "release", amount: grant!.amount, holdId: grant!.id }),
    );
    expect(notAHold.constraint).toBe("ledger_entries_resolves_hold");
  });

  it("refuses a second resolution of one hold, whatever its key", async () => {
    const task = await newTask();
    expect(await resolveHold(db.db, { taskId: task.id, kind: "release" })).toBe(true);
    await db.db.update(tasks).set({ status: "failed" }).where(eq(tasks.id, task.id));
    const [hold] = await db.db
      .select()
      .from(ledgerEntries)
      .where(eq(ledgerEntries.idempotencyKey, `hold:${task.id}`));
    const twice = await refusal(resolution({ taskId: task.id, holdId: hold!.id }));
    expect(twice.constraint).toBe("ledger_entries_hold_resolved_once");
    expect(await resolveHold(db.db, { taskId: task.id, kind: "capture" })).toBe(false);
  });

  it("resolves nothing for a task without a hold, and always uses the hold's own amount", async () => {
    expect(
      await resolveHold(db.db, { taskId: "task_01nosuchtask00000000000000", kind: "capture" }),
    ).toBe(false);
    const task = await newTask();
    const before = (await db.db.select().from(accounts).where(eq(accounts.id, accountId)))[0]!;
    expect(await resolveHold(db.db, { taskId: task.id, kind: "capture" })).toBe(true);
    const after = (await db.db.select().from(accounts).where(eq(accounts.id, accountId)))[0]!;
    expect(before.balance - after.balance).toBe(16);
    expect(before.held - after.held).toBe(16);
    // Settle the task's row too, so the invariants below describe a consistent history.
    await db.db.update(tasks).set({ status: "succeeded" }).where(eq(tasks.id, task.id));
  });
});

describe("the task state machine", () => {
  it("declares where each status may go, and nothing leaves an ending", () => {
    expect(sourcesOf("running")).toEqual(["submitting"]);
    expect(sourcesOf("queued")).toEqual([]);
    for (const ended of ["succeeded", "failed", "canceled", "expired"] as const) {
      expect(sourcesOf("submitting")).not.toContain(ended);
    }
  });

  it("refuses an undeclared transition before touching the database", async () => {
    const task = await newTask();
    await expect(
      transitionTask(db.db, { taskId: task.id, from: ["queued"], to: "running", source: "test" }),
    ).rejects.toBeInstanceOf(IllegalTransition);
    await expect(
      transitionTask(db.db, { taskId: task.id, from: ["succeeded"], to: "failed", source: "test" }),
    ).rejects.toBeInstanceOf(IllegalTransition);
    await expect(
      transitionTask(db.db, { taskId: task.id, to: "queued", source: "test" }),
    ).rejects.toBeInstanceOf(IllegalTransition);
    expect((await db.db.select().from(tasks).where(eq(tasks.id, task.id)))[0]?.status).toBe(
      "queued",
    );
  });

  it("ends a task once: a second ending changes nothing", async () => {
    const task = await newTask();
    const failed = { status: "failed" as const, errorCode: "x", errorMessage: "x" };
    expect(
      (await endTask(db.db, { taskId: task.id, outcome: failed, source: "test" })).applied,
    ).toBe(true);
    const again = await endTask(db.db, {
      taskId: task.id,
      outcome: { status: "succeeded", output: { urls: [], metadata: {} } },
      source: "test",
    });
    expect(again.applied).toBe(false);
    expect(again.task?.status).toBe("failed");
    expect(await ledgerViolations(db.db)).toEqual([]);
  });
});

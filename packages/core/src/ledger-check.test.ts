import { accounts, apiKeySpend, tasks } from "@ripen/db";
import { getModel } from "@ripen/models";
import { createTestDatabase, type TestDatabase } from "@ripen/testkit";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "./accounts";
import { newId } from "./ids";
import { adjustCredits, resolveHold } from "./ledger";
import { checkLedger, ledgerRules } from "./ledger-check";
import { createTask } from "./task-create";
import { endTask } from "./task-ending/end-task";
import { transitionTask } from "./task-machine";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
// This file breaks the ledger on purpose.
afterAll(() => db?.drop({ expectDrift: true }));

const model = getModel("nano-banana-2");
const newTask = (accountId: string) =>
  createTask(db.db, { accountId, model, input: { prompt: "x" } });
const failed = { status: "failed" as const, errorCode: "x", errorMessage: "x" };
const succeeded = { status: "succeeded" as const, output: { urls: [], metadata: {} } };

describe("checkLedger", () => {
  it("finds a history written by the ledger's own operations clean, and counts it", async () => {
    const { accountId } = await createAccount(db.db, { name: "clean", credits: 1_000 });
    const [a, b] = [await newTask(accountId), await newTask(accountId)];
    await newTask(accountId); // still queued: its hold stays open
    await transitionTask(db.db, { taskId: a.id, to: "submitting", source: "worker" });
    await endTask(db.db, { taskId: a.id, outcome: succeeded, source: "test" });
    await endTask(db.db, { taskId: b.id, outcome: failed, source: "test" });
    await adjustCredits(db.db, { accountId, amount: 5, reason: "goodwill" });
    await adjustCredits(db.db, { accountId, amount: -3, reason: "correction" });

    const check = await checkLedger(db.db);
    expect(check.drift).toEqual([]);
    expect(check.accounts).toBe(1);
    // grant, 3 holds, a capture, a release, 2 adjustments
    expect(check.entries).toBe(8);
  });

  it("reports each drift with the ids involved", async () => {
    const { accountId, keyId } = await createAccount(db.db, { name: "drifted", credits: 1_000 });
    const endedUnresolved = await newTask(accountId);
    const succeededReleased = await newTask(accountId);
    const queuedResolved = await newTask(accountId);
    // A task's status changed behind the ledger's back, and holds resolved against the outcome.
    await db.db.update(tasks).set({ status: "failed" }).where(eq(tasks.id, endedUnresolved.id));
    await resolveHold(db.db, { taskId: succeededReleased.id, kind: "release" });
    await db.db
      .update(tasks)
      .set({ status: "succeeded" })
      .where(eq(tasks.id, succeededReleased.id));
    await resolveHold(db.db, { taskId: queuedResolved.id, kind: "capture" });
    // A task written without its hold.
    const holdless = newId("task");
    await db.db.insert(tasks).values({
      id: holdless,
      accountId,
      model: model.id,
      input: {},
      price: 16,
      deadlineAt: new Date(Date.now() + 60_000),
    });
    // Counters edited by hand.
    await db.db
      .update(accounts)
      .set({
        balance: sql`${accounts.balance} + 7`,
        held: sql`${accounts.held} + 1`,
        activeTasks: 9,
      })
      .where(eq(accounts.id, accountId));
    await db.db
      .insert(apiKeySpend)
      .values({ keyId, period: "total", windowStart: new Date(0), spent: 50, cap: 100 });

    const { drift } = await checkLedger(db.db);
    // Only this account's: the first test's account is checked there.
    const mine = drift.filter((d) => d.row.account_id === accountId || d.row.key_id === keyId);
    const of = (rule: string) => mine.filter((d) => d.rule === rule).map((d) => d.row);
    const [account] = await db.db.select().from(accounts).where(eq(accounts.id, accountId));

    expect(of(ledgerRules.balance)).toEqual([
      { account_id: accountId, balance: account!.balance, expected_balance: account!.balance - 7 },
    ]);
    expect(of(ledgerRules.held)).toEqual([
      { account_id: accountId, held: account!.held, expected_held: account!.held - 1 },
    ]);
    // Interactive tasks not ended: the hold-less one and the one resolved while queued.
    expect(of(ledgerRules.activeTasks)).toEqual([
      { account_id: accountId, active_tasks: 9, expected_active_tasks: 2 },
    ]);
    expect(of(ledgerRules.resolvedOnce)).toEqual([
      expect.objectContaining({
        task_id: endedUnresolved.id,
        status: "failed",
        holds: 1,
        resolutions: 0,
        entries: [expect.stringMatching(/^hold:led_/)],
      }),
    ]);
    expect(of(ledgerRules.resolutionMatches)).toEqual([
      expect.objectContaining({
        task_id: succeededReleased.id,
        entries: [expect.stringMatching(/^hold:/), expect.stringMatching(/^release:/)],
      }),
    ]);
    expect(of(ledgerRules.notEndedUnresolved)).toEqual([
      expect.objectContaining({ task_id: queuedResolved.id, status: "queued", resolutions: 1 }),
    ]);
    expect(of(ledgerRules.oneHold)).toEqual([
      expect.objectContaining({ task_id: holdless, holds: 0, entries: [] }),
    ]);
    expect(of(ledgerRules.keySpend)).toEqual([
      expect.objectContaining({ key_id: keyId, period: "total", spent: 50, expected_spent: 0 }),
    ]);
    expect(mine).toHaveLength(8);
  });
});

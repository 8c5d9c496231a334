import { createAccount, createTask, endTask, transitionTask } from "@ripen/core";
import { accounts } from "@ripen/db";
import { getModel } from "@ripen/models";
import { createTestDatabase, type TestDatabase } from "@ripen/testkit";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./cli-helpers";

let db: TestDatabase;
let accountId: string;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  env = { DATABASE_URL: db.url };
  ({ accountId } = await createAccount(db.db, { name: "cli", credits: 100 }));
  const task = await createTask(db.db, {
    accountId,
    model: getModel("nano-banana-2"),
    input: { prompt: "x" },
  });
  await transitionTask(db.db, { taskId: task.id, to: "submitting", source: "worker" });
  await endTask(db.db, {
    taskId: task.id,
    outcome: { status: "succeeded", output: { urls: [], metadata: {} } },
    source: "poll",
  });
});
// The last test breaks the ledger on purpose.
afterAll(() => db?.drop({ expectDrift: true }));

describe("ripen ledger check", () => {
  it("prints the totals and no drift, exit 0", async () => {
    const run = await runCli(["ledger", "check"], env);
    expect(run.stdout.trim()).toBe("ledger check: 1 accounts, 3 entries, 0 drift");
    expect(run.code).toBe(0);
  });

  it("prints each drift with its row, exit 1", async () => {
    await db.db
      .update(accounts)
      .set({ balance: sql`${accounts.balance} + 5` })
      .where(eq(accounts.id, accountId));
    const run = await runCli(["ledger", "check"], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("ledger check: 1 accounts, 3 entries, 1 drift");
    expect(run.stdout).toContain(
      `balance = grants − captures + adjustments: {"account_id":"${accountId}","balance":89,"expected_balance":84}`,
    );
    const json = await runCli(["ledger", "check", "--json"], env);
    expect(JSON.parse(json.stdout).drift).toHaveLength(1);
  });
});

describe("ripen usage", () => {
  it("reports tasks, charges, upstream cost and margin per group", async () => {
    const run = await runCli(["usage", "--group-by", "account,model", "--json"], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([
      {
        accountId,
        model: "nano-banana-2",
        tasks: 1,
        chargedCredits: 16,
        chargedUsd: 0.08,
        upstreamUsd: 0,
        marginUsd: 0.08,
      },
    ]);
    const csv = await runCli(["usage", "--group-by", "model", "--csv"], env);
    expect(csv.stdout.split("\n")[0]).toBe(
      "model,tasks,chargedCredits,chargedUsd,upstreamUsd,marginUsd",
    );
  });

  it("refuses an unknown group", async () => {
    const run = await runCli(["usage", "--group-by", "planet"], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("--group-by takes");
  });
});

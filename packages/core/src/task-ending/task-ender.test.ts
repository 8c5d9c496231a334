import { accounts } from "@ripen/db";
import { getModel } from "@ripen/models";
import {
  createRunningTask,
  createTestDatabase,
  openTestAttempt,
  type TestDatabase,
} from "@ripen/testkit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "../accounts";
import { acceptAttempt } from "../attempts";
import { createBatch } from "../batch-create";
import type { TaskOutcome } from "./outcomes";
import { createTaskEnder } from "./task-ender";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const silent = { info() {}, warn() {}, error() {} };
const succeeded: TaskOutcome = {
  status: "succeeded",
  output: { urls: ["https://files.example/a.png"], metadata: {} },
};

describe("the task ender's lanes", () => {
  it("ends an interactive task while a batch item's ending is held up", async () => {
    const owner = await createAccount(db.db, { name: "batch owner", credits: 1_000 });
    const { taskIds } = await createBatch(db.db, {
      accountId: owner.accountId,
      requests: [{ model: "nano-banana-2", input: { prompt: "a batch item" } }],
      resolveModel: getModel,
    });
    const item = taskIds[0]!;
    const attempt = await openTestAttempt(db.db, item);
    await acceptAttempt(db.db, { attempt, providerTaskId: `up-${item}`, now: new Date() });
    const client = await createAccount(db.db, { name: "interactive", credits: 1_000 });
    const interactive = await createRunningTask(db.db, client.accountId);
    const ender = createTaskEnder({ logger: silent });

    // The batch owner's account row is locked elsewhere, as a long transaction of that account
    // would: the batch item's ending cannot commit until it is released.
    const holder = await db.pool.connect();
    let batchEnding: Promise<unknown> | undefined;
    try {
      await holder.query("begin");
      await holder.query("select id from accounts where id = $1 for update", [owner.accountId]);
      let batchSettled = false;
      batchEnding = ender
        .end(db.db, { taskId: item, outcome: succeeded, source: "callback", batchItem: true })
        .finally(() => {
          batchSettled = true;
        });

      const interactiveEnding = ender.end(db.db, {
        taskId: interactive.taskId,
        outcome: succeeded,
        source: "callback",
      });
      // A bound on the failure only, so the lock is released and the file ends either way.
      let timer: NodeJS.Timeout | undefined;
      const heldUp = new Promise<"held up">((resolve) => {
        timer = setTimeout(() => resolve("held up"), 10_000);
      });
      const first = await Promise.race([interactiveEnding, heldUp]);
      clearTimeout(timer);
      expect(first).not.toBe("held up");
      const ended = await interactiveEnding;
      expect(ended.applied).toBe(true);
      expect(ended.task?.status).toBe("succeeded");
      expect(batchSettled).toBe(false);
    } finally {
      await holder.query("rollback");
      holder.release();
    }
    const batchEnded = (await batchEnding) as Awaited<ReturnType<typeof ender.end>>;
    expect(batchEnded.applied).toBe(true);
    const [row] = await db.db
      .select({ held: accounts.held })
      .from(accounts)
      .where(eq(accounts.id, owner.accountId));
    expect(row?.held).toBe(0);
  }, 20_000);
});

/**
 * The reads every task step starts with, in groups: concurrent reads share statements and each
 * still gets its own task with the right attempt, or null.
 */
import { getModel } from "@ripen/models";
import { createTestDatabase, type TestDatabase } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "./accounts";
import { openAttempt } from "./attempts";
import { createTask } from "./task-create";
import { createTaskReader } from "./task-reader";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

async function tasksWithAttempts(count: number) {
  const { accountId } = await createAccount(db.db, { name: "reader", credits: 100_000 });
  const tasks = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      createTask(db.db, {
        accountId,
        model: getModel("nano-banana-2"),
        input: { prompt: `r${i}` },
      }),
    ),
  );
  // Every other task has an attempt; the rest have none yet.
  const attempts = new Map<string, string>();
  for (const [i, task] of tasks.entries()) {
    if (i % 2 === 1) continue;
    const attempt = await openAttempt(db.db, {
      task: { id: task.id, attempts: 0, status: "queued" },
      provider: "aivideoapi",
      upstreamModel: "nano-banana-2",
      upstreamCost: 1,
      upstreamCostMicros: 1,
      callbackSecret: "s",
      now: new Date(),
    });
    attempts.set(task.id, attempt!.id);
  }
  return { tasks, attempts };
}

describe("task reader", () => {
  it("60 concurrent reads of tasks and their latest attempts: each its own, in shared statements", async () => {
    const { tasks, attempts } = await tasksWithAttempts(60);
    const reader = createTaskReader(db.db);
    const ids = [...tasks.map((t) => t.id), "task_missing"];
    const found = await Promise.all(ids.map((id) => reader.withLatestAttempt(id)));

    expect(found.at(-1)).toBeNull();
    for (const [i, task] of tasks.entries()) {
      expect(found[i]?.task.id).toBe(task.id);
      expect(found[i]?.task.status).toBe(attempts.has(task.id) ? "submitting" : "queued");
      expect(found[i]?.attempt?.id ?? null).toBe(attempts.get(task.id) ?? null);
    }
    expect(reader.stats.batches).toBeGreaterThan(0);
    expect(reader.stats.batches).toBeLessThan(ids.length);
    expect(reader.stats.fallbacks).toBe(0);
  });

  it("concurrent reads of the attempts callbacks name: the named one, or null when the task has none such", async () => {
    const { tasks, attempts } = await tasksWithAttempts(40);
    const reader = createTaskReader(db.db);
    const asked = tasks.flatMap((task) => [
      { taskId: task.id, number: 1 },
      { taskId: task.id, number: 2 },
    ]);
    const found = await Promise.all(asked.map((a) => reader.withAttempt(a.taskId, a.number)));

    for (const [i, { taskId, number }] of asked.entries()) {
      expect(found[i]?.task.id).toBe(taskId);
      const expected = number === 1 ? (attempts.get(taskId) ?? null) : null;
      expect(found[i]?.attempt?.id ?? null).toBe(expected);
    }
    expect(await reader.withAttempt("task_missing", 1)).toBeNull();
    expect(reader.stats.batches).toBeGreaterThan(0);
  });
});

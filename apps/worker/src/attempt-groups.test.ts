import { createAttemptWriter, createTask, findTask } from "@ripen/core";
import { getModel } from "@ripen/models";
import { createProviderHealth } from "@ripen/providers";
import { startTestStack, TEST_CALLBACK_SECRET, type TestStack } from "@ripen/testkit";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitStep } from "./submit-step";
import type { StepDeps } from "./task-step";

let stack: TestStack;
beforeAll(async () => {
  // Generations never finish during the test: every task stays where the submit step left it.
  stack = await startTestStack({ worker: false, sandbox: { generationMs: 600_000 } });
}, 60_000);
afterAll(() => stack?.close());

/** A worker process's step dependencies, with its own attempt writer. */
function workerDeps(): StepDeps {
  return {
    db: stack.db.db,
    providers: stack.providers,
    health: createProviderHealth(stack.redis, stack.prefix),
    clock: stack.clock,
    logger: pino({ level: "silent" }),
    poll: { baseMs: 60_000, maxMs: 600_000 },
    callbackBaseUrl: stack.callbacksUrl,
    callbackSecret: TEST_CALLBACK_SECRET,
    notifier: stack.notifier,
    ender: stack.ender,
    attempts: createAttemptWriter(stack.db.db),
  };
}

describe("attempts opened and accepted in groups", () => {
  it("200 concurrent tasks, half with a second runner in another process: each opened and submitted once", async () => {
    const { accountId } = await stack.createAccount(200 * 16);
    const tasks = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        createTask(stack.db.db, {
          accountId,
          model: getModel("nano-banana-2-lite"),
          input: { prompt: `p${i}` },
        }),
      ),
    );
    const read = await Promise.all(tasks.map((t) => findTask(stack.db.db, t.id)));
    // Two worker processes: the second runs every other task again, as a re-added job would.
    const [first, second] = [workerDeps(), workerDeps()];
    const steps = await Promise.all([
      ...read.map((task) => submitStep(first, task!, null)),
      ...read.filter((_, i) => i % 2 === 0).map((task) => submitStep(second, task!, null)),
    ]);

    // One runner of each task submitted it and scheduled its first poll with the accept.
    const sleeping = steps.filter((step) => !step.done);
    expect(sleeping).toHaveLength(200);
    expect(sleeping.every((step) => !step.done && step.wakeRecorded)).toBe(true);
    expect(stack.sandbox.stats.byProvider.aivideoapi!.submitCalls).toBe(200);

    const ids = tasks.map((t) => t.id);
    const { rows: taskRows } = await stack.db.pool.query(
      `select status, attempts, provider_task_id is not null as has_upstream_id,
         next_wake_at > now() + interval '30 seconds' as waits_for_poll, count(*)::int as n
       from tasks where id = any($1) group by 1, 2, 3, 4`,
      [ids],
    );
    expect(taskRows).toEqual([
      { status: "running", attempts: 1, has_upstream_id: true, waits_for_poll: true, n: 200 },
    ]);
    const { rows: attemptRows } = await stack.db.pool.query(
      `select number, state, count(*)::int as n from task_attempts where task_id = any($1)
       group by 1, 2`,
      [ids],
    );
    expect(attemptRows).toEqual([{ number: 1, state: "accepted", n: 200 }]);
    // One event per transition: created, opened, accepted.
    const { rows: eventRows } = await stack.db.pool.query(
      `select from_status, to_status, source, count(*)::int as n from task_events
       where task_id = any($1) group by 1, 2, 3 order by 4, 1 nulls first`,
      [ids],
    );
    expect(eventRows).toEqual([
      { from_status: null, to_status: "queued", source: "api", n: 200 },
      { from_status: "queued", to_status: "submitting", source: "worker", n: 200 },
      { from_status: "submitting", to_status: "running", source: "worker", n: 200 },
    ]);

    // Written in groups, and no group failed (a deadlock between the processes would show here).
    for (const { attempts } of [first, second]) {
      expect(attempts.stats.open.fallbacks).toBe(0);
      expect(attempts.stats.accept.fallbacks).toBe(0);
    }
    expect(first.attempts.stats.open.batches).toBeGreaterThan(0);
    expect(first.attempts.stats.accept.batches).toBeGreaterThan(0);
  }, 60_000);

  it("two runners of one task in one group: the group is written one by one, and one of them opens", async () => {
    const { accountId } = await stack.createAccount(20 * 16);
    const tasks = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        createTask(stack.db.db, {
          accountId,
          model: getModel("nano-banana-2-lite"),
          input: { prompt: `twice ${i}` },
        }),
      ),
    );
    const read = await Promise.all(tasks.map((t) => findTask(stack.db.db, t.id)));
    const deps = workerDeps();
    const before = stack.sandbox.stats.byProvider.aivideoapi!.submitCalls;
    const steps = await Promise.all(
      read.flatMap((task) => [submitStep(deps, task!, null), submitStep(deps, task!, null)]),
    );
    expect(steps.filter((step) => !step.done)).toHaveLength(20);
    expect(stack.sandbox.stats.byProvider.aivideoapi!.submitCalls - before).toBe(20);
    const { rows } = await stack.db.pool.query(
      "select count(*)::int as n from task_attempts where task_id = any($1)",
      [tasks.map((t) => t.id)],
    );
    expect(rows[0].n).toBe(20);
  }, 60_000);
});

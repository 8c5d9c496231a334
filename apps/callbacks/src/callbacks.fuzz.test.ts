import { Agent } from "node:http";
import { callbackToken, findTask } from "@ripen/core";
import {
  completedCallbackBody,
  createRunningTask,
  fuzzCase,
  ledgerViolations,
  sendFuzzCase,
  startTestStack,
  TEST_CALLBACK_SECRET,
  type TestStack,
} from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** Fixed: a failure names its case index, and the same index reproduces it. */
const SEED = 0xca11_ba6c;
const CASES = 3_300;
const CONCURRENCY = 8;

let stack: TestStack;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(async () => {
  agent.destroy();
  await stack?.close();
});

describe(`${CASES} seeded mutations of a provider callback`, () => {
  // 6 s alone; 21–32 s beside the rest of the suite on two cores, past the default 30 s.
  it("never answer 5xx, and settle the task at most once", { timeout: 120_000 }, async () => {
    const { accountId } = await stack.createAccount(100);
    const { taskId, providerTaskId } = await createRunningTask(stack.db.db, accountId);

    const target = {
      method: "POST",
      path: `/callbacks/aivideoapi/${taskId}/${callbackToken(TEST_CALLBACK_SECRET, taskId, 1)}`,
      body: completedCallbackBody(providerTaskId),
    };
    const statuses: Record<number, number> = {};
    const failures: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < CASES) {
          const mutation = fuzzCase(target, SEED, next++);
          const { status, text } = await sendFuzzCase(stack.callbacksUrl, mutation, agent);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status >= 500)
            failures.push(`#${mutation.index} ${mutation.label}: ${status} ${text.slice(0, 100)}`);
        }
      }),
    );
    expect(failures).toEqual([]);
    expect(
      Object.keys(statuses)
        .map(Number)
        .every((s) => s < 500),
    ).toBe(true);
    expect(["running", "succeeded", "failed"]).toContain(
      (await findTask(stack.db.db, taskId))?.status,
    );
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });
});

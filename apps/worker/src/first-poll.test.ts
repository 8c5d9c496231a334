import { terminalTaskStatuses } from "@ripen/db";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/*
 * Issue 14 counted 2.4 upstream calls per task with callbacks delivered (target ≤ 1.05): every
 * task was polled from 1 s after its accept, while its generation took 2 s and its callback came
 * then. Ripen now learns how long a provider's generations of a model take, from its callbacks,
 * and waits about that long before the first poll.
 */
const GENERATION_MS = 1_500;

let stack: TestStack;
let key: string;

beforeAll(async () => {
  // The production cadence (the test stack's default polls every few ms).
  stack = await startTestStack({
    sandbox: { generationMs: GENERATION_MS },
    poll: { baseMs: 1_000, maxMs: 30_000 },
  });
  ({ apiKey: key } = await stack.createAccount(10_000));
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

// nano-banana-2-lite goes to aivideoapi, which sends callbacks; seedream4 to nanobanana, which
// sends none.
async function runTasks(count: number, model = "nano-banana-2-lite"): Promise<string[]> {
  const ids = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const res = await stack.request("POST", "/v1/images/generations", {
        key,
        body: { model, input: { prompt: `first poll ${i}` } },
      });
      expect(res.status).toBe(200);
      return res.body.data.taskId as string;
    }),
  );
  for (const id of ids) {
    expect(await stack.waitForTask(id, terminalTaskStatuses, 30_000)).toBe("succeeded");
  }
  return ids;
}

const statusCalls = () => stack.sandbox.stats.byProvider.aivideoapi!.statusCalls;

describe("the first poll of a task", () => {
  it("waits for the generation time its provider's callbacks taught, so callbacks win", async () => {
    await runTasks(1);
    const before = statusCalls();
    await runTasks(6);
    expect(statusCalls() - before).toBe(0);
  });

  it("still finds a task whose callback is lost, with its first poll", async () => {
    stack.sandbox.configure({ callbackLossRate: 1 });
    try {
      const before = statusCalls();
      const [id] = await runTasks(1);
      expect(statusCalls() - before).toBe(1);
      // Found after its generation, by a poll planned within 10% + the 1 s base of it (the
      // callbacks taught at least the generation time, plus their delivery).
      const { rows } = await stack.db.pool.query(
        `select extract(epoch from completed_at - submitted_at) * 1000 as ms from tasks where id = $1`,
        [id],
      );
      expect(Number(rows[0].ms)).toBeGreaterThanOrEqual(GENERATION_MS);
    } finally {
      stack.sandbox.configure({ callbackLossRate: 0 });
    }
  });

  it("waits for the generation time a provider's status answers told, where no callback comes", async () => {
    // nanobanana's status says when the generation finished (document 001's completed_at). Its
    // polls count against its 55 requests a minute: a first poll 1 s after the accept found each
    // 1.5 s generation running and took a second poll, three requests a task instead of two.
    const nanobanana = () => stack.sandbox.stats.byProvider.nanobanana!.statusCalls;
    await runTasks(1, "seedream4");
    const before = nanobanana();
    await runTasks(3, "seedream4");
    expect(nanobanana() - before).toBe(3);
  });
});

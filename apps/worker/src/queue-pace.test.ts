import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/*
 * The pace a worker publishes for admission control is tasks handed to a provider per second, not
 * steps: a 20,000-task chaos run's workers took 300 steps a second while tasks started at 90 (a
 * step refused with a 429 re-parks its task and starts nothing), and admission, dividing the
 * queue by steps, admitted a backlog that took minutes to start.
 */

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    worker: false,
    sandbox: { generationMs: 10 },
    workerOptions: { concurrency: 2 },
  });
}, 60_000);
afterAll(() => stack?.close());

const PROVIDERS = ["aivideoapi", "nanobanana", "kie", "revid"];

/** The worker's published pace entries: [tasks a second, whether it had steps waiting]. */
async function publishedPaces(): Promise<[number, boolean][]> {
  const entries = await stack.producerRedis.hgetall(`${stack.prefix}:tasks:load`);
  return Object.values(entries).map((value) => {
    const [pace, , saturated] = value.split(":").map(Number);
    return [pace ?? 0, saturated === 1];
  });
}

/** Resolves once `check` holds of the published paces (the worker publishes every second). */
async function untilPaces(check: (paces: [number, boolean][]) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const paces = await publishedPaces();
    if (check(paces)) return paces;
    if (Date.now() > deadline) throw new Error(`paces never matched: ${JSON.stringify(paces)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("the pace admission control divides by", () => {
  it("counts tasks handed to a provider, not the steps that re-park them", async () => {
    // Every provider refuses every call: steps run (each re-parks its task), no task starts. Each
    // answer takes 30 ms, so the 200 steps keep the worker busy across its once-a-second reads;
    // answered at once, they all ran between two reads, in step with the 1 s Retry-After.
    for (const provider of PROVIDERS) {
      stack.sandbox.setFaults(provider, { rate429: 1, retryAfterSeconds: 1, latencyMs: [30, 30] });
    }
    const { apiKey } = await stack.createAccount(100_000);
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const res = await stack.request("POST", "/v1/images/generations", {
        key: apiKey,
        body: { model: "nano-banana-2", input: { prompt: `refused ${i}` } },
      });
      expect(res.status).toBe(200);
      ids.push(res.body.data.taskId);
    }
    await stack.startWorker();
    // Busy (steps waiting) for seconds, refused every time: its capacity to start tasks is 0.
    const { rows } = await stack.db.pool.query<{ n: number }>(
      "select count(*)::int as n from task_attempts where state = 'rejected'",
    );
    const busy = await untilPaces((paces) => paces.some(([, saturated]) => saturated));
    expect(busy.filter(([, saturated]) => saturated).map(([pace]) => pace)).toEqual([0]);
    const after = await stack.db.pool.query<{ n: number }>(
      "select count(*)::int as n from task_attempts where state = 'rejected'",
    );
    expect(after.rows[0]!.n).toBeGreaterThan(rows[0]!.n);

    // The providers answer again: tasks start, and the pace says so.
    for (const provider of PROVIDERS) stack.sandbox.setFaults(provider, { latencyMs: [30, 30] });
    await untilPaces((paces) => paces.some(([pace, saturated]) => saturated && pace > 0));
    expect(await stack.waitForTask(ids[0]!, ["succeeded"], 30_000)).toBe("succeeded");
  }, 120_000);
});

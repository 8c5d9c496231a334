import { ledgerViolations, publishQueuePace, startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Issue 16's chaos run of 2026-12-06: batch items created in the run's first minute were first
// taken by a worker 146 to 164 s after their create (timeout 180 s), while single creates waited
// 11 to 40 s. Every single create goes ahead of a batch item due later, and admission let them,
// as long as the item would start by 80% of the time it had left *then*: a bound that moves
// toward the deadline as the item waits. 116 items expired, submitted with seconds left or never.

let stack: TestStack;
let apiKey: string;
beforeAll(async () => {
  // No worker takes jobs here: the queue only grows, at the pace a (pretend) worker reports.
  stack = await startTestStack({ worker: false });
  ({ apiKey } = await stack.createAccount(100_000));
}, 60_000);
afterAll(async () => {
  if (stack) expect(await ledgerViolations(stack.db.db)).toEqual([]);
  await stack?.close();
});

describe("admission keeps a batch item's start-by where its create put it", () => {
  it("refuses a single create that would push waiting items past 80% of their own time", async () => {
    await publishQueuePace(stack.producerRedis, stack.prefix, 1);
    const batch = await stack.request("POST", "/v1/batches", {
      key: apiKey,
      body: {
        requests: Array.from({ length: 50 }, (_, i) => ({
          model: "nano-banana-2",
          input: { prompt: `waited 200 s, ${i}` },
          timeout_seconds: 600,
        })),
      },
    });
    expect(batch.status).toBe(200);
    const single = () =>
      stack.request("POST", "/v1/images/generations", {
        key: apiKey,
        body: { model: "nano-banana-2", input: { prompt: "patient" }, timeout_seconds: 600 },
      });
    // 240 patient single creates, each going ahead of the items (due in 300 s, half of their
    // time): at a task a second the items start within some 291 s, well within their 600.
    for (let i = 0; i < 240; i++) expect((await single()).status).toBe(200);

    // The items have now waited 200 s of their 600: still due 100 s from now, behind a single
    // create, and their start-by is 280 s away (480 s into their 600), where 80% of the 400 s
    // they have left would put it 320 s away.
    await stack.db.pool.query(
      `update tasks set created_at = created_at - interval '200 seconds',
         deadline_at = deadline_at - interval '200 seconds' where batch_id = $1`,
      [batch.body.data.id],
    );
    await publishQueuePace(stack.producerRedis, stack.prefix, 1);
    const refused = await single();
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: "capacity_exceeded" });
  });
});

import { createProviderHealth } from "@ripen/providers";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/*
 * A chaos run paid nanobanana for 20 batch items submitted 2 s before their deadlines: no
 * callback, a first poll due after the deadline, so each expired all the same. A generation that
 * cannot be seen finished in time is not paid for.
 */

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  // aivideoapi serves nano-banana-2-lite and sends callbacks; its generations lately took 5 s.
  await createProviderHealth(stack.redis, stack.prefix).generations.record([
    { providerId: "aivideoapi", model: "nano-banana-2-lite", ms: 5_000 },
  ]);
}, 60_000);
afterAll(() => stack?.close());

describe("a task picked up too late to finish", () => {
  it("expires at once without a submit, while one with time left is submitted", async () => {
    const { apiKey } = await stack.createAccount(10_000);
    const create = async (timeoutSeconds: number) => {
      const res = await stack.request("POST", "/v1/images/generations", {
        key: apiKey,
        body: {
          model: "nano-banana-2-lite",
          input: { prompt: `due in ${timeoutSeconds} s` },
          timeout_seconds: timeoutSeconds,
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.data.taskId as string;
    };
    const hurried = await create(10);
    const patient = await create(300);
    // The worker reaches them 7 s later: 3 s left for a 5 s generation.
    stack.clock.advance(7_000);
    await stack.startWorker();

    expect(await stack.waitForTask(hurried, ["expired", "succeeded", "failed"])).toBe("expired");
    expect(await stack.waitForTask(patient, ["expired", "succeeded", "failed"])).toBe("succeeded");
    // Only the patient one was paid for.
    expect(stack.sandbox.stats.submitCalls).toBe(1);
  });
});

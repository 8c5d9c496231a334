import { terminalTaskStatuses } from "@ripen/db";
import { createProviderHealth, defaultProviders, type HealthPolicy } from "@ripen/providers";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterEach, describe, expect, it } from "vitest";

// A chaos run's revid: healthy but for background faults (a few 5xx and failed generations), its
// circuit stayed open for minutes with `failures 6`. Only an accepted submit ended a streak of
// failures; polls of tasks already in flight kept finding failed generations, each of which
// opened the circuit again, and tasks of models only revid serves waited `circuit_open`.

let stack: TestStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

// nano-banana-pro with revid alone: its tasks have nowhere else to go.
const onlyRevid = defaultProviders.filter((p) => p.id === "revid");
const pro = { model: "nano-banana-pro", input: { prompt: "a paper boat" } };
const generationFailed = "Image generation failed, please try again later.";

async function start(health: HealthPolicy, poll?: { callbackGraceMs: number }) {
  stack = await startTestStack({
    providers: onlyRevid,
    health,
    poll: { baseMs: 20, maxMs: 200, ...poll },
  });
  const { apiKey } = await stack.createAccount(10_000);
  // What other worker processes record, on a connection of their own.
  const others = createProviderHealth(stack.producerRedis, stack.prefix, health);
  const failuresOf = async () => (await others.states(["revid"])).get("revid")!.failures;
  const create = async (s: TestStack) => {
    const res = await s.request("POST", "/v1/images/generations", { key: apiKey, body: pro });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data.taskId as string;
  };
  return { stack, others, failuresOf, create: () => create(stack!) };
}

describe("a provider's failures in a row", () => {
  it("end when a poll finds one of its generations succeeded", async () => {
    const { stack, others, failuresOf, create } = await start({
      failureThreshold: 3,
      openMs: 60_000,
      refusedOpenMs: 60_000,
    });
    // Its callbacks lost: polls find how its generations end.
    stack.sandbox.setFaults("revid", { generationMs: 1_500, callbackLossRate: 1 });
    const taskId = await create();
    await stack.waitForTask(taskId, ["running"], 10_000);
    // While it runs, other workers' polls find two of revid's generations failed.
    for (let i = 0; i < 2; i++) await others.recordFailure("revid", "retry", generationFailed);

    expect(await stack.waitForTask(taskId, terminalTaskStatuses, 10_000)).toBe("succeeded");
    // This one succeeded: the streak is over, and one more failure is not the third in a row.
    await expect.poll(failuresOf, { timeout: 2_000 }).toBe(0);
    expect(await others.recordFailure("revid", "retry", generationFailed)).toBe(0);
  });

  it("end when a callback says one of its generations succeeded", async () => {
    // The first poll long after the generation: the callback decides.
    const { stack, others, failuresOf, create } = await start(
      { failureThreshold: 3, openMs: 60_000, refusedOpenMs: 60_000 },
      { callbackGraceMs: 10_000 },
    );
    stack.sandbox.setFaults("revid", { generationMs: 1_500 });
    const taskId = await create();
    await stack.waitForTask(taskId, ["running"], 10_000);
    for (let i = 0; i < 2; i++) await others.recordFailure("revid", "retry", generationFailed);

    expect(await stack.waitForTask(taskId, terminalTaskStatuses, 10_000)).toBe("succeeded");
    const { rows } = await stack.db.pool.query(
      "select outcome from provider_callbacks where provider = 'revid'",
    );
    expect(rows).toEqual([{ outcome: "applied" }]);
    await expect.poll(failuresOf, { timeout: 2_000 }).toBe(0);
    expect(await others.recordFailure("revid", "retry", generationFailed)).toBe(0);
  });
});

describe("a circuit opened by failures", () => {
  it("lets a new call through after its open period, though older generations keep failing", async () => {
    const { stack, others, failuresOf, create } = await start({
      failureThreshold: 2,
      openMs: 1_000,
      refusedOpenMs: 60_000,
    });
    // Three tasks submitted before the circuit opens, whose generations will fail.
    stack.sandbox.setFaults("revid", {
      generationMs: 800,
      failureRate: 1,
      callbackLossRate: 1,
    });
    const old = await Promise.all([create(), create(), create()]);
    for (const id of old) await stack.waitForTask(id, ["running"], 10_000);
    // From here on revid is healthy.
    stack.sandbox.setFaults("revid", { generationMs: 50, callbackLossRate: 1 });
    // Two submits (of other workers) answered 5xx: the circuit opens for a second.
    await others.recordFailure("revid", "retry", "upstream 503");
    expect(await others.recordFailure("revid", "retry", "upstream 503")).toBe(1_000);
    const openedAt = Date.now();

    // Polls of the older tasks find their generations failed, during the open period or after.
    await expect
      .poll(
        async () =>
          (
            await stack.db.pool.query(
              "select count(*)::int as n from task_attempts where state = 'failed'",
            )
          ).rows[0].n,
        { timeout: 10_000, interval: 20 },
      )
      .toBe(3);
    const sinceOpened = Date.now() - openedAt;
    if (sinceOpened < 1_100) await new Promise((r) => setTimeout(r, 1_100 - sinceOpened));
    // Failures of calls made before it opened say nothing of now: its open period is over, and
    // the next call may go (half-open) rather than waiting another period.
    expect((await others.states(["revid"])).get("revid")!.openForMs).toBe(0);

    // The older tasks go back to revid and complete, as does a new one; revid is closed.
    const fresh = await create();
    for (const id of [...old, fresh]) {
      expect(await stack.waitForTask(id, terminalTaskStatuses, 10_000)).toBe("succeeded");
    }
    await expect.poll(failuresOf, { timeout: 2_000 }).toBe(0);
  });
});

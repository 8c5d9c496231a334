import { marginByProvider } from "@ripen/core";
import { terminalTaskStatuses } from "@ripen/db";
import { createProviderHealth, defaultProviders, type ProviderDeclaration } from "@ripen/providers";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterEach, describe, expect, it } from "vitest";

let stack: TestStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function start(options: Parameters<typeof startTestStack>[0] = {}) {
  stack = await startTestStack({ sandbox: { generationMs: 30 }, ...options });
  const { apiKey } = await stack.createAccount(10_000);
  return { stack, key: apiKey };
}

interface HistoryAttempt {
  number: number;
  provider: string;
  state: string;
  failure_kind: string | null;
  error: { code: string | null; message: string | null } | null;
  started_at: number;
  ended_at: number | null;
}

async function createAndFinish(
  s: TestStack,
  key: string,
  body: { model: string; input: Record<string, unknown> },
) {
  const res = await s.request("POST", "/v1/images/generations", { key, body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const taskId = res.body.data.taskId as string;
  const status = await s.waitForTask(taskId, terminalTaskStatuses, 20_000);
  const task = (await s.request("GET", `/v1/tasks/${taskId}`, { key })).body;
  const history = (await s.request("GET", `/v1/tasks/${taskId}/history`, { key })).body;
  return { taskId, status, task, attempts: history.attempts as HistoryAttempt[] };
}

const nanoBanana2 = { model: "nano-banana-2", input: { prompt: "a red bicycle" } };

describe("failover", () => {
  it("moves on to another provider when the first answers every submit with a 503", async () => {
    const { stack, key } = await start();
    stack.sandbox.setFaults("aivideoapi", { submitFailureRate: 1 });
    const { status, task, attempts } = await createAndFinish(stack, key, nanoBanana2);
    // The client sees a completed task; its history shows both attempts.
    expect(status).toBe("succeeded");
    expect(task).toMatchObject({ status: "completed" });
    expect(attempts).toMatchObject([
      { number: 1, provider: "aivideoapi", state: "rejected", failure_kind: "retry" },
      { number: 2, provider: "kie", state: "succeeded" },
    ]);
    expect(stack.sandbox.stats.byProvider.aivideoapi!.created).toBe(0);
    expect(stack.sandbox.stats.byProvider.kie!.created).toBe(1);
    // What each upstream charged beside what the client paid: the refused attempt cost nothing.
    expect(await marginByProvider(stack.db.db, new Date(0))).toEqual([
      {
        provider: "aivideoapi",
        attempts: 1,
        succeeded: 0,
        upstreamCredits: 0,
        upstreamUsd: 0,
        chargedCredits: 0,
      },
      {
        provider: "kie",
        attempts: 1,
        succeeded: 1,
        upstreamCredits: 16,
        upstreamUsd: 0.08,
        chargedCredits: 16,
      },
    ]);
  });

  it("moves on when the upstream's callback says the generation failed", async () => {
    // The first poll 2 s after the accept: the callback decides (polling at 20 ms, a loaded
    // machine let a poll find the failure first, and the callback was recorded as a duplicate).
    const { stack, key } = await start({
      poll: { baseMs: 20, maxMs: 200, callbackGraceMs: 2_000 },
    });
    // nano-banana-pro: revid is cheaper (25 of its credits, $0.09) than nanobanana (6, $0.12).
    stack.sandbox.setFaults("revid", { failureRate: 1 });
    const { status, attempts } = await createAndFinish(stack, key, {
      model: "nano-banana-pro",
      input: { prompt: "a paper boat" },
    });
    expect(status).toBe("succeeded");
    expect(attempts).toMatchObject([
      { number: 1, provider: "revid", state: "failed", failure_kind: "failover" },
      { number: 2, provider: "nanobanana", state: "succeeded" },
    ]);
    const { rows } = await stack.db.pool.query(
      "select outcome from provider_callbacks where provider = 'revid'",
    );
    expect(rows).toEqual([{ outcome: "applied" }]);
  });

  it("a failover decided on a provider's callback starts the next attempt at once, not at a poll", async () => {
    // Polls a minute apart: only the callbacks service's wake can start the next attempt soon.
    const { stack, key } = await start({ poll: { baseMs: 60_000, maxMs: 600_000 } });
    stack.sandbox.setFaults("revid", { failureRate: 1 });
    const res = await stack.request("POST", "/v1/images/generations", {
      key,
      body: { model: "nano-banana-pro", input: { prompt: "a paper boat" } },
    });
    expect(res.status).toBe(200);
    const taskId = res.body.data.taskId as string;
    const started = await new Promise<{ failedAt: Date; nextAt: Date }>((resolve, reject) => {
      const deadline = Date.now() + 10_000;
      const look = async () => {
        const { rows } = await stack.db.pool.query(
          "select provider, state, started_at, ended_at from task_attempts where task_id = $1 order by number",
          [taskId],
        );
        if (rows.length >= 2)
          return resolve({ failedAt: rows[0].ended_at, nextAt: rows[1].started_at });
        if (Date.now() > deadline)
          return reject(new Error(`one attempt after 10 s: ${JSON.stringify(rows)}`));
        setTimeout(look, 20);
      };
      void look();
    });
    expect(started.nextAt.getTime() - started.failedAt.getTime()).toBeLessThan(1_000);
  });

  it("a task whose preferred provider is at its concurrency limit goes to another that serves it", async () => {
    // nano-banana-pro prefers revid (cheaper); revid here takes one task at a time, held by another.
    const providers: ProviderDeclaration[] = defaultProviders.map((p) =>
      p.id === "revid" ? { ...p, limits: { maxConcurrent: 1 } } : p,
    );
    const { stack, key } = await start({ providers });
    const health = createProviderHealth(stack.producerRedis, stack.prefix);
    const holder = { taskId: "task_someone_else", deadlineMs: Date.now() + 600_000 };
    expect(await health.claimSlot("revid", holder, 1, 600_000)).toBe(true);
    const { status, attempts } = await createAndFinish(stack, key, {
      model: "nano-banana-pro",
      input: { prompt: "a paper boat" },
    });
    expect(status).toBe("succeeded");
    expect(attempts).toMatchObject([{ number: 1, provider: "nanobanana", state: "succeeded" }]);
  });

  it("tries again where the only provider failed a generation, rather than failing the task", async () => {
    const { stack, key } = await start();
    // seedream4 only nanobanana serves: its first generation fails (refunded), the next does not.
    stack.sandbox.setFaults("nanobanana", { failureRate: 1 });
    const firstCreated = ({ provider }: { provider: string }) => {
      if (provider !== "nanobanana") return;
      stack.sandbox.setFaults("nanobanana", {});
      stack.sandbox.events.off("created", firstCreated);
    };
    stack.sandbox.events.on("created", firstCreated);
    const { status, attempts } = await createAndFinish(stack, key, {
      model: "seedream4",
      input: { prompt: "a glass teapot" },
    });
    expect(status).toBe("succeeded");
    expect(attempts).toMatchObject([
      { number: 1, provider: "nanobanana", state: "failed", failure_kind: "failover" },
      { number: 2, provider: "nanobanana", state: "succeeded" },
    ]);
  });

  it("skips a provider whose circuit is open without calling it", async () => {
    const { stack, key } = await start();
    const openForMs = await stack.worker!.health.recordFailure("aivideoapi", "circuit", "test");
    expect(openForMs).toBeGreaterThan(0);
    const { status, attempts } = await createAndFinish(stack, key, nanoBanana2);
    expect(status).toBe("succeeded");
    expect(attempts).toMatchObject([{ number: 1, provider: "kie", state: "succeeded" }]);
    expect(stack.sandbox.stats.byProvider.aivideoapi!.submitCalls).toBe(0);
  });

  it("opens a provider's circuit after failures in a row, for every task", async () => {
    const { stack, key } = await start({
      health: { failureThreshold: 2, openMs: 60_000, refusedOpenMs: 60_000 },
    });
    stack.sandbox.setFaults("aivideoapi", { submitFailureRate: 1 });
    for (let i = 0; i < 2; i++) await createAndFinish(stack, key, nanoBanana2);
    expect(stack.sandbox.stats.byProvider.aivideoapi!.submitCalls).toBe(2);
    const states = await stack.worker!.health.states(["aivideoapi"]);
    expect(states.get("aivideoapi")!.openForMs).toBeGreaterThan(0);
    const third = await createAndFinish(stack, key, nanoBanana2);
    expect(third.attempts.map((a) => a.provider)).toEqual(["kie"]);
    expect(stack.sandbox.stats.byProvider.aivideoapi!.submitCalls).toBe(2);
  });
});

describe("passing failures", () => {
  it("honours Retry-After: the same provider is not called again before it", async () => {
    // Without kie, aivideoapi alone serves nano-banana-2-lite.
    const { stack, key } = await start({
      providers: defaultProviders.filter((p) => p.id !== "kie"),
    });
    stack.sandbox.failNextSubmits(1, 429); // Retry-After: 1
    const { status, attempts } = await createAndFinish(stack, key, {
      model: "nano-banana-2-lite",
      input: { prompt: "only aivideoapi serves lite here" },
    });
    expect(status).toBe("succeeded");
    expect(attempts).toMatchObject([
      { provider: "aivideoapi", state: "rejected", failure_kind: "retry" },
      { provider: "aivideoapi", state: "succeeded" },
    ]);
    const [first, second] = attempts;
    expect(second!.started_at - first!.ended_at!).toBeGreaterThanOrEqual(1);
  });

  it("backs off on kie's 409 active-task limit and completes every task", async () => {
    const kieOnly: ProviderDeclaration[] = [
      { id: "kie", dialect: "kie", priority: 100, creditUsd: 0.005, limits: { maxConcurrent: 10 } },
    ];
    const { stack, key } = await start({ providers: kieOnly, sandbox: { generationMs: 300 } });
    stack.sandbox.dialectSettings<"kie">("kie").activeTaskLimit = 2;
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        createAndFinish(stack, key, { model: "nano-banana-2", input: { prompt: `task ${i}` } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(5).fill("succeeded"));
    const refused = results.flatMap((r) => r.attempts).filter((a) => a.state === "rejected");
    expect(refused.length).toBeGreaterThan(0);
    for (const attempt of refused) {
      expect(attempt).toMatchObject({
        provider: "kie",
        failure_kind: "retry",
        error: { code: "409" },
      });
    }
  });

  it("keeps within a provider's concurrency cap without calling it more", async () => {
    const capped = defaultProviders.map((p) =>
      p.id === "kie" ? { ...p, limits: { maxConcurrent: 2 } } : p,
    );
    const { stack, key } = await start({
      providers: capped.filter((p) => p.id === "kie"),
      sandbox: { generationMs: 300 },
    });
    stack.sandbox.dialectSettings<"kie">("kie").activeTaskLimit = 2;
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        createAndFinish(stack, key, { model: "nano-banana-2", input: { prompt: `task ${i}` } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(5).fill("succeeded"));
    // Ripen held the tasks back itself: the upstream never had to refuse one.
    expect(results.flatMap((r) => r.attempts).map((a) => a.state)).toEqual(
      Array(5).fill("succeeded"),
    );
  });
});

describe("a dialect without callbacks", () => {
  it("completes by polling alone", async () => {
    const { stack, key } = await start();
    const { status, attempts, taskId } = await createAndFinish(stack, key, {
      model: "seedream4",
      input: { prompt: "a quiet harbour" },
    });
    expect(status).toBe("succeeded");
    expect(attempts).toMatchObject([{ provider: "nanobanana", state: "succeeded" }]);
    const callbacks = await stack.db.pool.query(
      "select count(*)::int as n from provider_callbacks where task_id = $1",
      [taskId],
    );
    expect(callbacks.rows[0].n).toBe(0);
    const events = await stack.db.pool.query(
      "select source from task_events where task_id = $1 and to_status = 'succeeded'",
      [taskId],
    );
    expect(events.rows).toEqual([{ source: "poll" }]);
  });
});

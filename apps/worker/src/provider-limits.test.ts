import type { ChildProcess } from "node:child_process";
import { terminalTaskStatuses } from "@ripen/db";
import { defaultProviders, type ProviderDeclaration } from "@ripen/providers";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killWorker, spawnWorker } from "./testing/worker-process";

/**
 * nanobanana allows so many requests per window per key (document 001: 60 a minute); here a
 * window of 3 s so the test does not wait minutes. Ripen keeps under it across every worker
 * process, since the budget lives in Redis. A token is taken a little before its request
 * arrives (most in processes just started: hundreds of ms here), so one window's arrivals can
 * include late ones of the window before; 5 against the simulator's 10 covers any delay under
 * the window. Production keeps 55 of 60 a minute, a margin for delays of several seconds.
 */
const WINDOW_MS = 3_000;
const providers: ProviderDeclaration[] = defaultProviders.map((p) =>
  p.id === "nanobanana" ? { ...p, limits: { requestsPerMinute: 5, rateWindowMs: WINDOW_MS } } : p,
);

let stack: TestStack;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startTestStack({ worker: false, providers, sandbox: { generationMs: 30 } });
  Object.assign(stack.sandbox.dialectSettings<"nanobanana">("nanobanana"), {
    requestsPerMinute: 10,
    windowMs: WINDOW_MS,
  });
  workers.push(
    ...(await Promise.all([spawnWorker(stack, { providers }), spawnWorker(stack, { providers })])),
  );
}, 60_000);
afterAll(async () => {
  await Promise.all(workers.map(killWorker));
  await stack?.close();
});

describe("a provider's rate limit, shared by two worker processes", () => {
  it("holds for nanobanana while another provider's tasks keep flowing", async () => {
    const { apiKey: key } = await stack.createAccount(100_000);
    const create = async (model: string, prompt: string) => {
      const res = await stack.request("POST", "/v1/images/generations", {
        key,
        body: { model, input: { prompt } },
      });
      expect(res.status).toBe(200);
      return res.body.data.taskId as string;
    };
    // seedream4 only nanobanana serves; nano-banana-2-lite only aivideoapi.
    const limited = await Promise.all(
      Array.from({ length: 8 }, (_, i) => create("seedream4", `limited ${i}`)),
    );
    const free = await Promise.all(
      Array.from({ length: 8 }, (_, i) => create("nano-banana-2-lite", `free ${i}`)),
    );

    for (const id of free) {
      expect(await stack.waitForTask(id, terminalTaskStatuses, 20_000)).toBe("succeeded");
    }
    // Every aivideoapi task ended while nanobanana's were still being paced.
    const { rows } = await stack.db.pool.query(
      "select count(*)::int as n from tasks where id = any($1) and status in ('queued', 'submitting', 'running')",
      [limited],
    );
    expect(rows[0].n).toBeGreaterThan(0);

    for (const id of limited) {
      expect(await stack.waitForTask(id, terminalTaskStatuses, 60_000)).toBe("succeeded");
    }
    const nanobanana = stack.sandbox.stats.byProvider.nanobanana!;
    expect(nanobanana.created).toBe(8);
    // Submits and polls alike stayed within the limit: the simulator never had to refuse one.
    expect(nanobanana.faults.rate_limit_refused ?? 0).toBe(0);
    expect(nanobanana.submitCalls + nanobanana.statusCalls).toBeGreaterThanOrEqual(16);
  }, 90_000);
});

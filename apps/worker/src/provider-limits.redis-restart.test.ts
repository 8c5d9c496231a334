import { taskAttempts, terminalTaskStatuses } from "@ripen/db";
import { defaultProviders, type ProviderDeclaration } from "@ripen/providers";
import {
  ledgerViolations,
  type PrivateRedis,
  startPrivateRedis,
  startTestStack,
  type TestStack,
} from "@ripen/testkit";
import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

/**
 * A provider counts the requests and the tasks Ripen sent it; Ripen keeps its own counts of
 * them in Redis, and a Redis restarted empty forgets those counts, not the provider.
 *
 * nanobanana: a limit of 4 requests on both sides, so that the 2 submits made before the restart
 * and their first polls leave nothing for the polls made after it until they age out. Ripen's
 * window is 2 s longer than the provider's: it counts a request from just before it is sent, the
 * provider from its arrival, later on a loaded machine (production keeps 55 of 60 a minute for
 * the same reason).
 * kie: 2 tasks at once.
 * Only these two providers, so that seedream4 goes to nanobanana and nano-banana-2-lite to kie.
 */
const WINDOW_MS = 10_000;
const PROVIDER_WINDOW_MS = 8_000;
const REQUESTS = 4;
const AT_ONCE = 2;
const providers = defaultProviders.flatMap((p): ProviderDeclaration[] => {
  if (p.id === "nanobanana") {
    return [{ ...p, limits: { requestsPerMinute: REQUESTS, rateWindowMs: WINDOW_MS } }];
  }
  return p.id === "kie" ? [{ ...p, limits: { maxConcurrent: AT_ONCE } }] : [];
});

let redis: PrivateRedis;
let stack: TestStack;
let apiKey: string;
beforeAll(async () => {
  redis = await startPrivateRedis();
  stack = await startTestStack({
    redisUrl: redis.url,
    providers,
    // The watchdog also checks Redis as often as the sweep runs.
    sweep: { everyMs: 200, graceMs: 200 },
    sandbox: { generationMs: 2_000 },
  });
  Object.assign(stack.sandbox.dialectSettings<"nanobanana">("nanobanana"), {
    requestsPerMinute: REQUESTS,
    windowMs: PROVIDER_WINDOW_MS,
  });
  ({ apiKey } = await stack.createAccount(10_000));
}, 60_000);
afterAll(async () => {
  if (stack) expect(await ledgerViolations(stack.db.db)).toEqual([]);
  await stack?.close();
  await redis?.stop();
});

async function createTasks(model: string, count: number, label: string): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const res = await stack.request("POST", "/v1/images/generations", {
        key: apiKey,
        body: { model, input: { prompt: `${label} ${i}` } },
      });
      expect(res.status).toBe(200);
      return res.body.data.taskId as string;
    }),
  );
}

async function restartRedisEmpty(): Promise<void> {
  await redis.stop();
  await redis.start();
}

async function expectSucceeded(ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    expect(await stack.waitForTask(id, terminalTaskStatuses, 30_000)).toBe("succeeded");
  }
}

describe("a provider's limits across a Redis restarted empty", () => {
  it("the requests sent before the restart still count: the provider refuses none after it", async () => {
    // nanobanana sends no callbacks: each task is polled until its 2 s generation is over.
    const ids = await createTasks("seedream4", REQUESTS / 2, "before the restart");
    const nanobanana = stack.sandbox.stats.byProvider.nanobanana!;
    // Its first polls come at once (no generation time is known yet): the window is full.
    await vi.waitFor(() => expect(nanobanana.submitCalls + nanobanana.statusCalls).toBe(REQUESTS), {
      timeout: 10_000,
    });
    expect(nanobanana.submitCalls).toBe(REQUESTS / 2);

    await restartRedisEmpty();

    await expectSucceeded(ids);
    expect(nanobanana.submitCalls).toBe(REQUESTS / 2);
    // The polls waited for the requests before the restart to leave the window, submits and
    // polls alike, as the provider counts them.
    expect(nanobanana.faults.rate_limit_refused ?? 0).toBe(0);
  }, 60_000);

  it("the tasks in flight before the restart still hold their places: no more at once after it", async () => {
    const before = await createTasks("nano-banana-2-lite", AT_ONCE, "in flight");
    await Promise.all(before.map((id) => stack.waitForTask(id, ["running"], 10_000)));

    await restartRedisEmpty();
    const after = await createTasks("nano-banana-2-lite", AT_ONCE, "after the restart");

    await expectSucceeded([...before, ...after]);
    const attempts = await stack.db.db
      .select()
      .from(taskAttempts)
      .where(inArray(taskAttempts.taskId, [...before, ...after]));
    expect(attempts.map((a) => a.provider)).toEqual(attempts.map(() => "kie"));
    // The most attempts open at kie at any one time: counted at each start.
    const mostAtOnce = Math.max(
      ...attempts.map(
        (a) =>
          attempts.filter(
            (b) => b.startedAt <= a.startedAt && (b.endedAt ?? a.startedAt) > a.startedAt,
          ).length,
      ),
    );
    expect(mostAtOnce).toBe(AT_ONCE);
  }, 60_000);
});

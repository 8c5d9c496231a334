import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  circuitOf,
  createProviderHealth,
  FAILURES_KNOWN_MS,
  type HealthPolicy,
  type ProviderHealth,
} from "./health";

// A provider's circuit: what ends a streak of failures, and what may open it again.

const policy: HealthPolicy = {
  failureThreshold: 2,
  failureWindowMs: 400,
  openMs: 300,
  refusedOpenMs: 60_000,
};
let redis: Redis;
let prefix: string;
let other: ProviderHealth;
beforeAll(() => {
  redis = new Redis(inject("redisUrl"));
  prefix = `{health-test-${randomUUID()}}`;
  other = createProviderHealth(redis, prefix, policy);
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const stateOf = async (provider: string) => (await other.states([provider])).get(provider)!;

/**
 * A health whose scripts are counted: the Redis round trips its callers pay for. Its own clock
 * stands still until the test moves it, so a slow machine cannot age what it saw.
 */
function countedHealth() {
  const counted = { scripts: 0 };
  const clock = { ms: 0 };
  const connection = new Proxy(redis, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (typeof value !== "function") return value;
      if (name === "evalsha" || name === "eval") {
        return (...args: unknown[]) => {
          counted.scripts++;
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  return {
    health: createProviderHealth(connection, prefix, policy, { now: () => clock.ms }),
    counted,
    clock,
  };
}

describe("a success", () => {
  it("costs no Redis call while the process saw no failures, and ends a streak it saw", async () => {
    const provider = `p-${randomUUID()}`;
    const { health, counted, clock } = countedHealth();
    // Healthy: the first success reads the provider's state, the next ones cost nothing.
    await health.recordSuccess(provider);
    await Promise.all(Array.from({ length: 10 }, () => health.recordSuccess(provider)));
    expect(counted.scripts).toBe(1);

    // A failure it recorded: the next successes, all at once, end the streak with one call.
    await health.recordFailure(provider, "retry", "503");
    await Promise.all(Array.from({ length: 10 }, () => health.recordSuccess(provider)));
    expect(counted.scripts).toBe(3);
    expect((await stateOf(provider)).failures).toBe(0);

    // Failures another process recorded are seen once what this one knows is old: one read,
    // one reset.
    await other.recordFailure(provider, "retry", "503");
    clock.ms += FAILURES_KNOWN_MS + 1;
    await health.recordSuccess(provider);
    expect(counted.scripts).toBe(5);
    expect((await stateOf(provider)).failures).toBe(0);
  });

  it("does not cut an open period short, and closes the circuit after it", async () => {
    const provider = `p-${randomUUID()}`;
    // Our key refused: open for five minutes, whatever generations still finish meanwhile.
    expect(await other.recordFailure(provider, "circuit", "401")).toBe(60_000);
    await other.recordSuccess(provider);
    const state = await stateOf(provider);
    expect(state).toMatchObject({ failures: 0 });
    expect(state.openForMs).toBeGreaterThan(59_000);
  });
});

describe("a circuit opened by failures", () => {
  it("opens again only for a new call's failure, not for an older generation's", async () => {
    const provider = `p-${randomUUID()}`;
    expect(await other.recordFailure(provider, "retry", "503")).toBe(0);
    const openFor = await other.recordFailure(provider, "retry", "503");
    expect(openFor).toBe(policy.openMs);
    // A generation accepted before it opened fails: counted, the open period not extended.
    expect(
      await other.recordFailure(provider, "retry", "failed", "generation"),
    ).toBeLessThanOrEqual(openFor);
    await sleep(policy.openMs + 50);
    expect(circuitOf(await stateOf(provider))).toBe("half_open");
    // Half-open: another old generation failing leaves the trial to the next call…
    expect(await other.recordFailure(provider, "retry", "failed", "generation")).toBe(0);
    expect(circuitOf(await stateOf(provider))).toBe("half_open");
    // …whose failure opens it again.
    expect(await other.recordFailure(provider, "retry", "503")).toBe(policy.openMs);
    await sleep(policy.openMs + 50);
    await other.recordSuccess(provider);
    expect(await stateOf(provider)).toMatchObject({ failures: 0, openForMs: 0 });
    expect(circuitOf(await stateOf(provider))).toBe("closed");
  });

  it("stays closed while the same burst of calls brings far more successes than failures", async () => {
    const provider = `p-${randomUUID()}`;
    const { health, clock } = countedHealth();
    await health.recordSuccess(provider);
    // Answers of calls sent together come back together: the successes are counted before the
    // failures' own round trips return, as after an outage every parked step runs at once.
    const answers = [
      health.recordFailure(provider, "retry", "503"),
      ...Array.from({ length: 10 }, () => health.recordSuccess(provider)),
      health.recordFailure(provider, "retry", "503"),
      ...Array.from({ length: 10 }, () => health.recordSuccess(provider)),
    ];
    const opened = (await Promise.all(answers)).filter((openFor) => Number(openFor) > 0);
    expect(opened).toEqual([]);
    expect(circuitOf(await stateOf(provider))).toBe("closed");
    // Once the burst's window is over (Redis's clock and the process's), a provider failing
    // every call opens at the threshold.
    await sleep(policy.failureWindowMs! + 50);
    clock.ms += policy.failureWindowMs! + 50;
    expect(await health.recordFailure(provider, "retry", "503")).toBe(0);
    expect(await health.recordFailure(provider, "retry", "503")).toBe(policy.openMs);
  });

  it("never shortens a longer opening", async () => {
    const provider = `p-${randomUUID()}`;
    await other.recordFailure(provider, "circuit", "402");
    // The streak reaches the threshold while the refusal's five minutes run.
    expect(await other.recordFailure(provider, "retry", "503")).toBeGreaterThan(59_000);
  });
});

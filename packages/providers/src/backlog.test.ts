import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { estimateStart } from "./capacity";
import { createProviderHealth, type ProviderHealth } from "./health";

// Issue 16: within a provider's rate window the task nearest its deadline goes first, whichever
// asks first; and admission's projection follows the budget, the backlog and the tasks in flight.

let redis: Redis;
let prefix: string;
let health: ProviderHealth;
beforeAll(() => {
  redis = new Redis(inject("redisUrl"));
  prefix = `{backlog-test-${randomUUID()}}`;
  health = createProviderHealth(redis, prefix);
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const WINDOW_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a rate window's order", () => {
  it("grants the freed request to the task due first, though a later one asked first", async () => {
    const provider = `p-${randomUUID()}`;
    const now = Date.now();
    const late = { taskId: "late", deadlineMs: now + 600_000, submit: true };
    const soon = { taskId: "soon", deadlineMs: now + 60_000, submit: true };
    // The window's one request is taken by a poll.
    expect(await health.acquireRequest(provider, 1, WINDOW_MS)).toBe(0);
    const lateWait = await health.acquireRequest(provider, 1, WINDOW_MS, late);
    const soonWait = await health.acquireRequest(provider, 1, WINDOW_MS, soon);
    expect(lateWait).toBeGreaterThan(0);
    expect(soonWait).toBeGreaterThan(0);
    // The later task waits for one more request to age out: the first freed is the sooner one's.
    expect(lateWait).toBeGreaterThanOrEqual(soonWait);

    await sleep(WINDOW_MS + 20);
    expect(await health.acquireRequest(provider, 1, WINDOW_MS, late)).toBeGreaterThan(0);
    expect(await health.acquireRequest(provider, 1, WINDOW_MS, soon)).toBe(0);
    await sleep(WINDOW_MS + 20);
    expect(await health.acquireRequest(provider, 1, WINDOW_MS, late)).toBe(0);

    // Both started: neither waits, both are in flight and counted as starts.
    const [load] = await health.loads([{ id: provider, rateWindowMs: WINDOW_MS }], now + 600_000);
    expect(load).toMatchObject({ ahead: 0, inFlight: 2, starts: 2 });
    await health.releaseSlot(provider, "soon");
    const [after] = await health.loads([{ id: provider, rateWindowMs: WINDOW_MS }], now + 600_000);
    expect(after?.inFlight).toBe(1);
  });

  it("polls a task in flight ahead of submits due sooner, up to half of the window", async () => {
    // Issue 16's chaos run of 2026-12-06: nanobanana tasks accepted with 30 s to their deadline
    // were not polled again before it (nanobanana sends no callbacks): ordered by deadline, their
    // polls waited behind every submit due sooner, and each such submit needs a poll in turn.
    const provider = `p-${randomUUID()}`;
    const now = Date.now();
    const windowMs = 60_000;
    for (const taskId of ["s1", "s2", "s3", "s4"]) {
      await health.joinBacklog(provider, { taskId, deadlineMs: now + 10_000 });
    }
    const ask = (taskId: string, deadlineMs: number, submit: boolean) =>
      health.acquireRequest(provider, 4, windowMs, { taskId, deadlineMs, submit });
    const poll = (taskId: string) => ask(taskId, now + 30_000, false);
    const submit = (taskId: string) => ask(taskId, now + 10_000, true);
    expect(await poll("flying-1")).toBe(0);
    expect(await poll("flying-2")).toBe(0);
    // Half of the window is the polls' at most: then the submits due sooner go first again.
    expect(await poll("flying-3")).toBeGreaterThan(0);
    // The rest is the submits' and their own polls': s1 goes, and the last request is its poll's.
    expect(await submit("s1")).toBe(0);
    expect(await submit("s2")).toBeGreaterThan(0);
  });

  it("a submit leaves room in the window for a poll of each task in flight", async () => {
    // A chaos run's batch items, their jobs re-added at once after Redis restarted, were all
    // submitted to nanobanana within a second; the window then had no room for their polls, and
    // none was polled in the 42 s left to their deadlines: paid for, and expired unseen.
    const provider = `p-${randomUUID()}`;
    const deadlineMs = Date.now() + 30_000;
    const ask = (taskId: string, submit: boolean) =>
      health.acquireRequest(provider, 4, 60_000, { taskId, deadlineMs, submit });
    expect(await ask("a", true)).toBe(0);
    expect(await ask("b", true)).toBe(0);
    // a and b are in flight and owe a poll each: c waits, and is asked again soon.
    const held = await ask("c", true);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(1_000);
    expect(await ask("a", false)).toBe(0);
    expect(await ask("b", false)).toBe(0);
  });

  it("a task that started elsewhere, or ended, no longer stands ahead of anyone", async () => {
    const provider = `p-${randomUUID()}`;
    const now = Date.now();
    await health.joinBacklog(provider, { taskId: "gone", deadlineMs: now + 10_000 });
    await health.joinBacklog(provider, { taskId: "stays", deadlineMs: now + 20_000 });
    const [before] = await health.loads([{ id: provider }], now + 30_000);
    expect(before?.ahead).toBe(2);
    await health.leaveBacklogs([provider], ["gone"]);
    const [after] = await health.loads([{ id: provider }], now + 30_000);
    expect(after?.ahead).toBe(1);
  });
});

describe("estimateStart", () => {
  const idle = { requests: 0, inFlight: 0, ahead: 0, starts: 0, openForMs: 0, pausedForMs: 0 };
  const fiftyFive = { requestsPerMinute: 55 };

  it("starts at once with budget to spare, and not before a pause or an open circuit ends", () => {
    expect(estimateStart(fiftyFive, idle)).toBe(0);
    expect(estimateStart({}, { ...idle, pausedForMs: 5_000 })).toBe(5_000);
    expect(estimateStart({}, { ...idle, openForMs: 30_000, pausedForMs: 5_000 })).toBe(30_000);
  });

  it("queues behind the backlog and the polls owed by tasks in flight, at the budget's pace", () => {
    // 55 a minute, all of the window's spent, about 3 requests a task lately (55 for 18 starts).
    const busy = { ...idle, requests: 55, starts: 18, inFlight: 10, ahead: 100 };
    const perTask = 55 / 18;
    const owed = 10 * (perTask - 1) + 101 * perTask;
    expect(estimateStart(fiftyFive, busy)).toBe(Math.ceil((owed * 60_000) / 55));
    // At least a submit and a poll a task, however cheap the window looked so far.
    expect(estimateStart(fiftyFive, { ...idle, requests: 55, starts: 55, ahead: 9 })).toBe(
      Math.ceil((20 * 60_000) / 55),
    );
  });

  it("waits for slots at the pace tasks have started lately; with none seen, has no figure", () => {
    const full = { ...idle, inFlight: 20, ahead: 19, starts: 40 };
    // 20 over the cap, 40 starts a minute: 30 s.
    expect(estimateStart({ maxConcurrent: 20 }, full)).toBe(30_000);
    expect(estimateStart({ maxConcurrent: 20 }, { ...full, starts: 0 })).toBe(0);
  });
});

import { afterEach, describe, expect, it, vi } from "vitest";
import { createBatchGate } from "./batch-gate";

/** A step that runs until `finish()` is called. */
function heldStep() {
  let finish = () => {};
  let started = false;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    get started() {
      return started;
    },
    finish: () => finish(),
    run: async () => {
      started = true;
      await done;
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const BATCH = true;
const INTERACTIVE = false;

afterEach(() => {
  vi.useRealTimers();
});

describe("the batch gate", () => {
  it("runs at most batchSlots batch steps, the next one as soon as one ends, in order", async () => {
    const gate = createBatchGate({ slots: 10, batchSlots: 2 });
    const steps = [heldStep(), heldStep(), heldStep(), heldStep()];
    const runs = steps.map((step) => gate.run(BATCH, () => step.run()));
    await settle();
    expect(steps.map((s) => s.started)).toEqual([true, true, false, false]);
    expect({ running: gate.running, waiting: gate.waiting }).toEqual({ running: 2, waiting: 2 });

    steps[1]!.finish();
    await settle();
    expect(steps.map((s) => s.started)).toEqual([true, true, true, false]);
    expect(gate.running).toBe(2);

    for (const step of steps) step.finish();
    await Promise.all(runs);
    expect({ running: gate.running, waiting: gate.waiting }).toEqual({ running: 0, waiting: 0 });
  });

  it("never holds an interactive step, and sizes the worker to the batch's share plus them", async () => {
    const sizes: number[] = [];
    const gate = createBatchGate({ slots: 5, batchSlots: 2, resize: (n) => sizes.push(n) });
    expect(gate.wanted).toBe(2);
    const batch = [heldStep(), heldStep(), heldStep()];
    const batchRuns = batch.map((step) => gate.run(BATCH, () => step.run()));
    const interactive = [heldStep(), heldStep(), heldStep(), heldStep()];
    const interactiveRuns = interactive.map((step) => gate.run(INTERACTIVE, () => step.run()));
    await settle();
    // Every interactive step runs at once, with the batch at its two.
    expect(interactive.every((s) => s.started)).toBe(true);
    expect(batch.map((s) => s.started)).toEqual([true, true, false]);
    expect(gate.wanted).toBe(5);
    expect(sizes).toEqual([3, 4, 5]);

    for (const step of interactive) step.finish();
    await Promise.all(interactiveRuns);
    expect(gate.wanted).toBe(2);
    for (const step of batch) step.finish();
    await Promise.all(batchRuns);
  });

  it("starts no batch step beyond its yield slots while interactive work is in hand, nor for a while after", async () => {
    vi.useFakeTimers();
    const gate = createBatchGate({ slots: 10, batchSlots: 4, yieldSlots: 1, yieldMs: 300 });
    const first = heldStep();
    const firstRun = gate.run(BATCH, () => first.run());
    const asked = heldStep();
    const askedRun = gate.run(INTERACTIVE, () => asked.run());
    const batch = [heldStep(), heldStep(), heldStep()];
    const batchRuns = batch.map((step) => gate.run(BATCH, () => step.run()));
    await vi.advanceTimersByTimeAsync(0);
    // The batch step already running goes on; no other starts beside the interactive one.
    expect([first.started, asked.started]).toEqual([true, true]);
    expect(batch.map((s) => s.started)).toEqual([false, false, false]);

    first.finish();
    await vi.advanceTimersByTimeAsync(0);
    // One batch step at a time beside it: the next in arrival order.
    expect(batch.map((s) => s.started)).toEqual([true, false, false]);

    asked.finish();
    await vi.advanceTimersByTimeAsync(299);
    expect(batch.map((s) => s.started)).toEqual([true, false, false]);
    await vi.advanceTimersByTimeAsync(1);
    // Its callback's time past, the batch has its four slots back.
    expect(batch.map((s) => s.started)).toEqual([true, true, true]);
    expect({ running: gate.running, waiting: gate.waiting }).toEqual({ running: 3, waiting: 0 });

    for (const step of batch) step.finish();
    await Promise.all([firstRun, askedRun, ...batchRuns]);
  });

  it("keeps the batch yielding while interactive steps follow one another", async () => {
    vi.useFakeTimers();
    const gate = createBatchGate({ slots: 10, batchSlots: 4, yieldSlots: 1, yieldMs: 300 });
    const opening = heldStep();
    const openingRun = gate.run(INTERACTIVE, () => opening.run());
    const blocker = heldStep();
    const blockerRun = gate.run(BATCH, () => blocker.run());
    const waiting = heldStep();
    const waitingRun = gate.run(BATCH, () => waiting.run());
    await vi.advanceTimersByTimeAsync(0);
    expect([blocker.started, waiting.started]).toEqual([true, false]);
    opening.finish();
    await openingRun;
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(200);
      const asked = heldStep();
      const run = gate.run(INTERACTIVE, () => asked.run());
      await vi.advanceTimersByTimeAsync(0);
      asked.finish();
      await run;
    }
    await vi.advanceTimersByTimeAsync(200);
    // Each interactive step's end began the wait anew: 200 ms after the last, still yielding.
    expect(waiting.started).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(waiting.started).toBe(true);
    blocker.finish();
    waiting.finish();
    await Promise.all([blockerRun, waitingRun]);
  });

  it("frees the permit when a step throws", async () => {
    const gate = createBatchGate({ slots: 2, batchSlots: 1 });
    await expect(
      gate.run(BATCH, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await gate.run(BATCH, async () => "next")).toBe("next");
    expect(gate.running).toBe(0);
  });

  it("refuses a share it cannot keep", () => {
    expect(() => createBatchGate({ slots: 10, batchSlots: 0 })).toThrow();
    expect(() => createBatchGate({ slots: 10, batchSlots: 11 })).toThrow();
    expect(() => createBatchGate({ slots: 10, batchSlots: 4, yieldSlots: 0 })).toThrow();
    expect(() => createBatchGate({ slots: 10, batchSlots: 4, yieldSlots: 5 })).toThrow();
  });
});

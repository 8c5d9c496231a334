import { describe, expect, it } from "vitest";
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
  });
});

import { describe, expect, it } from "vitest";
import { firstPollDelay, nextPollDelay } from "./poll-delay";

const policy = { baseMs: 2_000, maxMs: 30_000 };

describe("nextPollDelay", () => {
  it("doubles from the base and stops at the cap", () => {
    const middle = () => 0.5; // no jitter
    expect([0, 1, 2, 3, 4, 5, 40].map((n) => nextPollDelay(n, policy, middle))).toEqual([
      2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it("jitters by at most a quarter either way, never past the cap", () => {
    expect(nextPollDelay(1, policy, () => 0)).toBe(3_000);
    expect(nextPollDelay(1, policy, () => 0.999999)).toBe(5_000);
    expect(nextPollDelay(10, policy, () => 0.999999)).toBe(30_000);
    expect(nextPollDelay(10, policy, () => 0)).toBe(22_500);
  });
});

describe("firstPollDelay", () => {
  it("leaves a provider's callback its grace before the first poll asks the same thing", () => {
    const graced = { ...policy, callbackGraceMs: 1_000 };
    expect(firstPollDelay(graced, true)).toBe(3_000);
    // A provider without callbacks is polled at the base: nothing else will tell.
    expect(firstPollDelay(graced, false)).toBe(2_000);
    expect(firstPollDelay(policy, true)).toBe(2_000);
  });
});

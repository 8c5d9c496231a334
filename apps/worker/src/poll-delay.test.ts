import { describe, expect, it } from "vitest";
import { nextPollDelay } from "./poll-delay";

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

import { workerEnv } from "@ripen/config";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { firstPollDelay, nextPollDelay, pollAgainIn } from "./poll-delay";

const policy = { baseMs: 2_000, maxMs: 30_000 };

describe("nextPollDelay (the backoff of refused submits)", () => {
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

describe("the poll cadence of an open attempt", () => {
  // Issue 16: a finished upstream task whose callback is lost is found by a poll within 10% + 1 s
  // of its generation time, for every provider, with the worker's defaults.
  const defaults = workerEnv.parse({
    DATABASE_URL: "postgres://x@127.0.0.1/x",
    REDIS_URL: "redis://127.0.0.1:6379",
    CALLBACK_SECRET: "x".repeat(32),
  });
  const production = {
    baseMs: defaults.POLL_BASE_MS,
    maxMs: defaults.POLL_MAX_MS,
    callbackGraceMs: defaults.POLL_CALLBACK_GRACE_MS,
  };

  /** When the first poll at or after `generationMs` (counted from the accept) happens. */
  function foundAt(
    generationMs: number,
    sendsCallbacks: boolean,
    random: () => number,
    shortestKnownMs = 0,
  ) {
    let at = firstPollDelay(production, sendsCallbacks, shortestKnownMs);
    while (at < generationMs) at += pollAgainIn(at, production, random);
    return at;
  }

  it("finds a finished task within 10% + 1 s of its generation time", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.boolean(),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (generationMs, sendsCallbacks, jitter) => {
          const at = foundAt(generationMs, sendsCallbacks, () => jitter);
          expect(at).toBeLessThanOrEqual(generationMs * 1.1 + 1_000);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("keeps that bound when it waits for the shortest generation it knows of", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.boolean(),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (shortestKnownMs, longerByMs, sendsCallbacks, jitter) => {
          const generationMs = shortestKnownMs + longerByMs;
          const at = foundAt(generationMs, sendsCallbacks, () => jitter, shortestKnownMs);
          expect(at).toBeLessThanOrEqual(generationMs * 1.1 + 1_000);
          expect(at).toBeGreaterThanOrEqual(generationMs);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("polls nothing before the shortest known generation: a 2 s one with callbacks is not raced", () => {
    expect(firstPollDelay(production, true, 2_000)).toBe(3_200);
    expect(firstPollDelay(production, true, 0)).toBe(1_000);
  });

  it("polls a 1.5 s generation twice and a ten-minute one about 50 times, not every second", () => {
    const count = (generationMs: number) => {
      let polls = 1;
      for (let at = firstPollDelay(production, true); at < generationMs; polls++)
        at += pollAgainIn(at, production, () => 0.5);
      return polls;
    };
    expect(count(1_500)).toBe(2);
    expect(count(600_000)).toBeGreaterThan(30);
    expect(count(600_000)).toBeLessThan(60);
  });

  it("never waits longer than the cap", () => {
    expect(pollAgainIn(10 * 3_600_000, production, () => 0.999)).toBeLessThanOrEqual(
      production.maxMs,
    );
  });
});

import { describe, expect, it } from "vitest";
import { catalogBackoff, jobCatalog } from "./index";

const delayOf = (name: string, attemptsMade: number) =>
  catalogBackoff(attemptsMade, "catalog", undefined, { name } as never) as number;

describe("the retry delay of a job that threw", () => {
  it("doubles from its catalog entry's delay, with up to half taken off", () => {
    for (const [name, first] of [
      ["task.run", 5_000],
      ["schedule.fire", 2_000],
      ["maintenance.subscription-grants", 60_000],
    ] as const) {
      expect(jobCatalog[name].retryDelayMs).toBe(first);
      for (const attemptsMade of [1, 2, 3, 4]) {
        const ceiling = first * 2 ** (attemptsMade - 1);
        for (let i = 0; i < 20; i++) {
          const delay = delayOf(name, attemptsMade);
          expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
          expect(delay).toBeLessThanOrEqual(ceiling);
        }
      }
    }
  });
});

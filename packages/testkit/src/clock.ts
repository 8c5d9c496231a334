import type { Clock } from "@ripen/core";

/** Real time plus an offset the test controls: "twenty minutes later" without waiting. */
export class TestClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

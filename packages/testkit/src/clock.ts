import type { Clock } from "@ripen/core";

/** Real time plus an offset the test controls: "twenty minutes later" without waiting. */
export class TestClock implements Clock {
  private offsetMs = 0;
  private frozenAt: number | null = null;
  now(): Date {
    return new Date((this.frozenAt ?? Date.now()) + this.offsetMs);
  }
  /** Stops time where it is: from now on it moves only by `advance`, so offsets are exact. */
  freeze(): void {
    this.frozenAt ??= Date.now();
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

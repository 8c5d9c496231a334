import { describe, expect, it } from "vitest";
import {
  EtaEstimator,
  formatDuration,
  hasEnded,
  progressBar,
  progressLine,
  summary,
  toSnapshot,
} from "./commands/progress";

const view = (counts: Record<string, number>, extra: Record<string, unknown> = {}) => ({
  id: "batch_1",
  object: "batch",
  state: "running",
  total: 10,
  counts: {
    queued: 0,
    submitting: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    canceled: 0,
    expired: 0,
    ...counts,
  },
  credits: { held: 80, captured: 16, released: 0, total: 96 },
  created_at: 1_700_000_000,
  ended_at: null,
  ...extra,
});

describe("batch progress", () => {
  it("reads the API's batch view", () => {
    const s = toSnapshot(view({ queued: 4, running: 4, succeeded: 1, failed: 1 }));
    expect(s).toMatchObject({
      id: "batch_1",
      total: 10,
      counts: { queued: 4, running: 4, succeeded: 1, failed: 1 },
      credits: { held: 80, captured: 16, released: 0 },
      createdAtMs: 1_700_000_000_000,
    });
    expect(hasEnded(s)).toBe(false);
    expect(hasEnded(toSnapshot(view({ succeeded: 10 })))).toBe(true);
    expect(hasEnded(toSnapshot(view({ queued: 10 }, { state: "canceled" })))).toBe(true);
  });

  it("estimates the time left from the rate seen while watching", () => {
    let now = 1_700_000_000_000 + 60_000;
    const eta = new EtaEstimator(() => now);
    expect(eta.timing(toSnapshot(view({ succeeded: 2, queued: 8 })))).toEqual({
      elapsedMs: 60_000,
    });
    now += 10_000;
    // 2 more in 10 s, 6 left → 30 s.
    expect(eta.timing(toSnapshot(view({ succeeded: 4, queued: 6 })))).toEqual({
      elapsedMs: 70_000,
      etaMs: 30_000,
    });
  });

  it("draws a bar that fits the terminal, and a plain line for logs", () => {
    const s = toSnapshot(view({ succeeded: 5, failed: 1, queued: 4 }));
    const bar = progressBar(s, { elapsedMs: 65_000, etaMs: 30_000 }, 140);
    expect(bar.length).toBeLessThan(140);
    expect(bar).toMatch(/^\[█+x+░+\] {2}60% · 6\/10 done · 1 failed · held 80 · captured 16 cr/);
    expect(bar).toContain("1:05 elapsed · ETA 0:30");
    // 80 columns: the shorter text, a bar still; 40: the text alone, cut to fit.
    const narrow = progressBar(s, { elapsedMs: 65_000, etaMs: 30_000 }, 80);
    expect(narrow.length).toBeLessThan(80);
    expect(narrow).toMatch(
      /^\[[█x░]{11}\] {2}60% 6\/10 · 1 failed · held 80 · captured 16 · 1:05 · ETA 0:30$/,
    );
    expect(progressBar(s, { elapsedMs: 0 }, 40).length).toBeLessThan(40);
    expect(progressLine(s, { elapsedMs: 1000 })).toBe(
      "batch_1 running:  60% · 6/10 done · 1 failed · held 80 · captured 16 cr · 0:01 elapsed · ETA –",
    );
  });

  it("sums up", () => {
    const s = toSnapshot(view({ succeeded: 9, expired: 1 }, { state: "ended" }));
    expect(summary(s, 3_725_000)).toBe(
      [
        "Batch batch_1 ended: 10 items",
        "  succeeded 9, failed 0, canceled 0, expired 1",
        "  credits captured 16, released 0, still held 80",
        "  wall time 1:02:05",
      ].join("\n"),
    );
    expect(formatDuration(59_400)).toBe("0:59");
  });
});

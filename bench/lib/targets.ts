import type { Table } from "./report";

interface Target {
  /** The phase that measures it. */
  phase: string;
  what: string;
  goal: string;
  pass: (value: number) => boolean;
  show: (value: number) => string;
}

const times = (digits: number) => (value: number) => `${value.toFixed(digits)}×`;

/**
 * Issue 14's targets, in its order, each judged from one figure of one phase. Declared once, so a
 * run prints pass or fail against every one of them, and "not run" for those it did not measure.
 */
export const targets = {
  e2eMany: {
    phase: "b",
    what: "end to end, 10 accounts, vs baseline req/s",
    goal: "≥ 0.05×",
    pass: (v) => v >= 0.05,
    show: times(3),
  },
  e2eOne: {
    phase: "b",
    what: "end to end, 1 account, vs baseline req/s",
    goal: "≥ 0.05×",
    pass: (v) => v >= 0.05,
    show: times(3),
  },
  batch: {
    phase: "h",
    what: "one-account 10,000-item batch, generation 0: accepted → ended",
    goal: "≤ 30 s",
    pass: (v) => v <= 30,
    show: (v) => `${v.toFixed(1)} s`,
  },
  fairness: {
    phase: "f",
    what: "fairness: interactive p99 with a batch / alone",
    goal: "≤ 1.3",
    pass: (v) => v <= 1.3,
    show: (v) => v.toFixed(2),
  },
  createsMany: {
    phase: "a",
    what: "creates, 10 accounts, vs baseline",
    goal: "≥ 0.43×",
    pass: (v) => v >= 0.43,
    show: times(2),
  },
  createsOne: {
    phase: "a",
    what: "creates, 1 account, vs baseline",
    goal: "≥ 0.43×",
    pass: (v) => v >= 0.43,
    show: times(2),
  },
  callbackVisible: {
    phase: "c",
    what: "callback → visible as completed, p99",
    goal: "≤ 20 ms",
    pass: (v) => v <= 20,
    show: (v) => `${v.toFixed(1)} ms`,
  },
  upstreamCalls: {
    phase: "d",
    what: "upstream calls per task, callbacks delivered",
    goal: "≤ 1.05",
    pass: (v) => v <= 1.05,
    show: (v) => v.toFixed(2),
  },
  redisPerTask: {
    phase: "e",
    what: "Redis used_memory per task in flight",
    goal: "≤ 1 KB",
    pass: (v) => v <= 1024,
    show: (v) => `${Math.round(v).toLocaleString("en-US")} B`,
  },
} satisfies Record<string, Target>;

export type TargetId = keyof typeof targets;

export interface Measured {
  value: number;
  /** Set when the figure was taken under other conditions than the target's (a --quick size). */
  notJudged?: string;
}
export type Measurements = Partial<Record<TargetId, Measured>>;

/** The closing table: every target, what this run measured, and pass or fail. */
export function targetsTable(
  measured: Measurements,
  phaseState: (letter: string) => "ran" | "failed" | "not run",
): Table {
  const rows = Object.entries(targets).map(([id, target]: [string, Target]) => {
    const m = measured[id as TargetId];
    const name = `${target.phase}. ${target.what} ${target.goal}`;
    if (!m) {
      const state = phaseState(target.phase);
      return [name, "—", state === "not run" ? "not run" : "not measured"];
    }
    const verdict = m.notJudged
      ? `n/a (${m.notJudged})`
      : Number.isFinite(m.value) && target.pass(m.value)
        ? "pass"
        : "FAIL";
    return [name, Number.isFinite(m.value) ? target.show(m.value) : "not reached", verdict];
  });
  return { title: "targets (issue 14)", header: ["target", "measured", "pass/fail"], rows };
}

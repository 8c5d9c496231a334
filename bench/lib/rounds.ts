import { type CannonOptions, cannon } from "./cannon";
import { cpuSpent, readCpu } from "./cpu";
import { log, plan } from "./plan";
import { percentile } from "./report";

/** One thing a phase loads in rounds: where, and the load's keys, body and key header. */
export interface RoundTarget {
  label: string;
  url: string;
  load: Pick<CannonOptions, "keys" | "body" | "keyHeader">;
}

/** What a target's rounds add up to. */
export interface RoundTally {
  seconds: number;
  errors: number;
  statuses: Map<number, number>;
  times: number[];
  /** Each round's answers per second, in the order the rounds ran. */
  rates: number[];
  /** CPU ms each role spent while this target was loaded, over all its rounds. */
  cpuMs: Map<string, number>;
}

/**
 * Loads each target for `rounds` rounds of `roundS` seconds, after a warm-up each, in an order
 * that alternates round by round: drift over the phase (JIT warming, tables growing, a
 * neighbour's load on this shared machine) falls on every target alike, so ratios between the
 * targets compare loads measured side by side rather than minutes apart.
 */
export async function alternatingRounds(
  phase: string,
  targets: readonly RoundTarget[],
  options: {
    rounds: number;
    roundS: number;
    /** Runs between the warm-ups and the first round (what the rounds add is counted from here). */
    warmedUp?: () => Promise<void>;
  },
): Promise<Map<string, RoundTally>> {
  for (const target of targets) {
    log(`${phase}: ${target.label}: warm-up ${plan.warmupS} s`);
    await cannon(target.url, { ...target.load, duration: plan.warmupS });
  }
  await options.warmedUp?.();
  const tallies = new Map<string, RoundTally>(
    targets.map((target) => [
      target.label,
      { seconds: 0, errors: 0, statuses: new Map(), times: [], rates: [], cpuMs: new Map() },
    ]),
  );
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      log(`${phase}: round ${round + 1}/${options.rounds}: ${target.label}, ${options.roundS} s`);
      const tally = tallies.get(target.label)!;
      const cpuBefore = readCpu();
      const result = await cannon(target.url, {
        ...target.load,
        duration: options.roundS,
        onResponse: (status, time) => {
          tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
          tally.times.push(time);
        },
      });
      for (const [role, ms] of cpuSpent(cpuBefore, readCpu())) {
        tally.cpuMs.set(role, (tally.cpuMs.get(role) ?? 0) + ms);
      }
      tally.seconds += result.duration;
      tally.errors += result.errors + result.timeouts;
      tally.rates.push(result.requests.total / result.duration);
    }
  }
  return tallies;
}

/** A tally's answers per second (all, and 2xx alone) and latency percentiles. */
export function roundFigures(tally: RoundTally) {
  const answers = tally.times.length;
  let ok = 0;
  for (const [status, n] of tally.statuses) if (status >= 200 && status < 300) ok += n;
  const sorted = [...tally.times].sort((x, y) => x - y);
  const seconds = tally.seconds || 1;
  return {
    answers,
    ok,
    non2xx: answers - ok,
    errors: tally.errors,
    statuses: tally.statuses,
    reqPerS: answers / seconds,
    okPerS: ok / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
  };
}

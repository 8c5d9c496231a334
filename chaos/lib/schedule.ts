/**
 * The chaos while the load runs: a worker killed (-9) and started again every few seconds, and
 * once each, the API and the callbacks service killed and restarted, Redis restarted empty and
 * Postgres stopped immediately and started again. Every event is logged with its time.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ChaosPlan } from "./plan";
import { log, type ManagedService } from "./stack";
import type { ChaosSystem } from "./system";

export interface ChaosEvent {
  /** Seconds since the chaos began. */
  at: number;
  iso: string;
  what: string;
  /** Seconds until the service (or server) was ready again. */
  downS: number;
  error?: string;
}

/** Runs the schedule until `stop()`; each one-off event happens once, even if the load ends first. */
export function startChaos(
  system: ChaosSystem,
  plan: ChaosPlan,
  expectedLoadMs: number,
): { events: ChaosEvent[]; stop(): Promise<void> } {
  const events: ChaosEvent[] = [];
  const began = performance.now();
  const record = async (what: string, action: () => Promise<void>) => {
    const at = (performance.now() - began) / 1000;
    const iso = new Date().toISOString();
    log(`t+${at.toFixed(1)} s: ${what}`);
    const started = performance.now();
    let error: string | undefined;
    try {
      await action();
    } catch (failure) {
      error = (failure as Error).message.split("\n")[0];
      log(`  ${what} failed: ${error}`);
    }
    const downS = (performance.now() - started) / 1000;
    log(`  ${what}: ready again after ${downS.toFixed(1)} s`);
    events.push({ at, iso, what, downS, ...(error ? { error } : {}) });
  };

  let stopping = false;
  let workersKilled = 0;
  const restarting = new Set<ManagedService>();
  const killWorker = (worker: ManagedService) => {
    workersKilled++;
    restarting.add(worker);
    void record(`kill -9 ${worker.name}, start it again`, () => worker.killAndRestart()).then(() =>
      restarting.delete(worker),
    );
  };
  const workerKills = (async () => {
    for (let n = 0; !stopping; n++) {
      await sleep(plan.workerKillEveryMs);
      if (stopping) break;
      // The next worker not still starting from its last kill (they take seconds to start).
      const worker = [...system.workers.keys()]
        .map((i) => system.workers[(n + i) % system.workers.length]!)
        .find((w) => !restarting.has(w));
      if (!worker) {
        log("every worker is still starting: no kill this time");
        continue;
      }
      killWorker(worker);
    }
  })();

  // At these shares of the load's expected length, one at a time.
  const oneOffs: Array<{ share: number; what: string; action: () => Promise<void> }> = [
    {
      share: 0.15,
      what: "kill -9 the API, start it again",
      action: () => system.api.killAndRestart(),
    },
    {
      share: 0.35,
      what: "kill -9 the callbacks service, start it again",
      action: () => system.callbacks.killAndRestart(),
    },
    { share: 0.55, what: "restart Redis empty", action: () => system.redis.restartEmpty() },
    {
      share: 0.75,
      what: "stop Postgres immediately, start it again",
      action: () => system.postgres.restartImmediately(),
    },
  ];
  let hurry = false;
  const oneOffsDone = (async () => {
    for (const event of oneOffs) {
      const wait = began + event.share * expectedLoadMs - performance.now();
      if (wait > 0 && !hurry) await Promise.race([sleep(wait), until(() => hurry)]);
      await record(event.what, event.action);
    }
  })();

  return {
    events,
    async stop() {
      hurry = true;
      await oneOffsDone;
      stopping = true;
      await workerKills;
      // A load shorter than the kills' interval (the short form's, on a fast day) still has one.
      if (workersKilled === 0) killWorker(system.workers[0]!);
      // A worker still starting from its last kill is left to finish.
      await until(() => restarting.size === 0);
      events.sort((a, b) => a.at - b.at);
    },
  };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(100);
}

/**
 * `npm run chaos [-- --short] [--tasks N] [--rate R] [--concurrency C] [--workers W] [--json F]`:
 * Ripen's services as separate processes on a private Postgres and Redis, a sandbox injecting
 * every provider's faults, clients creating tasks through all four doors and batches while
 * workers, the API and the callbacks service are killed (-9) and Redis and Postgres restarted.
 * After the drain it prints the figures that must be zero, the shares that succeeded, expired
 * and were refused at admission, and the targets; it exits 1 if any figure is not zero or a
 * target is missed. Everything it started is removed at the end, also on failure or Ctrl+C.
 */
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { useBuiltServices } from "../bench/lib/processes";
import { formatTable, int } from "../bench/lib/report";
import { tearDown } from "../bench/lib/teardown";
import {
  checkEverything,
  drain,
  type Figures,
  type ModelShares,
  sampleProviderHealth,
  settleDeliveries,
} from "./lib/checks";
import { type CreateResult, runLoad } from "./lib/client";
import { type CreateRequest, hasTimeout, planCreates } from "./lib/mix";
import { plan } from "./lib/plan";
import { startReceiver } from "./lib/receiver";
import { type ChaosEvent, startChaos } from "./lib/schedule";
import { log } from "./lib/stack";
import { type ChaosSystem, sandboxFaults, startSystem } from "./lib/system";

/** The issue's targets. */
const SUCCESS_TARGET = 0.97;

const ZERO_NAMES: Record<keyof Figures["zeros"], string> = {
  acknowledgedButLost: "tasks acknowledged but lost",
  tasksPerKeyAboveOne: "Idempotency-Keys with more than one task",
  tasksNotEnded: "tasks not ended after the drain",
  endingsAppliedTwice: "endings applied twice",
  upstreamSuccessesPaidTwice: "upstream successes paid twice",
  ledgerDrift: "ledger drift",
  creditsStillHeld: "credits still held",
  clientDeliveriesMissing: "client deliveries missing",
};

const tasksIn = (creates: readonly CreateRequest[]) =>
  creates.reduce((sum, create) => sum + create.models.length, 0);
const pct = (part: number, whole: number) =>
  whole === 0 ? "—" : `${((100 * part) / whole).toFixed(1)}%`;

/** Waits (bounded) until these tasks have all reached a provider or ended. */
async function untilSubmitted(system: ChaosSystem, ids: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await system.db.pool.query<{ n: number }>(
      "select count(*)::int as n from tasks where id = any($1::text[]) and status in ('queued', 'submitting')",
      [ids],
    );
    const waiting = rows[0]?.n ?? 0;
    if (waiting === 0) return;
    if (Date.now() > deadline) {
      log(`${waiting} door tasks still not submitted; starting the chaos anyway`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function main(): Promise<number> {
  const runStarted = performance.now();
  const header = [
    `Ripen chaos${plan.short ? " (--short)" : ""}, ${new Date().toISOString().slice(0, 16)}Z`,
    `machine: ${os.cpus().length} cores, Node ${process.version}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} at start`,
    `${int(plan.tasks)} tasks at ${plan.rate}/s offered, ${plan.concurrency} creates in flight at most, ${plan.workers} workers, timeout_seconds ${plan.timeoutSeconds} (native creates and batch items)`,
    `sandbox faults at every provider: ${JSON.stringify(sandboxFaults(plan).aivideoapi)}`,
  ];
  console.log(header.join("\n"));

  // The services run compiled, as in production: a killed one is back sooner than under tsx.
  log(`services compiled into dist/ in ${await useBuiltServices()} ms`);
  const system = await startSystem(plan);
  log(`started in ${((performance.now() - runStarted) / 1000).toFixed(1)} s`);
  const receiver = await startReceiver();
  const creates = planCreates({
    tasks: plan.tasks,
    runId: Date.now().toString(36),
    callbackBase: receiver.url,
    timeoutSeconds: plan.timeoutSeconds,
    batchSize: plan.short ? 20 : 40,
    doorsFirst: plan.doorsBeforeChaos,
  });
  const health = sampleProviderHealth(system.redis.url, system.prefix);
  const load = {
    apiUrl: system.apiUrl,
    keys: system.accounts.keys,
    rate: plan.rate,
    concurrency: plan.concurrency,
    giveUpMs: plan.short ? 60_000 : 300_000,
  };

  const results: CreateResult[] = [];
  let chaosCreates = creates;
  if (plan.doorsBeforeChaos) {
    const early = creates.filter((create) => !hasTimeout(create));
    chaosCreates = creates.filter(hasTimeout);
    log(
      `load: ${early.length} creates through the doors without timeout_seconds, before the chaos`,
    );
    results.push(...(await runLoad(load, early)));
    const ids = results.flatMap((r) =>
      r.outcome.state === "acknowledged" && r.outcome.taskId ? [r.outcome.taskId] : [],
    );
    await untilSubmitted(system, ids, 10_000);
  }
  const expectedLoadMs = (tasksIn(chaosCreates) / plan.rate) * 1000;
  log(`load: ${chaosCreates.length} creates (${int(tasksIn(chaosCreates))} tasks), chaos begins`);
  const chaos = startChaos(system, plan, expectedLoadMs);
  const loadStarted = performance.now();
  results.push(...(await runLoad(load, chaosCreates)));
  const loadEnded = performance.now();
  await chaos.stop();

  const sweepMs = plan.sweep?.everyMs ?? 15_000;
  const drained = await drain(system.db, sweepMs + 30_000);
  const drainS = (performance.now() - loadEnded) / 1000;
  log(
    `drain: ${drained.active} tasks active, ${drainS.toFixed(1)} s after the last create was answered`,
  );
  const pendingDeliveries = await settleDeliveries(system.db, plan.short ? 30_000 : 120_000);
  await health.stop();
  const figures = await checkEverything({
    db: system.db,
    sandboxUrl: system.sandboxUrl,
    results,
    receiver,
    samples: health.samples,
  });
  const sandboxStats = await (await fetch(`${system.sandboxUrl}/_sandbox/stats`)).json();

  const admitted = figures.shares.all.admitted;
  const successShare = admitted === 0 ? 0 : figures.shares.all.succeeded / admitted;
  const targets = {
    successShare,
    successPass: successShare >= SUCCESS_TARGET,
    expiredWhileHealthy: figures.expired.whileAProviderWasHealthy,
    expiredPass: figures.expired.whileAProviderWasHealthy === 0,
  };
  const zerosPass = Object.values(figures.zeros).every((n) => n === 0);
  const loadS = (loadEnded - loadStarted) / 1000;
  const runS = (performance.now() - runStarted) / 1000;

  console.log(
    [
      ...eventsTable(chaos.events),
      "",
      `load: ${int(results.length)} creates (${int(tasksIn(creates))} tasks) answered, ${int(
        results.reduce((sum, r) => sum + r.tries, 0),
      )} requests sent (retries included); the chaos part took ${loadS.toFixed(1)} s`,
      ...formatTable({
        title: "Must be zero",
        header: ["figure", "value", "what makes it up"],
        rows: Object.entries(figures.zeros).map(([name, value]) => [
          ZERO_NAMES[name as keyof Figures["zeros"]],
          int(value),
          figures.details[name] || "",
        ]),
      }),
      ...sharesTable(figures),
      "",
      `expired: ${figures.expired.total} (${figures.expired.whileAProviderWasHealthy} while a provider serving their model had its circuit closed throughout, ${figures.expired.whileEveryProviderWasOpen} while every one was open at some point); by last attempt: ${JSON.stringify(figures.expired.byLastAttempt)}`,
      ...figures.expired.byCause
        .slice(0, 12)
        .map(
          (group) =>
            `  ${int(group.tasks)} ${group.cause} (created ${group.createdFromS}–${group.createdToS} s into the run)`,
        ),
      `failed, by error code: ${JSON.stringify(figures.failedByCode)}`,
      `seconds from create to ending, by the provider of the last attempt: ${figures.durations
        .map(
          (d) =>
            `${d.provider} ${d.tasks} tasks p50 ${d.p50.toFixed(1)} p99 ${d.p99.toFixed(1)} max ${d.max.toFixed(1)}`,
        )
        .join("; ")}`,
      `client errors: ${figures.clientErrors.length === 0 ? "none" : ""}`,
      ...figures.clientErrors.map(
        (e) => `  ${e.n} × ${e.label}: ${e.status} ${e.code} ${e.message}`,
      ),
      `client deliveries by state: ${JSON.stringify(figures.deliveriesByState)}${pendingDeliveries ? ` (${pendingDeliveries} still pending at the check)` : ""}`,
      `sandbox: ${JSON.stringify(sandboxStats)}`,
      `time to drain: ${drainS.toFixed(1)} s after the last create was answered${drained.active ? ` (gave up with ${drained.active} active)` : ""}; the whole run ${runS.toFixed(0)} s`,
      "",
      `${targets.successPass ? "PASS" : "FAIL"} ≥ 97% of admitted tasks succeeded: ${pct(figures.shares.all.succeeded, admitted)} (${int(figures.shares.all.succeeded)} of ${int(admitted)})`,
      `${targets.expiredPass ? "PASS" : "FAIL"} 0 expired while a provider serving their model was healthy: ${targets.expiredWhileHealthy}`,
      `${zerosPass ? "PASS" : "FAIL"} every figure that must be zero is zero`,
    ].join("\n"),
  );

  if (plan.jsonPath) {
    await writeFile(
      plan.jsonPath,
      JSON.stringify(
        {
          plan,
          events: chaos.events,
          ...figures,
          targets,
          drain: { seconds: drainS, active: drained.active },
          runSeconds: runS,
        },
        null,
        2,
      ),
    );
  }
  return zerosPass && targets.successPass && targets.expiredPass ? 0 : 1;
}

function eventsTable(events: ChaosEvent[]): string[] {
  return formatTable({
    title: "Chaos events (t: seconds since the chaos began)",
    header: ["event", "t", "at (UTC)", "ready again after"],
    rows: events.map((e) => [
      e.error ? `${e.what} (failed: ${e.error})` : e.what,
      e.at.toFixed(1),
      e.iso.slice(11, 23),
      `${e.downS.toFixed(1)} s`,
    ]),
  });
}

function sharesTable(figures: Figures): string[] {
  const row = (s: ModelShares) => [
    s.model,
    int(s.creates),
    `${int(s.refused)} (${pct(s.refused, s.creates)})`,
    int(s.clientErrors),
    int(s.unanswered),
    int(s.admitted),
    `${int(s.succeeded)} (${pct(s.succeeded, s.admitted)})`,
    `${int(s.failed)} (${pct(s.failed, s.admitted)})`,
    `${int(s.expired)} (${pct(s.expired, s.admitted)})`,
    int(s.active),
  ];
  return formatTable({
    title: "What became of the tasks asked for (shares: refused of asked, the others of admitted)",
    header: [
      "model",
      "asked",
      "refused at admission",
      "client errors",
      "unanswered",
      "admitted",
      "succeeded",
      "failed",
      "expired",
      "active",
    ],
    rows: [...figures.shares.byModel.map(row), row(figures.shares.all)],
  });
}

let stopping = false;
async function finish(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    log("cleaning up");
    await tearDown();
  }
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    log(`${signal}: stopping`);
    void finish(130);
  });
}

try {
  await finish(await main());
} catch (error) {
  log(`chaos run failed: ${(error as Error).stack ?? error}`);
  await finish(1);
}

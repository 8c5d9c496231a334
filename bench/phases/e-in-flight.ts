import { cannon } from "../lib/cannon";
import type { Phase } from "../lib/context";
import { createAccounts } from "../lib/infra";
import { ACCOUNTS, LONG_GENERATION_MS, log, plan, quick } from "../lib/plan";
import { rssBytes } from "../lib/processes";
import { int, mib } from "../lib/report";
import { ACTIVE, describeCounts, sum } from "../lib/ripen";

/** Job hashes whose MEMORY USAGE is read, as a cross-check of the used_memory figure. */
const SAMPLED_JOBS = 200;

/**
 * Worker RSS and Redis memory per task with many tasks in flight (generation 1 h, callbacks
 * lost, so each waits on its delayed poll job). Redis is measured while they are all in flight:
 * used_memory's growth over the phase per active task (everything the tasks cost Redis: jobs,
 * delayed-set entries, events), and MEMORY USAGE of a sample of their job hashes.
 */
export const inFlight: Phase = {
  letter: "e",
  title: "tasks in flight",
  needs: { system: { generationMs: LONG_GENERATION_MS, callbackLossRate: 1 } },
  async run(ctx) {
    const { ripen, redis } = ctx;
    const workerPid = ripen.worker.pid;
    const accounts = await createAccounts(ripen.db, ACCOUNTS, "bench-e");
    const memory = async () => Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1]);
    const rssBefore = await rssBytes(workerPid);
    const redisBefore = await memory();
    log(`e: ${int(plan.inflight)} tasks, generation 1 h, callbacks lost`);
    let peak = rssBefore ?? 0;
    const sampler = setInterval(() => {
      void rssBytes(workerPid).then((rss) => {
        peak = Math.max(peak, rss ?? 0);
      });
    }, 250);
    const done = await (async () => {
      const created = await cannon(ripen.createUrl, { keys: accounts.keys, amount: plan.inflight });
      return ripen.settle(accounts, created["2xx"], ["running"], quick ? 40_000 : 120_000);
    })().finally(() => clearInterval(sampler));
    const rssAfter = await rssBytes(workerPid);
    peak = Math.max(peak, rssAfter ?? 0);
    const redisAfter = await memory();
    const active = sum(done.counts, ACTIVE);
    const perTask = (redisAfter - redisBefore) / Math.max(1, active);

    const { rows: sample } = await ripen.db.pool.query<{ id: string }>(
      "select id from tasks where account_id = any($1) and status = 'running' limit $2",
      [accounts.ids, SAMPLED_JOBS],
    );
    const sizes: number[] = [];
    for (const { id } of sample) {
      const bytes = await redis.call("MEMORY", "USAGE", `${ripen.prefix}:tasks:${id}`);
      if (typeof bytes === "number") sizes.push(bytes);
    }
    const jobHash = sizes.length
      ? `${int(sizes.reduce((a, b) => a + b, 0) / sizes.length)} (${sizes.length} sampled)`
      : "—";
    return {
      title: `${int(plan.inflight)} tasks in flight (sandbox generation 1 h, callbacks lost; worker concurrency 50)`,
      header: [
        "running",
        "other active",
        "worker RSS before",
        "after",
        "peak",
        "Redis used_memory Δ",
        "Redis bytes/task",
        "job hash bytes (MEMORY USAGE)",
      ],
      rows: [
        [
          int(done.counts.running ?? 0),
          int(active - (done.counts.running ?? 0)),
          mib(rssBefore),
          mib(rssAfter),
          mib(peak),
          mib(redisAfter - redisBefore),
          int(perTask),
          jobHash,
        ],
      ],
      notes: done.timedOut ? [`(stopped waiting: ${describeCounts(done.counts)})`] : [],
      measured: active > 0 ? { redisPerTask: { value: perTask } } : {},
    };
  },
};

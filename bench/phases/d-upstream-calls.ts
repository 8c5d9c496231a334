import { GENERATION_SAMPLES } from "@ripen/providers";
import { cannon } from "../lib/cannon";
import type { Phase } from "../lib/context";
import { createAccounts } from "../lib/infra";
import { ACCOUNTS, log, plan } from "../lib/plan";
import { int } from "../lib/report";
import { describeCounts, sum, TERMINAL } from "../lib/ripen";

const GENERATION_MS = 2_000;

/**
 * Upstream calls per task (submit + status, counted by the sandbox) at generation 2 s, with
 * callbacks delivered and with all of them lost. Each half is measured alone: one that fails is
 * noted, and the other's row still printed.
 */
export const upstreamCalls: Phase = {
  letter: "d",
  title: "upstream calls",
  needs: { system: { generationMs: GENERATION_MS, callbackLossRate: 0 } },
  async run(ctx) {
    const { ripen } = ctx;
    const rows: string[][] = [];
    const notes: string[] = [];
    let delivered: number | undefined;
    // The workers wait about a model's generation time before its first poll, learned from the
    // callbacks of its latest tasks (GENERATION_SAMPLES of them); the phases before ran at 0 s.
    // A model's generation time does not jump in production: its steady state is what counts.
    try {
      await ripen.sandbox.use({ generationMs: GENERATION_MS, callbackLossRate: 0 });
      const accounts = await createAccounts(ripen.db, ACCOUNTS, "bench-d-warmup");
      const warmup = GENERATION_SAMPLES + 10;
      log(`d: warm-up: ${warmup} tasks, so the workers learn the generation time`);
      const created = await cannon(ripen.createUrl, {
        keys: accounts.keys,
        amount: warmup,
        connections: 10,
      });
      await ripen.settle(accounts, created["2xx"], TERMINAL, 60_000);
      await ripen.queueDrained(40_000);
    } catch (error) {
      notes.push(`(warm-up failed — ${(error as Error).message.split("\n")[0]})`);
    }
    for (const [label, lossRate] of [
      ["callbacks delivered", 0],
      ["callbacks all lost", 1],
    ] as const) {
      try {
        await ripen.sandbox.use({ generationMs: GENERATION_MS, callbackLossRate: lossRate });
        const accounts = await createAccounts(ripen.db, ACCOUNTS, `bench-d${lossRate}`);
        log(`d: ${plan.callsTasks} tasks, generation 2 s, ${label}`);
        const before = await ripen.sandbox.stats();
        const created = await cannon(ripen.createUrl, {
          keys: accounts.keys,
          amount: plan.callsTasks,
          connections: 10,
        });
        const done = await ripen.settle(accounts, created["2xx"], TERMINAL, 60_000);
        await ripen.queueDrained(40_000);
        const after = await ripen.sandbox.stats();
        const tasks = sum(done.counts, TERMINAL) || 1;
        const submits = (after.submitCalls - before.submitCalls) / tasks;
        const statuses = (after.statusCalls - before.statusCalls) / tasks;
        if (lossRate === 0) delivered = submits + statuses;
        rows.push([
          label,
          int(tasks),
          submits.toFixed(2),
          statuses.toFixed(2),
          (submits + statuses).toFixed(2),
        ]);
        if (done.timedOut)
          notes.push(`(${label}: stopped waiting: ${describeCounts(done.counts)})`);
      } catch (error) {
        log(`d: ${label}: failed: ${(error as Error).message}`);
        notes.push(`(${label}: not measured — ${(error as Error).message.split("\n")[0]})`);
      }
    }
    return {
      title:
        "upstream calls per task (submit + status, from /_sandbox/stats), sandbox generation 2 s",
      header: ["callbacks", "tasks", "submit/task", "status/task", "total/task"],
      rows,
      notes,
      measured: delivered === undefined ? {} : { upstreamCalls: { value: delivered } },
    };
  },
};

import { cannon, reqPerS } from "../lib/cannon";
import type { Phase } from "../lib/context";
import { cpuByRole, cpuPerTask } from "../lib/cpu";
import { createAccounts, firstOf } from "../lib/infra";
import { ACCOUNTS, CONNECTIONS, log, plan } from "../lib/plan";
import { int, ms, ratio } from "../lib/report";

/**
 * Create-task alone, worker not running: keys spread over 10 accounts, then all on one (every
 * create then updates the same account row).
 */
export const createTask: Phase = {
  letter: "a",
  title: "create-task",
  needs: { baseline: true },
  async run(ctx) {
    const db = await ctx.createDatabase();
    const api = await ctx.startCreateApi("api (phase a)");
    try {
      const many = await createAccounts(db, ACCOUNTS, "bench-a");
      const base = ctx.baseline;
      const baseRate = reqPerS(base);
      const rows = [
        [
          "baseline: express, constant JSON",
          int(baseRate),
          ms(base.latency.p50),
          ms(base.latency.p99),
          int(base.non2xx),
          int(base.errors + base.timeouts),
          ratio(baseRate, baseRate),
        ],
      ];
      const shares: number[] = [];
      const notes: string[] = [];
      for (const [label, keys] of [
        [`Ripen, ${ACCOUNTS} accounts`, many.keys],
        ["Ripen, 1 account", firstOf(many).keys],
      ] as const) {
        const path = `${api.url}/v1/images/generations`;
        log(`a: ${label}: warm-up ${plan.warmupS} s, then ${plan.createS} s`);
        await cannon(path, { keys, duration: plan.warmupS });
        const cpuBefore = cpuByRole();
        const result = await cannon(path, { keys, duration: plan.createS });
        const cpu = cpuPerTask(cpuBefore, cpuByRole(), result.requests.total);
        notes.push(
          `${label}, CPU ms per create: ${cpu.map((row) => `${row.role} ${row.ms.toFixed(3)}`).join(", ")}`,
        );
        const rate = reqPerS(result);
        shares.push(rate / baseRate);
        rows.push([
          label,
          int(rate),
          ms(result.latency.p50),
          ms(result.latency.p99),
          int(result.non2xx),
          int(result.errors + result.timeouts),
          ratio(rate, baseRate),
        ]);
      }
      return {
        title: `create-task: ${CONNECTIONS} connections, ${plan.createS} s each (after ${plan.warmupS} s warm-up), worker not running`,
        header: ["target", "req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "vs baseline"],
        rows,
        notes,
        measured: { createsMany: { value: shares[0]! }, createsOne: { value: shares[1]! } },
      };
    } finally {
      await api.service.stop();
    }
  },
};

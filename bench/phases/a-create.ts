import type { Phase } from "../lib/context";
import { cpuPer } from "../lib/cpu";
import { benchDbName, createAccounts, firstOf } from "../lib/infra";
import { startNaiveApi } from "../lib/naive";
import { ACCOUNTS, CONNECTIONS, plan } from "../lib/plan";
import { int, ms, ratio } from "../lib/report";
import { alternatingRounds, roundFigures } from "../lib/rounds";

/**
 * Create-task alone, worker not running: keys spread over 10 accounts, then all on one (every
 * create then updates the same account row). Beside them, in rounds of alternating order, the
 * baseline and the naive pipeline's create (one pg transaction, then a BullMQ job): the ratios
 * compare loads measured side by side, not a baseline measured before the phase began.
 */
export const createTask: Phase = {
  letter: "a",
  title: "create-task",
  needs: {},
  async run(ctx) {
    const db = await ctx.createDatabase();
    const baseline = await ctx.startBaseline();
    const api = await ctx.startCreateApi("api (phase a)");
    const naive = await startNaiveApi(
      `${benchDbName}_create_naive`,
      ctx.redisTarget.url,
      ctx.queuePrefix("naive-create"),
      ACCOUNTS,
    );
    try {
      const many = await createAccounts(db, ACCOUNTS, "bench-a");
      const path = "/v1/images/generations";
      const target = (label: string, url: string, keys: string[]) => ({
        label,
        url,
        load: { keys },
      });
      const targets = [
        target("baseline: express, constant JSON", `${baseline.url}${path}`, []),
        target(`Ripen, ${ACCOUNTS} accounts`, `${api.url}${path}`, many.keys),
        target("Ripen, 1 account", `${api.url}${path}`, firstOf(many).keys),
        target(`naive create, ${ACCOUNTS} accounts`, naive.createUrl, naive.accounts.keys),
        target("naive create, 1 account", naive.createUrl, firstOf(naive.accounts).keys),
      ];
      const tallies = await alternatingRounds("a", targets, {
        rounds: plan.createRounds,
        roundS: plan.createRoundS,
      });
      // Each target's answer times sorted once, for its row and for the targets' ratios.
      const figures = new Map(
        targets.map(({ label }) => [label, roundFigures(tallies.get(label)!)]),
      );
      const base = tallies.get(targets[0]!.label)!;
      const baseRate = figures.get(targets[0]!.label)!.reqPerS;
      const shareOf = (label: string) => figures.get(label)!.reqPerS / baseRate;
      const rows = targets.map(({ label }) => {
        const tally = tallies.get(label)!;
        const f = figures.get(label)!;
        return [
          label,
          int(f.reqPerS),
          ms(f.p50),
          ms(f.p99),
          int(f.non2xx),
          int(f.errors),
          ratio(f.reqPerS, baseRate),
          tally.rates.map((rate, round) => ratio(rate, base.rates[round])).join(" / "),
        ];
      });
      const notes = targets.map(({ label }) => {
        const tally = tallies.get(label)!;
        const cpu = cpuPer(tally.cpuMs, tally.times.length);
        return `${label}, CPU ms per request: ${cpu.map((row) => `${row.role} ${row.ms.toFixed(3)}`).join(", ")}`;
      });
      return {
        title: `create-task: ${CONNECTIONS} connections, ${plan.createRounds} rounds of ${plan.createRoundS} s each in alternating order (after ${plan.warmupS} s warm-up), worker not running`,
        header: [
          "target",
          "req/s",
          "p50 ms",
          "p99 ms",
          "non-2xx",
          "errors",
          "vs baseline",
          "by round",
        ],
        rows,
        notes,
        measured: {
          createsMany: { value: shareOf(targets[1]!.label) },
          createsOne: { value: shareOf(targets[2]!.label) },
        },
      };
    } finally {
      await Promise.all([api.service.stop(), baseline.service.stop(), naive.api.stop()]);
    }
  },
};

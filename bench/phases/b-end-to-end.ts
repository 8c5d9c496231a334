import { setTimeout as sleep } from "node:timers/promises";
import { cannon } from "../lib/cannon";
import type { Phase } from "../lib/context";
import { cpuPerTask, readCpu } from "../lib/cpu";
import { type AccountSet, createAccounts } from "../lib/infra";
import { startNaive } from "../lib/naive";
import { ACCOUNTS, CONNECTIONS, log, plan, quick } from "../lib/plan";
import { int, ratio } from "../lib/report";
import { describeCounts, type SandboxStats, sum, TERMINAL } from "../lib/ripen";

type StatusCounts = (accountIds: string[]) => Promise<Record<string, number>>;

/**
 * End to end at the sandbox's generation 0: a fixed number of tasks created at 50 connections,
 * timed from the first create until all are settled in the database. Ripen, then the naive
 * pipeline (bench/naive/) measured the same way against the same sandbox, each with 10 accounts
 * and with one.
 */
export const endToEnd: Phase = {
  letter: "b",
  title: "end to end",
  needs: { baseline: true, system: { generationMs: 0, callbackLossRate: 0 } },
  async run(ctx) {
    const { ripen } = ctx;
    const baseRate = ctx.baseline.requests.total / ctx.baseline.duration;
    const rows: string[][] = [];
    const notes: string[] = [];
    const rates = new Map<string, number>();

    const measure = async (
      label: string,
      createUrl: string,
      accounts: AccountSet,
      statusCounts: StatusCounts,
      explain?: () => string,
      amount = plan.e2eTasks,
    ) => {
      log(`b: ${label}: ${amount} tasks, sandbox generation 0`);
      const before = await ripen.sandbox.stats();
      const cpuBefore = readCpu();
      // Both ends are timed from the answers and from polling the database while the load runs:
      // autocannon's own result arrives on its next one-second tick, which would otherwise count.
      let answered = 0;
      let accepted = 0;
      let createdAt = Number.NaN;
      let loadEnded = false;
      // A create refused or unanswered is a task the run does not count: say which and why.
      let unaccepted = 0;
      const report = (what: string) => {
        if (++unaccepted <= 5) log(`b: ${label}: a create ${what}`);
      };
      const started = performance.now();
      const load = cannon(createUrl, {
        keys: accounts.keys,
        amount,
        onResponse: (status) => {
          answered++;
          if (status >= 200 && status < 300) accepted++;
          if (answered === amount) createdAt = performance.now();
        },
        onRejected: (status, body) => report(`was answered ${status}: ${body.slice(0, 500)}`),
        onError: (error) => report(`got no answer: ${error.message}`),
      }).finally(() => {
        loadEnded = true;
      });
      const deadline = Date.now() + (quick ? 30_000 : 90_000);
      let counts: Record<string, number> = {};
      for (;;) {
        counts = await statusCounts(accounts.ids);
        const allAnswered = answered >= amount || loadEnded;
        if (allAnswered && sum(counts, TERMINAL) >= accepted) break;
        if (Date.now() > deadline) break;
        await sleep(50);
      }
      const settledAt = performance.now();
      await load;
      if (Number.isNaN(createdAt)) createdAt = settledAt;
      const createdIn = (createdAt - started) / 1000;
      const seconds = (settledAt - started) / 1000;
      const timedOut = sum(counts, TERMINAL) < accepted;
      const succeeded = counts.succeeded ?? 0;
      const rate = succeeded / seconds;
      rates.set(label, rate);
      const after = await ripen.sandbox.stats();
      const cpu = cpuPerTask(cpuBefore, readCpu(), accepted);
      notes.push(
        `${label}, CPU ms per task: ${cpu.map((row) => `${row.role} ${row.ms.toFixed(2)}`).join(", ")}`,
      );
      const perTask = (field: keyof SandboxStats) =>
        ((after[field] - before[field]) / Math.max(1, accepted)).toFixed(2);
      rows.push([
        label,
        int(accepted),
        createdIn.toFixed(1),
        seconds.toFixed(1),
        int(succeeded),
        int(rate),
        // Three digits: the figures sit far below the baseline, where two would read as 0.00.
        (rate / baseRate).toFixed(3),
        perTask("submitCalls"),
        perTask("statusCalls"),
      ]);
      if (unaccepted > 0) notes.push(`(${label}: ${unaccepted} creates not accepted; see the log)`);
      if (timedOut) {
        notes.push(`(${label}: stopped waiting: ${describeCounts(counts)})`);
        if (explain) log(`b: ${label} stalled; its processes printed:\n${explain()}`);
      }
      return rate / baseRate;
    };

    /**
     * A pipeline's first tasks pay for its processes' warm-up (JIT, lazy loading: about twice the
     * CPU per task of a warm run), which would fall on whichever row runs first: a run of
     * `e2eWarmupTasks` first, not reported. It ends with ANALYZE, as autovacuum would within a
     * minute of a database filling up: a statement's generic plan made while its tables were
     * empty (seq scans) is kept by each connection until the statistics change, so otherwise a
     * run's figures depend on whether autovacuum happened to analyze before it.
     */
    const warmUp = async (
      createUrl: string,
      accounts: AccountSet,
      statusCounts: StatusCounts,
      analyze: () => Promise<unknown>,
    ) => {
      const kept = { rows: rows.length, notes: notes.length };
      await measure("warm-up", createUrl, accounts, statusCounts, undefined, plan.e2eWarmupTasks);
      await analyze();
      rows.length = kept.rows;
      notes.length = kept.notes;
      rates.delete("warm-up");
    };

    await warmUp(
      ripen.createUrl,
      await createAccounts(ripen.db, ACCOUNTS, "bench-b-warm-up"),
      ripen.statusCounts,
      () => ripen.db.pool.query("analyze"),
    );
    const many = await createAccounts(ripen.db, ACCOUNTS, "bench-b");
    const one = await createAccounts(ripen.db, 1, "bench-b-one");
    const ripenMany = await measure(
      `Ripen, ${ACCOUNTS} accounts`,
      ripen.createUrl,
      many,
      ripen.statusCounts,
    );
    const ripenOne = await measure("Ripen, 1 account", ripen.createUrl, one, ripen.statusCounts);

    // The naive pipeline runs only now, and stops before the next phase: its processes do not
    // share the machine with Ripen's figures. If it cannot run, Ripen's figures still stand.
    try {
      const naive = await startNaive(
        ctx.redisTarget.url,
        ctx.queuePrefix("naive"),
        ripen.sandbox.url,
        // Those measured (10 and 1), and 10 more for the warm-up.
        2 * ACCOUNTS + 1,
      );
      try {
        const naiveAccounts = (from: number, to: number): AccountSet => ({
          ids: naive.accounts.ids.slice(from, to),
          keys: naive.accounts.keys.slice(from, to),
        });
        await warmUp(
          naive.createUrl,
          naiveAccounts(ACCOUNTS + 1, 2 * ACCOUNTS + 1),
          naive.statusCounts,
          naive.analyze,
        );
        await measure(
          `naive, ${ACCOUNTS} accounts`,
          naive.createUrl,
          naiveAccounts(0, ACCOUNTS),
          naive.statusCounts,
          naive.tails,
        );
        await measure(
          "naive, 1 account",
          naive.createUrl,
          naiveAccounts(ACCOUNTS, ACCOUNTS + 1),
          naive.statusCounts,
          naive.tails,
        );
      } finally {
        await naive.stop();
      }
    } catch (error) {
      log(`b: naive pipeline failed: ${(error as Error).message}`);
      notes.push(`(naive pipeline: not measured — ${(error as Error).message.split("\n")[0]})`);
    }
    const versus = (accounts: string) =>
      ratio(rates.get(`Ripen, ${accounts}`) ?? 0, rates.get(`naive, ${accounts}`));
    notes.push(
      `Ripen / naive, tasks/s: ${versus(`${ACCOUNTS} accounts`)} with ${ACCOUNTS} accounts, ${versus("1 account")} with one. ` +
        `The baseline: ${int(baseRate)} req/s in this run.`,
    );
    return {
      title: `end to end (create → worker → sandbox → callback → settled), sandbox generation 0, ${int(plan.e2eTasks)} tasks created at ${CONNECTIONS} connections`,
      header: [
        "pipeline",
        "tasks accepted",
        "created in s",
        "settled in s",
        "succeeded",
        "tasks/s",
        "vs baseline req/s",
        "submit calls/task",
        "status calls/task",
      ],
      rows,
      notes,
      measured: { e2eMany: { value: ripenMany }, e2eOne: { value: ripenOne } },
    };
  },
};

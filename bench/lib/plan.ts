/**
 * The command line (`npm run bench -- [--quick] [--workers=N] [--pgbouncer] [letters…]`) and
 * the sizes it implies, read once. Phases take their sizes from here, so `--quick` means the
 * same thing in every phase.
 */
export const quick = process.argv.includes("--quick");

/** Phase letters named on the command line; none means all. */
export const selected = process.argv
  .slice(2)
  .filter((arg) => !arg.startsWith("-"))
  .map((arg) => arg.toLowerCase());

/** `--workers=N`: worker processes in Ripen's system (default 1). */
export const workerCount = Number(
  process.argv.find((arg) => arg.startsWith("--workers="))?.slice("--workers=".length) ?? 1,
);
if (!Number.isInteger(workerCount) || workerCount < 1) {
  throw new Error(`--workers wants a whole number ≥ 1, got ${workerCount}`);
}
/**
 * `--pgbouncer`: Ripen's services reach Postgres through a PgBouncer of the bench's own, in
 * transaction mode (named statements if that PgBouncer keeps them, else unnamed).
 */
export const throughPgBouncer = process.argv.includes("--pgbouncer");

export const plan = quick
  ? {
      warmupS: 1,
      createS: 3,
      /** Phase a: rounds per target, in alternating order, and their length. */
      createRounds: 2,
      createRoundS: 1.5,
      doorRounds: 2,
      doorRoundS: 2,
      e2eTasks: 300,
      /** Phase b: tasks through each pipeline before its figures are taken. */
      e2eWarmupTasks: 300,
      callbackTasks: 50,
      /** Phase c: callbacks posted first, not counted, as the create phases warm up. */
      callbackWarmupTasks: 10,
      callsTasks: 100,
      inflight: 1_000,
      /** Phase f: a batch of this many items against this many interactive creates. */
      fairnessBatch: 500,
      fairnessInteractive: 20,
      /** Phase f: rounds of each (alone, then with a batch), pooled for the p99s. */
      fairnessRounds: 1,
      /** Phase h: one account's batch of this many items. */
      batchItems: 2_000,
    }
  : {
      warmupS: 2,
      createS: 10,
      createRounds: 2,
      createRoundS: 5,
      doorRounds: 2,
      doorRoundS: 5,
      e2eTasks: 2_000,
      e2eWarmupTasks: 2_000,
      callbackTasks: 200,
      callbackWarmupTasks: 20,
      callsTasks: 300,
      inflight: 10_000,
      fairnessBatch: 2_000,
      fairnessInteractive: 50,
      fairnessRounds: 3,
      batchItems: 10_000,
    };
export type Plan = typeof plan;

export const CONNECTIONS = 50;
export const ACCOUNTS = 10;
export const CREATE_BODY = JSON.stringify({
  model: "nano-banana-2",
  input: { prompt: "a benchmark cat" },
});
/** Long enough that nothing ends by itself during a phase. */
export const LONG_GENERATION_MS = 3_600_000;

export const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

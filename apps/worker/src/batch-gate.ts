/**
 * How many batch items' `task.run` steps one worker process runs at once, and so how many jobs
 * it takes from BullMQ.
 *
 * The queue's order (earliest due first, `step-order.ts` of `@ripen/queue`) only decides which job
 * a free slot takes next. A large
 * batch filled every slot, so an interactive task ran among `slots` batch steps sharing the
 * process's event loop and Postgres pool, and found every slot taken until enough of them ended.
 *
 * The gate keeps batch steps to `batchSlots` at once, and the worker's BullMQ concurrency to
 * `batchSlots` plus the interactive steps running (at most `slots`): a worker busy with a batch
 * holds only `batchSlots` jobs, so the next job BullMQ gives it when one of them ends (an
 * interactive one first) starts at once, and each interactive step that starts lets the worker
 * take one more job. A batch job taken beyond `batchSlots` (a slot an interactive step freed)
 * waits here, in arrival order, until a batch step ends.
 *
 * Batch steps also yield the machine to interactive work: while an interactive step runs, and
 * for `yieldMs` after the last one ends (its callback is then on its way), no batch step starts
 * beyond `yieldSlots`. Those already running go on. On two cores a batch's steps, with the
 * callbacks and Postgres work each one sets off, took the CPU an interactive burst needed: bench
 * f alternating with and without this, the interactive p99 with a 2,000-item batch over alone
 * was 1.00, 1.42, 1.33, 1.09 with it and 1.45, 1.71, 1.40, 1.35 without.
 */
export interface BatchGate {
  /**
   * Runs `step` now, or, for a batch item's with the batch steps allowed now running (`batchSlots`,
   * or `yieldSlots` beside interactive work), once one ends or the limit rises.
   */
  run<T>(batchItem: boolean, step: () => Promise<T>): Promise<T>;
  /** The jobs the worker should hold now: its BullMQ concurrency. */
  readonly wanted: number;
  /** Batch steps running now. */
  readonly running: number;
  /** Batch jobs waiting for one of them to end. */
  readonly waiting: number;
  /** Interactive steps running now. */
  readonly interactive: number;
}

export interface BatchGateOptions {
  /** The most task steps the worker runs at once (its `concurrency`). */
  slots: number;
  /** How many of them batch steps may take. */
  batchSlots: number;
  /**
   * The batch steps that may start while interactive work is in hand (a quarter of
   * `batchSlots`, at least 1).
   */
  yieldSlots?: number;
  /** How long after the last interactive step ends batch steps keep to `yieldSlots` (300 ms). */
  yieldMs?: number;
  /** Called with `wanted` whenever it changes (`worker.concurrency = wanted`). */
  resize?(wanted: number): void;
}

/**
 * About twice the p99 of an interactive task's accept-to-callback stage in bench f (47 to 134
 * ms alone): the batch waits out the callback its interactive steps are waiting for.
 */
const YIELD_MS = 300;

export function createBatchGate(options: BatchGateOptions): BatchGate {
  const { slots, batchSlots } = options;
  if (!Number.isInteger(batchSlots) || batchSlots < 1 || batchSlots > slots) {
    throw new Error(
      `The batch slots must be a whole number from 1 to ${slots} (got ${batchSlots}).`,
    );
  }
  const yieldSlots = options.yieldSlots ?? Math.max(1, Math.round(batchSlots / 4));
  if (!Number.isInteger(yieldSlots) || yieldSlots < 1 || yieldSlots > batchSlots) {
    throw new Error(
      `The batch slots beside interactive work must be a whole number from 1 to ${batchSlots} (got ${yieldSlots}).`,
    );
  }
  const yieldMs = options.yieldMs ?? YIELD_MS;
  let running = 0;
  let interactive = 0;
  const waiters: (() => void)[] = [];
  /** Set from the last interactive step's end until `yieldMs` later. */
  let yielding: NodeJS.Timeout | undefined;
  const batchLimit = () => (interactive > 0 || yielding ? yieldSlots : batchSlots);
  // Waiters start in arrival order while the limit allows; a lower limit only stops new starts.
  const admit = () => {
    while (waiters.length > 0 && running < batchLimit()) {
      running++;
      waiters.shift()!();
    }
  };
  const wanted = () => Math.min(slots, batchSlots + interactive);
  let told = wanted();
  const resize = () => {
    const now = wanted();
    if (now === told) return;
    told = now;
    options.resize?.(now);
  };
  const release = () => {
    running--;
    admit();
  };
  const interactiveEnded = () => {
    clearTimeout(yielding);
    yielding = setTimeout(() => {
      yielding = undefined;
      admit();
    }, yieldMs);
    // A worker shutting down does not wait for the batch's turn to come back.
    yielding.unref();
  };
  return {
    async run(batchItem, step) {
      if (!batchItem) {
        interactive++;
        resize();
        try {
          return await step();
        } finally {
          interactive--;
          resize();
          if (interactive === 0) interactiveEnded();
        }
      }
      if (running < batchLimit()) running++;
      else await new Promise<void>((resolve) => waiters.push(resolve));
      try {
        return await step();
      } finally {
        release();
      }
    },
    get wanted() {
      return wanted();
    },
    get running() {
      return running;
    },
    get waiting() {
      return waiters.length;
    },
    get interactive() {
      return interactive;
    },
  };
}

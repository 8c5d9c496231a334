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
 */
export interface BatchGate {
  /** Runs `step` now, or, for a batch item's with `batchSlots` batch steps running, once one ends. */
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
  /** Called with `wanted` whenever it changes (`worker.concurrency = wanted`). */
  resize?(wanted: number): void;
}

export function createBatchGate(options: BatchGateOptions): BatchGate {
  const { slots, batchSlots } = options;
  if (!Number.isInteger(batchSlots) || batchSlots < 1 || batchSlots > slots) {
    throw new Error(
      `The batch slots must be a whole number from 1 to ${slots} (got ${batchSlots}).`,
    );
  }
  let running = 0;
  let interactive = 0;
  const waiters: (() => void)[] = [];
  const wanted = () => Math.min(slots, batchSlots + interactive);
  let told = wanted();
  const resize = () => {
    const now = wanted();
    if (now === told) return;
    told = now;
    options.resize?.(now);
  };
  // The permit passes straight to the next waiter, so `running` never dips between two steps.
  const release = () => {
    const next = waiters.shift();
    if (next) next();
    else running--;
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
        }
      }
      if (running < batchSlots) running++;
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

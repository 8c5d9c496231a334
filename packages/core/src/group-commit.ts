/*
 * Group commit: calls that arrive while a statement is in flight are written together by the
 * next one, so a burst costs one statement, one set of row locks and one commit (one WAL flush)
 * instead of one each. Creates, endings and the worker's attempt steps all go through it.
 */

export interface GroupCommitOptions {
  /** Most items in one group (64). */
  maxBatch?: number;
  /**
   * Groups in flight at once (1): the next gathers while one is written. With two, the second
   * group under load was mostly one or two items, a statement and a commit each, on a machine
   * whose CPU was the limit (phase h: Postgres 3.94 against 2.26 ms per item with one).
   */
  maxInFlight?: number;
}

export interface GroupCommit<I, O> {
  /** Resolves with this item's answer from the group it was written in, or rejects alone. */
  run(item: I): Promise<O>;
  /** Groups of more than one written, and those that failed and were retried one by one. */
  readonly stats: { batches: number; fallbacks: number };
}

/** Items of a failed group written alone at once. */
const FALLBACK_CONCURRENCY = 4;

interface Pending<I, O> {
  item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

/**
 * `writeGroup` writes a group and returns each item's answer in the group's order. When it
 * fails (a short account, a lost connection, a deadlock), each item of the group is written by
 * `writeAlone`, so every caller gets exactly the answer it would have had alone.
 */
export function createGroupCommit<I, O>(
  writeGroup: (items: I[]) => Promise<O[]>,
  writeAlone: (item: I) => Promise<O>,
  options: GroupCommitOptions = {},
): GroupCommit<I, O> {
  const maxBatch = options.maxBatch ?? 64;
  const maxInFlight = options.maxInFlight ?? 1;
  const waiting: Pending<I, O>[] = [];
  let inFlight = 0;
  const stats = { batches: 0, fallbacks: 0 };
  const alone = (p: Pending<I, O>) => writeAlone(p.item).then(p.resolve, p.reject);

  async function write(group: Pending<I, O>[]): Promise<void> {
    if (group.length === 1) return alone(group[0]!);
    stats.batches++;
    let answers: O[];
    try {
      answers = await writeGroup(group.map((p) => p.item));
    } catch {
      stats.fallbacks++;
      // Which item caused it is unknown: each one alone gets its own answer. A few at a time: a
      // whole group at once would queue on the connection pool, and under load past its
      // connection timeout, failing requests that have nothing to do with the refusal.
      for (let i = 0; i < group.length; i += FALLBACK_CONCURRENCY) {
        await Promise.all(group.slice(i, i + FALLBACK_CONCURRENCY).map(alone));
      }
      return;
    }
    for (const [i, pending] of group.entries()) pending.resolve(answers[i]!);
  }

  function pump(): void {
    while (inFlight < maxInFlight && waiting.length > 0) {
      const group = waiting.splice(0, maxBatch);
      inFlight++;
      void write(group).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return {
    stats,
    run(item) {
      return new Promise<O>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        pump();
      });
    },
  };
}

import { randomUUID } from "node:crypto";
import type { TasksWaitingToStart } from "@ripen/core";
import type { RedisConnection } from "@ripen/infra";
import { queueNames } from "./queue-names";
import { INTERACTIVE_HORIZON_MS, priorityDueAt } from "./step-order";

/*
 * Ripen's own backlog, for admission control: how many task steps wait in the queue, and how
 * fast the workers take them. Each worker publishes its pace once a second; readers divide.
 */

/** How often a worker publishes its pace, and the window the pace is counted over. */
const PUBLISH_EVERY_MS = 1_000;
const PACE_WINDOW_MS = 5_000;
/**
 * A worker silent this long (killed, say) no longer counts. It publishes every second; a killed
 * one's last pace counted for 15 s had admission see twice the workers a chaos run had.
 */
const STALE_AFTER_MS = 4_000;

const loadKey = (prefix: string) => `${prefix}:${queueNames.tasks}:load`;

/**
 * Counts the task steps this worker starts and publishes its pace; `stop` removes it. The pace is
 * counted over the last seconds in which steps were waiting when the second began: then it is
 * what the worker can do, not merely what was asked of it (a burst after a quiet minute is not a
 * backlog, and its first seconds would read as a crawl). With no such second, it says so.
 */
export function startQueuePaceMeter(
  connection: RedisConnection,
  prefix: string,
  now: () => number = Date.now,
): { stepStarted(): void; stop(): Promise<void> } {
  const id = randomUUID();
  const seconds: { steps: number; saturated: boolean }[] = [];
  let stepsThisSecond = 0;
  let stepsWaiting = false;
  const timer = setInterval(() => {
    seconds.push({ steps: stepsThisSecond, saturated: stepsWaiting });
    if (seconds.length > PACE_WINDOW_MS / PUBLISH_EVERY_MS) seconds.shift();
    stepsThisSecond = 0;
    const busy = seconds.filter((second) => second.saturated);
    const steps = busy.reduce((sum, second) => sum + second.steps, 0);
    const perSecond = busy.length > 0 ? (steps * 1000) / (busy.length * PUBLISH_EVERY_MS) : 0;
    connection
      .multi()
      .hset(loadKey(prefix), id, `${perSecond}:${now()}:${busy.length > 0 ? 1 : 0}`)
      .pexpire(loadKey(prefix), 60_000)
      .llen(`${prefix}:${queueNames.tasks}:wait`)
      .zcard(`${prefix}:${queueNames.tasks}:prioritized`)
      .exec()
      .then((results) => {
        const [waiting, prioritized] = [results?.[2]?.[1], results?.[3]?.[1]];
        stepsWaiting = Number(waiting) > 0 || Number(prioritized) > 0;
      })
      .catch(() => {});
  }, PUBLISH_EVERY_MS);
  timer.unref();
  return {
    stepStarted: () => {
      stepsThisSecond++;
    },
    async stop() {
      clearInterval(timer);
      await connection.hdel(loadKey(prefix), id).catch(() => {});
    },
  };
}

export interface QueueLoad {
  /**
   * Steps due now that a new single create would wait behind: those queued to be due by the
   * interactive horizon (`INTERACTIVE_HORIZON_MS`), whatever their kind, and any unprioritized.
   */
  waiting: number;
  /** Steps due now but due later than that horizon (batch items with a later deadline). */
  prioritized: number;
  /**
   * Steps parked in the delayed set (polls, retries) that come due within each of a few
   * horizons, shortest first: they join the queue ahead of a create made now.
   */
  delayed: { withinMs: number; steps: number }[];
  /**
   * Steps the live workers start per second together, counted only from workers that had steps
   * waiting (their capacity, not the demand); null when none has said so.
   */
  stepsPerSecond: number | null;
}

/** The horizons at which the delayed steps coming due are counted. */
const DELAYED_HORIZONS_MS = [10_000, 30_000, 60_000, 120_000, 300_000, 900_000];

/** BullMQ's scores: a prioritized job's is priority × 2^32 (+ a counter), a delayed one's ms × 2^12. */
const PRIORITY_SCORE = 2 ** 32;
const DELAYED_SCORE = 2 ** 12;

/** Reads the queue's load: one round trip. */
export async function readQueueLoad(
  connection: RedisConnection,
  prefix: string,
  now: number = Date.now(),
): Promise<QueueLoad> {
  const base = `${prefix}:${queueNames.tasks}`;
  const horizon = priorityDueAt(now + INTERACTIVE_HORIZON_MS);
  // Past the priorities' wrap (every 24 days), every prioritized step counts as ahead.
  const wrapped = horizon < priorityDueAt(now);
  const [unprioritized, prioritized, dueByHorizon, paces, ...delayedWithin] = await Promise.all([
    connection.llen(`${base}:wait`),
    connection.zcard(`${base}:prioritized`),
    wrapped
      ? connection.zcard(`${base}:prioritized`)
      : connection.zcount(`${base}:prioritized`, 0, (horizon + 1) * PRIORITY_SCORE - 1),
    connection.hgetall(loadKey(prefix)),
    ...DELAYED_HORIZONS_MS.map((ms) =>
      connection.zcount(`${base}:delayed`, 0, (now + ms + 1) * DELAYED_SCORE - 1),
    ),
  ]);
  let stepsPerSecond: number | null = null;
  const gone: string[] = [];
  for (const [worker, value] of Object.entries(paces)) {
    const [pace, at, saturated] = value.split(":").map(Number);
    if (pace === undefined || at === undefined || now - at > STALE_AFTER_MS) {
      // A killed worker never removes its own entry; a minute on, nobody will count it again.
      if (at === undefined || now - at > 60_000) gone.push(worker);
      continue;
    }
    if (saturated === 1) stepsPerSecond = (stepsPerSecond ?? 0) + pace;
  }
  if (gone.length > 0) connection.hdel(loadKey(prefix), ...gone).catch(() => {});
  return {
    waiting: unprioritized + dueByHorizon,
    prioritized: prioritized - dueByHorizon,
    delayed: DELAYED_HORIZONS_MS.map((withinMs, i) => ({ withinMs, steps: delayedWithin[i] ?? 0 })),
    stepsPerSecond,
  };
}

/**
 * Reads Ripen's own backlog for admission control, robust to what the chaos run showed it blind
 * to: a Redis restarted empty has forgotten the queued jobs until the sweep enqueues them again,
 * so the waiting counts are at least Postgres's (`countWaiting`, when given); and when no worker
 * reports a fresh capacity (every one killed, starting, or idle), the last one this reader saw
 * stands in, since a queue nobody is taking from is no reason to admit everything.
 */
export function createQueueLoadReader(
  connection: RedisConnection,
  prefix: string,
  countWaiting?: () => Promise<TasksWaitingToStart>,
): () => Promise<QueueLoad> {
  let lastPace: number | null = null;
  return async () => {
    const [load, counted] = await Promise.all([
      readQueueLoad(connection, prefix),
      countWaiting?.(),
    ]);
    if (load.stepsPerSecond) lastPace = load.stepsPerSecond;
    return {
      ...load,
      waiting: Math.max(load.waiting, counted?.interactive ?? 0),
      prioritized: Math.max(load.prioritized, counted?.batch ?? 0),
      // No live worker with steps waiting (killed, starting, or idle): the last capacity seen.
      stepsPerSecond: load.stepsPerSecond ?? lastPace,
    };
  };
}

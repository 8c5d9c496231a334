import { randomUUID } from "node:crypto";
import type { TasksWaitingToStart } from "@ripen/core";
import type { RedisConnection } from "@ripen/infra";
import { queueNames } from "./queue-names";

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

/** Counts the task steps this worker starts and publishes its pace; `stop` removes it. */
export function startQueuePaceMeter(
  connection: RedisConnection,
  prefix: string,
  now: () => number = Date.now,
): { stepStarted(): void; stop(): Promise<void> } {
  const id = randomUUID();
  const starts: number[] = [];
  const timer = setInterval(() => {
    const at = now();
    while (starts.length > 0 && starts[0]! < at - PACE_WINDOW_MS) starts.shift();
    const perSecond = (starts.length * 1000) / PACE_WINDOW_MS;
    connection
      .multi()
      .hset(loadKey(prefix), id, `${perSecond}:${at}`)
      .pexpire(loadKey(prefix), 60_000)
      .exec()
      .catch(() => {});
  }, PUBLISH_EVERY_MS);
  timer.unref();
  return {
    stepStarted: () => starts.push(now()),
    async stop() {
      clearInterval(timer);
      await connection.hdel(loadKey(prefix), id).catch(() => {});
    },
  };
}

export interface QueueLoad {
  /** Steps of interactive tasks waiting for a worker (new creates first among them). */
  waiting: number;
  /** Steps of batch items waiting, behind every interactive one. */
  prioritized: number;
  /** Steps the live workers start per second together; null when none has said. */
  stepsPerSecond: number | null;
}

/** Reads the queue's load: one round trip (`LLEN`, `ZCARD`, `HGETALL`). */
export async function readQueueLoad(
  connection: RedisConnection,
  prefix: string,
  now: number = Date.now(),
): Promise<QueueLoad> {
  const base = `${prefix}:${queueNames.tasks}`;
  const [waiting, prioritized, paces] = await Promise.all([
    connection.llen(`${base}:wait`),
    connection.zcard(`${base}:prioritized`),
    connection.hgetall(loadKey(prefix)),
  ]);
  let stepsPerSecond: number | null = null;
  const gone: string[] = [];
  for (const [worker, value] of Object.entries(paces)) {
    const [pace, at] = value.split(":").map(Number);
    if (pace === undefined || at === undefined || now - at > STALE_AFTER_MS) {
      // A killed worker never removes its own entry; a minute on, nobody will count it again.
      if (at === undefined || now - at > 60_000) gone.push(worker);
      continue;
    }
    stepsPerSecond = (stepsPerSecond ?? 0) + pace;
  }
  if (gone.length > 0) connection.hdel(loadKey(prefix), ...gone).catch(() => {});
  return { waiting, prioritized, stepsPerSecond };
}

/**
 * Reads Ripen's own backlog for admission control, robust to what the chaos run showed it blind
 * to: a Redis restarted empty has forgotten the queued jobs until the sweep enqueues them again,
 * so the waiting counts are at least Postgres's (`countWaiting`, when given); and when no worker
 * has a fresh pace (every one killed or still starting), the last pace this reader saw stands in,
 * since a queue nobody is taking from is no reason to admit everything.
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
      waiting: Math.max(load.waiting, counted?.interactive ?? 0),
      prioritized: Math.max(load.prioritized, counted?.batch ?? 0),
      // Idle workers (a pace of 0) say nothing of their capacity: no figure, as before.
      stepsPerSecond: load.stepsPerSecond ?? lastPace,
    };
  };
}

import { randomUUID } from "node:crypto";
import type { TasksWaitingToStart } from "@ripen/core";
import type { RedisConnection } from "@ripen/infra";
import { queueNames } from "./queue-names";
import { INTERACTIVE_HORIZON_MS } from "./step-order";

/*
 * Ripen's own backlog, for admission control: how many tasks wait to be started (Postgres says),
 * and how fast the workers start them. Each worker publishes its pace once a second; readers
 * divide. Tasks, not steps: a 20,000-task chaos run's workers took 300 steps a second while tasks
 * started at 90 (a task's re-parks after a 429 or a busy provider and its polls are steps too),
 * and admission, dividing by steps, admitted a queue that took minutes to start.
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
 * Tasks started in one second by all workers together. Summed over `STARTED_WINDOW_S`, longer
 * than a chaos run's kill cycle (each of three workers killed every 15 s, down 7–10 s): the live
 * workers' paces summed at one instant said what they do while up, not what they do on average.
 */
const startedKey = (prefix: string, second: number) =>
  `${prefix}:${queueNames.tasks}:started:${second}`;
const STARTED_WINDOW_S = 30;
/**
 * The share of a pace admission trusts before the window has seen it: a 20,000-task chaos run
 * admitted its first minute's batches on the pace of its first, undisturbed seconds, when three
 * workers were up; once the kills began they started half as many, and 311 of those items
 * expired unsubmitted.
 */
const UNPROVEN_PACE_SHARE = 0.5;

/**
 * Counts the tasks this worker hands to a provider and publishes its pace; `stop` removes it. The
 * pace is counted over the last seconds in which steps were waiting when the second began: then
 * it is what the worker can do, not merely what was asked of it (a burst after a quiet minute is
 * not a backlog, and its first seconds would read as a crawl). With no such second, it says so.
 */
export function startQueuePaceMeter(
  connection: RedisConnection,
  prefix: string,
  now: () => number = Date.now,
): { taskStarted(): void; stop(): Promise<void> } {
  const id = randomUUID();
  const seconds: { started: number; saturated: boolean }[] = [];
  let startedThisSecond = 0;
  let stepsWaiting = false;
  const timer = setInterval(() => {
    seconds.push({ started: startedThisSecond, saturated: stepsWaiting });
    if (seconds.length > PACE_WINDOW_MS / PUBLISH_EVERY_MS) seconds.shift();
    startedThisSecond = 0;
    const busy = seconds.filter((second) => second.saturated);
    const started = busy.reduce((sum, second) => sum + second.started, 0);
    const perSecond = busy.length > 0 ? (started * 1000) / (busy.length * PUBLISH_EVERY_MS) : 0;
    // The second that ended counts toward the shared window only if steps were waiting at its
    // start (capacity, not demand); a second in which no worker was busy is left out.
    const ended = seconds.at(-1)!;
    const second = startedKey(prefix, Math.floor(now() / 1000) - 1);
    const write = connection
      .multi()
      .llen(`${prefix}:${queueNames.tasks}:wait`)
      .zcard(`${prefix}:${queueNames.tasks}:prioritized`)
      .hset(loadKey(prefix), id, `${perSecond}:${now()}:${busy.length > 0 ? 1 : 0}`)
      .pexpire(loadKey(prefix), 60_000);
    if (ended.saturated) {
      write.incrby(second, ended.started).pexpire(second, 2 * STARTED_WINDOW_S * 1000);
    }
    write
      .exec()
      .then((results) => {
        const [waiting, prioritized] = [results?.[0]?.[1], results?.[1]?.[1]];
        stepsWaiting = Number(waiting) > 0 || Number(prioritized) > 0;
      })
      .catch(() => {});
  }, PUBLISH_EVERY_MS);
  timer.unref();
  return {
    taskStarted: () => {
      startedThisSecond++;
    },
    async stop() {
      clearInterval(timer);
      await connection.hdel(loadKey(prefix), id).catch(() => {});
    },
  };
}

export interface QueueLoad {
  /**
   * Tasks waiting to be started that a new single create waits behind (the queue takes the
   * earliest due first): single creates, and batch items due within the interactive horizon.
   */
  waiting: number;
  /** Tasks waiting to be started that are due later (batch items). */
  later: number;
  /** Those by deadline, earliest first (`countTasksWaitingToStart`'s `batchByDeadline`). */
  laterByDeadline: TasksWaitingToStart["batchByDeadline"];
  /**
   * Tasks the live workers start per second together, counted only from workers that had steps
   * waiting (their capacity, not the demand); null when none has said so.
   */
  tasksPerSecond: number | null;
}

/**
 * The workers' pace (`startQueuePaceMeter`): the live ones' together, or, when lower, what all of
 * them started a second over the busy seconds among the last `STARTED_WINDOW_S` (kills and
 * restarts included). One round trip.
 */
async function readQueuePace(
  connection: RedisConnection,
  prefix: string,
  now: number = Date.now(),
): Promise<number | null> {
  const lastComplete = Math.floor(now / 1000) - 2;
  const window = Array.from({ length: STARTED_WINDOW_S }, (_, i) =>
    startedKey(prefix, lastComplete - i),
  );
  const [paces, started] = await Promise.all([
    connection.hgetall(loadKey(prefix)),
    connection.mget(...window),
  ]);
  const live = livePace(connection, prefix, paces, now);
  if (live === null) return null;
  const busySeconds = started.filter((count) => count !== null);
  // No busy second counted (a fresh or emptied Redis): the live workers' say, unproven.
  const measured =
    busySeconds.length === 0
      ? live
      : Math.min(
          live,
          busySeconds.reduce((sum, count) => sum + Number(count), 0) / busySeconds.length,
        );
  // A pace seen over fewer busy seconds than the window has not been seen through a worker's
  // kill and restart yet: it counts at half at first, in full once the window is covered.
  const seen = busySeconds.length / STARTED_WINDOW_S;
  return measured * (UNPROVEN_PACE_SHARE + (1 - UNPROVEN_PACE_SHARE) * seen);
}

function livePace(
  connection: RedisConnection,
  prefix: string,
  paces: Record<string, string>,
  now: number,
): number | null {
  let tasksPerSecond: number | null = null;
  const gone: string[] = [];
  for (const [worker, value] of Object.entries(paces)) {
    const [pace, at, saturated] = value.split(":").map(Number);
    if (pace === undefined || at === undefined || now - at > STALE_AFTER_MS) {
      // A killed worker never removes its own entry; a minute on, nobody will count it again.
      if (at === undefined || now - at > 60_000) gone.push(worker);
      continue;
    }
    if (saturated === 1) tasksPerSecond = (tasksPerSecond ?? 0) + pace;
  }
  if (gone.length > 0) connection.hdel(loadKey(prefix), ...gone).catch(() => {});
  return tasksPerSecond;
}

/**
 * Reads Ripen's own backlog for admission control: the tasks waiting to be started as Postgres
 * holds them (a Redis restarted empty forgets the queued jobs until the sweep enqueues them
 * again; Postgres does not), at the workers' pace; and when no worker reports a fresh capacity
 * (every one killed, starting, or idle), the last one this reader saw stands in, since a queue
 * nobody is taking from is no reason to admit everything.
 */
export function createQueueLoadReader(
  connection: RedisConnection,
  prefix: string,
  countWaiting: (horizonMs: number) => Promise<TasksWaitingToStart>,
): () => Promise<QueueLoad> {
  let lastPace: number | null = null;
  return async () => {
    const [pace, counted] = await Promise.all([
      readQueuePace(connection, prefix),
      countWaiting(INTERACTIVE_HORIZON_MS),
    ]);
    if (pace) lastPace = pace;
    return {
      waiting: counted.interactive,
      later: counted.batch,
      laterByDeadline: counted.batchByDeadline,
      // No live worker with steps waiting (killed, starting, or idle): the last capacity seen.
      tasksPerSecond: pace ?? lastPace,
    };
  };
}

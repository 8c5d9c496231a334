import { findTask, isActiveStatus, ServiceUnavailable } from "@ripen/core";
import { type Executor, type Task, type TaskEvent, taskEvents } from "@ripen/db";
import type { TaskEventSubscriber } from "@ripen/queue";
import { and, asc, desc, eq, gt, inArray, max } from "drizzle-orm";
import type { Response } from "express";
import type { Logger } from "pino";
import { toAivideoapiTask } from "./routes/native";
import { isWritable, startEventStream, writeHeartbeat } from "./sse";

export interface TaskEventStreamsOptions {
  db: Executor;
  /** This process's one pub/sub connection, shared by every stream. */
  subscriber: TaskEventSubscriber;
  logger: Logger;
  /** A comment line this often keeps proxies from closing an idle stream (15,000 ms). */
  heartbeatMs?: number;
  /**
   * How often open streams re-read their tasks' events whatever pub/sub said (5,000 ms): a hint
   * lost to a Redis hiccup or a publisher without Redis delays an event by at most this.
   */
  recheckMs?: number;
  /** Streams one process serves at most (10,000); past it a client gets a 503 and retries. */
  maxStreams?: number;
}

export interface TaskEventStreamsStats {
  streams: number;
  /** Tasks with at least one stream; each is one subscribed channel. */
  tasks: number;
  /** Whether the heartbeat and re-read timers run (only while a stream is open). */
  timers: boolean;
}

export interface TaskEventStreams {
  /**
   * Serves `task`'s events on `res` as server-sent events: those after `lastEventId` (all of
   * them without one), then each new one, until the task's terminal event, which ends the
   * stream. The caller has checked that the task is the caller's.
   */
  open(args: { res: Response; task: Task; lastEventId: number | null }): Promise<void>;
  stats(): TaskEventStreamsStats;
  /** Resolves once no stream is open and their channels are unsubscribed. */
  whenIdle(): Promise<void>;
  /** Ends every open stream (clients reconnect elsewhere with Last-Event-ID) and refuses new ones. */
  close(): Promise<void>;
}

/** The SSE event name of every transition; the data says which status it reached. */
export const TASK_EVENT_NAME = "status";

/** Events read per query; a task has a handful (one per transition), so one page is typical. */
const PAGE = 100;
/** Tasks whose latest event id one safety-net query asks for. */
const RECHECK_CHUNK = 500;

interface Stream {
  res: Response;
  watch: Watch;
  /** The id of the last event sent (or the client's Last-Event-ID). */
  lastId: number;
}

/** The streams of one task: they share one subscription and one read per change. */
interface Watch {
  taskId: string;
  /** The task as last read: its id, model and creation time, and once ended its outcome. */
  task: Task;
  streams: Set<Stream>;
  reading: boolean;
  /** A hint came while reading: read again. */
  again: boolean;
  stop(): Promise<void>;
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * One transition as the client sees it: the task query body as it stood after the transition
 * (`GET /v1/tasks/{id}`, native vocabulary), and the transition itself in Ripen's (`from`, `to`,
 * `source`, `at`, as in `/history`). Only a terminal event carries output or error, and the task
 * row's outcome is that event's, since a task ends once.
 */
export function taskEventData(task: Task, event: TaskEvent) {
  const state =
    isActiveStatus(event.toStatus) || task.status !== event.toStatus
      ? { ...task, status: event.toStatus }
      : task;
  return {
    ...toAivideoapiTask(state),
    transition: {
      id: event.id,
      from: event.fromStatus,
      to: event.toStatus,
      source: event.source,
      at: seconds(event.createdAt),
      ...(event.detail ? { detail: event.detail } : {}),
    },
  };
}

const frame = (task: Task, event: TaskEvent) =>
  `id: ${event.id}\nevent: ${TASK_EVENT_NAME}\ndata: ${JSON.stringify(taskEventData(task, event))}\n\n`;

/**
 * Live task status for one API process. Postgres is the truth: a stream sends `task_events`
 * rows with ids above the last one it sent. Redis pub/sub only says when to look (any process
 * may have committed the change), and a timer re-reads while streams are open in case a hint
 * was lost. Reading after the last id loses nothing because a task's transitions lock its row:
 * the next transition's event id is drawn only after the previous one committed.
 *
 * Memory per stream is fixed (its response and last id): events are read a page at a time and
 * written straight out, and one heartbeat timer and one re-read timer serve every stream.
 */
export function createTaskEventStreams(options: TaskEventStreamsOptions): TaskEventStreams {
  const { db, subscriber, logger } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const recheckMs = options.recheckMs ?? 5_000;
  const maxStreams = options.maxStreams ?? 10_000;

  const streams = new Set<Stream>();
  const watches = new Map<string, Watch>();
  const stopping = new Set<Promise<void>>();
  let idleWaiters: Array<() => void> = [];
  let heartbeat: NodeJS.Timeout | undefined;
  let recheck: NodeJS.Timeout | undefined;
  let rechecking = false;
  let closed = false;

  function startTimers(): void {
    heartbeat ??= setInterval(beat, heartbeatMs);
    recheck ??= setInterval(() => void recheckAll(), recheckMs);
    heartbeat.unref();
    recheck.unref();
  }

  function stopTimers(): void {
    clearInterval(heartbeat);
    clearInterval(recheck);
    heartbeat = undefined;
    recheck = undefined;
  }

  function detach(stream: Stream): void {
    if (!streams.delete(stream)) return;
    const { watch } = stream;
    watch.streams.delete(stream);
    if (watch.streams.size === 0 && watches.get(watch.taskId) === watch) {
      watches.delete(watch.taskId);
      const stopped = watch.stop().finally(() => stopping.delete(stopped));
      stopping.add(stopped);
    }
    if (streams.size === 0) {
      stopTimers();
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  function beat(): void {
    for (const stream of [...streams]) {
      if (!isWritable(stream.res)) detach(stream);
      else writeHeartbeat(stream.res);
    }
  }

  /** Writes the rows this stream has not had; the terminal one ends it. */
  function send(stream: Stream, rows: TaskEvent[], task: Task): void {
    for (const row of rows) {
      if (row.id <= stream.lastId) continue;
      if (!isWritable(stream.res)) {
        detach(stream);
        return;
      }
      stream.res.write(frame(task, row));
      stream.lastId = row.id;
      if (!isActiveStatus(row.toStatus)) {
        stream.res.end();
        detach(stream);
        return;
      }
    }
  }

  /** Sends every stream of the task what it has not had yet. */
  async function deliver(watch: Watch): Promise<void> {
    while (watch.streams.size > 0) {
      let after = Number.POSITIVE_INFINITY;
      for (const stream of watch.streams) after = Math.min(after, stream.lastId);
      const rows = await db
        .select()
        .from(taskEvents)
        .where(and(eq(taskEvents.taskId, watch.taskId), gt(taskEvents.id, after)))
        .orderBy(asc(taskEvents.id))
        .limit(PAGE);
      if (rows.length === 0) return;
      // Read after the events: a terminal event's task row committed with it.
      if (rows.some((row) => !isActiveStatus(row.toStatus))) {
        watch.task = (await findTask(db, watch.taskId)) ?? watch.task;
      }
      for (const stream of [...watch.streams]) send(stream, rows, watch.task);
      if (rows.length < PAGE) return;
    }
  }

  /** Reads the task's new events; hints arriving meanwhile fold into one more read. */
  async function refresh(watch: Watch): Promise<void> {
    if (watch.reading) {
      watch.again = true;
      return;
    }
    watch.reading = true;
    try {
      do {
        watch.again = false;
        await deliver(watch);
      } while (watch.again && watch.streams.size > 0);
    } catch (error) {
      logger.warn(
        { err: error, taskId: watch.taskId },
        "live status: reading task events failed; the next re-read tries again",
      );
    } finally {
      watch.reading = false;
    }
  }

  /** The safety net: one query per 500 watched tasks finds those with events a stream lacks. */
  async function recheckAll(): Promise<void> {
    if (rechecking) return;
    rechecking = true;
    try {
      const taskIds = [...watches.keys()];
      for (let i = 0; i < taskIds.length; i += RECHECK_CHUNK) {
        const latest = await db
          .select({ taskId: taskEvents.taskId, lastId: max(taskEvents.id) })
          .from(taskEvents)
          .where(inArray(taskEvents.taskId, taskIds.slice(i, i + RECHECK_CHUNK)))
          .groupBy(taskEvents.taskId);
        for (const { taskId, lastId } of latest) {
          const watch = watches.get(taskId);
          if (!watch || lastId === null) continue;
          if ([...watch.streams].some((stream) => stream.lastId < lastId)) void refresh(watch);
        }
      }
    } catch (error) {
      logger.warn({ err: error }, "live status: re-reading task events failed");
    } finally {
      rechecking = false;
    }
  }

  function watchOf(task: Task): Watch {
    const existing = watches.get(task.id);
    if (existing) return existing;
    const watch: Watch = {
      taskId: task.id,
      task,
      streams: new Set(),
      reading: false,
      again: false,
      stop: async () => {},
    };
    const subscription = subscriber.watch(task.id, () => void refresh(watch));
    watch.stop = subscription.stop;
    // A change committed between the first read and the subscription is caught by this one.
    void subscription.subscribed.then(() => refresh(watch));
    watches.set(task.id, watch);
    return watch;
  }

  return {
    async open({ res, task, lastEventId }) {
      if (closed) {
        throw new ServiceUnavailable("The server is shutting down; reconnect to follow the task.");
      }
      if (streams.size >= maxStreams) {
        throw new ServiceUnavailable("Too many live-status streams on this server; retry shortly.");
      }
      let after = lastEventId ?? 0;
      if (lastEventId !== null) {
        const [latest] = await db
          .select({ id: taskEvents.id, toStatus: taskEvents.toStatus })
          .from(taskEvents)
          .where(eq(taskEvents.taskId, task.id))
          .orderBy(desc(taskEvents.id))
          .limit(1);
        // An id past the task's last event (not one we sent) means "I have everything": without
        // the clamp, its stream would skip the task's end and never close.
        after = Math.min(lastEventId, latest?.id ?? 0);
        // The client has had the end: 204 is how SSE tells EventSource to stop reconnecting.
        if (latest && !isActiveStatus(latest.toStatus) && after === latest.id) {
          res.status(204).end();
          return;
        }
      }

      startEventStream(res);

      const watch = watchOf(task);
      const stream: Stream = { res, watch, lastId: after };
      streams.add(stream);
      watch.streams.add(stream);
      res.on("close", () => detach(stream));
      // The client may have gone while the task was read.
      if (!isWritable(res)) {
        detach(stream);
        return;
      }
      startTimers();
      await refresh(watch);
    },

    stats: () => ({ streams: streams.size, tasks: watches.size, timers: heartbeat !== undefined }),

    async whenIdle() {
      while (streams.size > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
      await Promise.all([...stopping]);
    },

    async close() {
      closed = true;
      for (const stream of [...streams]) {
        stream.res.end();
        detach(stream);
      }
      stopTimers();
    },
  };
}

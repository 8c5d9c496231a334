import {
  BatchNotFound,
  type BatchView,
  batchView,
  getBatchSummary,
  ServiceUnavailable,
} from "@ripen/core";
import type { Batch, Executor } from "@ripen/db";
import type { TaskEventSubscriber } from "@ripen/queue";
import type { Response } from "express";
import type { Logger } from "pino";
import { isWritable, startEventStream, writeHeartbeat } from "./sse";

export interface BatchEventStreamsOptions {
  db: Executor;
  /**
   * This process's pub/sub connection (the task streams' one): each item's ending is also a hint
   * on its batch's id (`afterCommit` in `@ripen/core`).
   */
  subscriber: TaskEventSubscriber;
  logger: Logger;
  clock?: { now(): Date };
  /** A comment line this often keeps proxies from closing an idle stream (15,000 ms). */
  heartbeatMs?: number;
  /**
   * How often open streams re-read their batches whatever pub/sub said (5,000 ms): items that
   * start (queued → running) send no batch hint, and a hint may be lost to a Redis hiccup.
   */
  recheckMs?: number;
  /**
   * The shortest time between two reads of one batch (500 ms): a large batch's items end in
   * bursts, and each read counts all its items, so a burst of hints folds into one read.
   */
  minReadIntervalMs?: number;
  /** Streams one process serves at most (10,000); past it a client gets a 503 and retries. */
  maxStreams?: number;
}

export interface BatchEventStreamsStats {
  streams: number;
  /** Batches with at least one stream; each is one subscribed channel. */
  batches: number;
}

export interface BatchEventStreams {
  /**
   * Serves `batch`'s summary on `res` as server-sent events: at once, then whenever its counts
   * or state change, until it shows the batch ended, which ends the stream. The caller has
   * checked that the batch is the caller's.
   */
  open(args: { res: Response; batch: Batch }): Promise<void>;
  stats(): BatchEventStreamsStats;
  /** Ends every open stream (clients reconnect elsewhere) and refuses new ones. */
  close(): Promise<void>;
}

/** The SSE event name of a batch's state; its data is `GET /v1/batches/{id}`'s data. */
export const BATCH_EVENT_NAME = "batch";

interface Stream {
  res: Response;
  watch: Watch;
  /** What the last event this stream got showed (`changeKey`), null before the first. */
  sent: string | null;
}

/** The streams of one batch: they share one subscription and one read per change. */
interface Watch {
  batchId: string;
  accountId: string;
  streams: Set<Stream>;
  reading: boolean;
  /** A hint came while reading: read again. */
  again: boolean;
  lastReadAt: number;
  stop(): Promise<void>;
}

/** What an event is sent for: `elapsed_ms` moves by itself and is not a change. */
const changeKey = (view: BatchView) =>
  JSON.stringify([view.state, view.counts, view.credits, view.ended_at]);

const frame = (view: BatchView) => `event: ${BATCH_EVENT_NAME}\ndata: ${JSON.stringify(view)}\n\n`;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Live batch progress for one API process, built like the task streams (task-event-streams.ts):
 * Postgres is the truth (each read is the batch's summary, as `GET /v1/batches/{id}` reads it),
 * Redis pub/sub only says when to look (an item of the batch ended, in any process), and a timer
 * re-reads while streams are open for the changes no hint announces. Every stream of a batch
 * shares its subscription and its reads.
 */
export function createBatchEventStreams(options: BatchEventStreamsOptions): BatchEventStreams {
  const { db, subscriber, logger } = options;
  const clock = options.clock ?? { now: () => new Date() };
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const recheckMs = options.recheckMs ?? 5_000;
  const minReadIntervalMs = options.minReadIntervalMs ?? 500;
  const maxStreams = options.maxStreams ?? 10_000;

  const streams = new Set<Stream>();
  const watches = new Map<string, Watch>();
  let heartbeat: NodeJS.Timeout | undefined;
  let recheck: NodeJS.Timeout | undefined;
  let closed = false;

  function startTimers(): void {
    heartbeat ??= setInterval(beat, heartbeatMs);
    recheck ??= setInterval(() => {
      for (const watch of watches.values()) void refresh(watch);
    }, recheckMs);
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
    if (watch.streams.size === 0 && watches.get(watch.batchId) === watch) {
      watches.delete(watch.batchId);
      void watch.stop();
    }
    if (streams.size === 0) stopTimers();
  }

  function end(stream: Stream): void {
    stream.res.end();
    detach(stream);
  }

  function beat(): void {
    for (const stream of [...streams]) {
      if (!isWritable(stream.res)) detach(stream);
      else writeHeartbeat(stream.res);
    }
  }

  /** Reads the batch once and sends each stream the summary if it shows something new. */
  async function deliver(watch: Watch): Promise<void> {
    let view: BatchView;
    try {
      view = batchView(await getBatchSummary(db, watch.accountId, watch.batchId, clock.now()));
    } catch (error) {
      // Batches are never deleted; should one vanish, its streams have nothing more to say.
      if (!(error instanceof BatchNotFound)) throw error;
      for (const stream of [...watch.streams]) end(stream);
      return;
    }
    const key = changeKey(view);
    for (const stream of [...watch.streams]) {
      if (!isWritable(stream.res)) {
        detach(stream);
        continue;
      }
      if (stream.sent !== key) {
        stream.res.write(frame(view));
        stream.sent = key;
      }
      if (view.state !== "running") end(stream);
    }
  }

  /** Reads the batch; hints arriving meanwhile fold into one more read. */
  async function refresh(watch: Watch): Promise<void> {
    if (watch.reading) {
      watch.again = true;
      return;
    }
    watch.reading = true;
    try {
      do {
        watch.again = false;
        const wait = watch.lastReadAt + minReadIntervalMs - Date.now();
        if (wait > 0) await sleep(wait);
        watch.lastReadAt = Date.now();
        if (watch.streams.size > 0) await deliver(watch);
      } while (watch.again && watch.streams.size > 0);
    } catch (error) {
      logger.warn(
        { err: error, batchId: watch.batchId },
        "live batch progress: reading the batch failed; the next re-read tries again",
      );
    } finally {
      watch.reading = false;
    }
  }

  function watchOf(batch: Batch): Watch {
    const existing = watches.get(batch.id);
    if (existing) return existing;
    const watch: Watch = {
      batchId: batch.id,
      accountId: batch.accountId,
      streams: new Set(),
      reading: false,
      again: false,
      lastReadAt: 0,
      stop: async () => {},
    };
    const subscription = subscriber.watch(batch.id, () => void refresh(watch));
    watch.stop = subscription.stop;
    // An item that ended between the first read and the subscription is caught by this one.
    void subscription.subscribed.then(() => refresh(watch));
    watches.set(batch.id, watch);
    return watch;
  }

  return {
    async open({ res, batch }) {
      if (closed) {
        throw new ServiceUnavailable("The server is shutting down; reconnect to follow the batch.");
      }
      if (streams.size >= maxStreams) {
        throw new ServiceUnavailable(
          "Too many live-progress streams on this server; retry shortly.",
        );
      }
      startEventStream(res);
      const watch = watchOf(batch);
      const stream: Stream = { res, watch, sent: null };
      streams.add(stream);
      watch.streams.add(stream);
      res.on("close", () => detach(stream));
      // The client may have gone while the batch was read.
      if (!isWritable(res)) {
        detach(stream);
        return;
      }
      startTimers();
      await refresh(watch);
    },

    stats: () => ({ streams: streams.size, batches: watches.size }),

    async close() {
      closed = true;
      for (const stream of [...streams]) end(stream);
      stopTimers();
    },
  };
}

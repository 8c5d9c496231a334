import {
  creditsHeld,
  dbPoolConnections,
  providerCircuit,
  providerPaused,
  queueJobs,
  queueOldestWaiting,
  queueWait,
  redisUp,
} from "./definitions";
import { cached, type Refresh } from "./serve";

// Each source is typed by the shape it reads (a BullMQ Queue, a pg Pool, an ioredis client...),
// so this package depends on none of them.

/** What `readQueueDepths` (`@ripen/queue`) reads of each queue. */
export interface QueueDepthLike {
  name: string;
  counts: Record<string, number>;
  oldestWaitingMs: number | null;
}

/** Depth per state and the oldest waiting job's age, per queue (read at scrape, cached 1 s). */
export function queueSource(read: () => Promise<readonly QueueDepthLike[]>): Refresh {
  return cached(async () => {
    for (const queue of await read()) {
      for (const [state, count] of Object.entries(queue.counts)) {
        queueJobs.set({ queue: queue.name, state }, count);
      }
      queueOldestWaiting.set({ queue: queue.name }, (queue.oldestWaitingMs ?? 0) / 1000);
    }
  });
}

/**
 * How long a job waited for a worker: from when it was due (added, or its delay passed) to now,
 * observed at its first run only. A step a task re-parks (a poll, a retry) records its new due
 * time nowhere BullMQ keeps, so its later runs are not counted rather than counted wrongly.
 */
export function observeJobWait(
  queue: string,
  job: { timestamp: number; delay?: number; attemptsStarted?: number },
  nowMs = Date.now(),
): void {
  if ((job.attemptsStarted ?? 1) > 1) return;
  const dueAt = job.timestamp + (job.delay ?? 0);
  queueWait.observe({ queue }, Math.max(0, nowMs - dueAt) / 1000);
}

interface PoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** A pg pool's connections: total, idle, and clients waiting for one (saturation). */
export function poolSource(pool: string, source: PoolLike): Refresh {
  return async () => {
    dbPoolConnections.set({ pool, state: "total" }, source.totalCount);
    dbPoolConnections.set({ pool, state: "idle" }, source.idleCount);
    dbPoolConnections.set({ pool, state: "waiting" }, source.waitingCount);
  };
}

/** 1 while the connection is ready (ioredis's `status`). */
export function redisSource(redis: { status: string }): Refresh {
  return async () => {
    redisUp.set(redis.status === "ready" ? 1 : 0);
  };
}

interface ProviderStateLike {
  openForMs: number;
  pausedForMs: number;
  tripped: boolean;
}

/**
 * Each provider's circuit from the shared health (Redis): open while it has time left open;
 * half-open when that time is over but no success has closed it since failures opened it; else
 * closed.
 */
export function circuitSource(
  providerIds: readonly string[],
  states: (ids: readonly string[]) => Promise<ReadonlyMap<string, ProviderStateLike>>,
): Refresh {
  return cached(async () => {
    const read = await states(providerIds);
    for (const provider of providerIds) {
      const state = read.get(provider);
      const circuit = state && state.openForMs > 0 ? 2 : state?.tripped ? 1 : 0;
      providerCircuit.set({ provider }, circuit);
      providerPaused.set({ provider }, (state?.pausedForMs ?? 0) / 1000);
    }
  });
}

/** Credits held over every account (Postgres), read once a second at most. */
export function creditsHeldSource(read: () => Promise<number>): Refresh {
  return cached(async () => {
    creditsHeld.set(await read());
  });
}

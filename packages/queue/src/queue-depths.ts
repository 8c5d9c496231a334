import type { Queue } from "bullmq";

/** The states a queue's depth counts: jobs not yet done, and those that failed for good. */
export const QUEUE_DEPTH_STATES = [
  "waiting",
  "prioritized",
  "active",
  "delayed",
  "failed",
] as const;
export type QueueDepthState = (typeof QUEUE_DEPTH_STATES)[number];

export interface QueueDepth {
  name: string;
  counts: Record<QueueDepthState, number>;
  /** Completed jobs BullMQ still keeps (each job's `removeOnComplete` bounds them). */
  completed: number;
  /** How long the oldest job waiting to run has been due; null when none waits. */
  oldestWaitingMs: number | null;
}

/**
 * Each queue's jobs per state and its oldest waiting job's age: one read per queue, for the
 * operator's console and the metrics alike.
 */
export async function readQueueDepths(
  queues: readonly Pick<Queue, "name" | "getJobCounts" | "getJobs">[],
  nowMs = Date.now(),
): Promise<QueueDepth[]> {
  return Promise.all(
    queues.map(async (queue) => {
      const [counts, firsts] = await Promise.all([
        queue.getJobCounts(...QUEUE_DEPTH_STATES, "completed"),
        // The head of each list, oldest first: the older of the two is the queue's oldest.
        queue.getJobs(["wait", "prioritized"], 0, 0, true),
      ]);
      const dueTimes = firsts.flatMap((job) => (job ? [job.timestamp + (job.delay ?? 0)] : []));
      const oldest = dueTimes.length > 0 ? Math.min(...dueTimes) : undefined;
      return {
        name: queue.name,
        counts: Object.fromEntries(QUEUE_DEPTH_STATES.map((s) => [s, counts[s] ?? 0])) as Record<
          QueueDepthState,
          number
        >,
        completed: counts.completed ?? 0,
        oldestWaitingMs: oldest === undefined ? null : Math.max(0, nowMs - oldest),
      };
    }),
  );
}

import type { RedisConnection } from "@ripen/queue";

/**
 * The keys of the tasks started in each of the last 40 seconds: more than the window admission
 * reads, so a second ending between a write and a read changes nothing.
 */
export function startedKeys(prefix: string): string[] {
  const second = Math.floor(Date.now() / 1000);
  return Array.from({ length: 40 }, (_, i) => `${prefix}:tasks:started:${second - i}`);
}

/**
 * What a (pretend) worker with steps waiting publishes, and what the workers started in each of
 * the last busy seconds (by default, the same pace, seen over the whole window); then waits past
 * the half second for which an API process keeps what it read.
 */
export async function publishQueuePace(
  redis: RedisConnection,
  prefix: string,
  tasksPerSecond: number,
  startedPerSecond: number | null = tasksPerSecond,
): Promise<void> {
  await redis.hset(`${prefix}:tasks:load`, "pretend-worker", `${tasksPerSecond}:${Date.now()}:1`);
  await redis.del(...startedKeys(prefix));
  if (startedPerSecond !== null) {
    for (const key of startedKeys(prefix)) {
      await redis.set(key, String(startedPerSecond), "EX", 60);
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 600));
}

import { TASK_EVENTS_CHANNEL, type TaskEventNotice } from "@ripen/core";
import type { DbHandle } from "@ripen/db";
import { type TaskStatus, tasks } from "@ripen/db";
import { eq } from "drizzle-orm";

/**
 * Resolves when the task reaches one of `statuses`, by listening to the transition notices the
 * database sends at commit (no polling, no sleeping). Rejects after `timeoutMs` with what it saw.
 */
export async function waitForTask(
  handle: DbHandle,
  taskId: string,
  statuses: readonly TaskStatus[],
  timeoutMs = 15_000,
): Promise<TaskStatus> {
  const client = await handle.pool.connect();
  let onNotice: ((message: { channel: string; payload?: string }) => void) | undefined;
  try {
    const reached = new Promise<TaskStatus>((resolve) => {
      onNotice = (message) => {
        if (message.channel !== TASK_EVENTS_CHANNEL || !message.payload) return;
        const notice = JSON.parse(message.payload) as TaskEventNotice;
        if (notice.taskId === taskId && statuses.includes(notice.status)) resolve(notice.status);
      };
      client.on("notification", onNotice);
    });
    await client.query(`listen ${TASK_EVENTS_CHANNEL}`);
    // Listening now; a transition that committed before this read is seen by the read.
    const [row] = await handle.db
      .select({ status: tasks.status })
      .from(tasks)
      .where(eq(tasks.id, taskId));
    if (row && statuses.includes(row.status)) return row.status;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(async () => {
        const [now] = await handle.db
          .select({ status: tasks.status })
          .from(tasks)
          .where(eq(tasks.id, taskId));
        reject(
          new Error(
            `task ${taskId} did not reach ${statuses.join("|")} in ${timeoutMs} ms (it is ${now?.status})`,
          ),
        );
      }, timeoutMs);
    });
    try {
      return await Promise.race([reached, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    if (onNotice) client.off("notification", onNotice);
    await client.query(`unlisten ${TASK_EVENTS_CHANNEL}`).catch(() => {});
    client.release();
  }
}

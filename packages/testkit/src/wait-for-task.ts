import type { DbHandle } from "@ripen/db";
import { type TaskStatus, tasks } from "@ripen/db";
import { eq } from "drizzle-orm";

/**
 * Channel of the test-only trigger `createTestDatabase` installs on `task_events`: Ripen itself
 * sends no NOTIFY (it serializes commits), but a test can await a transition this way.
 */
export const TEST_TASK_EVENTS_CHANNEL = "ripen_test_task_events";

/** SQL installing that trigger in a test database. */
export const testNotifyTriggerSql = `
  create function ripen_test_notify() returns trigger language plpgsql as $$
  begin
    perform pg_notify('${TEST_TASK_EVENTS_CHANNEL}',
      json_build_object('taskId', new.task_id, 'status', new.to_status)::text);
    return new;
  end $$;
  create trigger ripen_test_notify after insert on task_events
    for each row execute function ripen_test_notify();`;

/**
 * Resolves when the task reaches one of `statuses`, by listening to the transition notices the
 * test database sends at commit (no polling, no sleeping). Rejects after `timeoutMs` with what it
 * saw.
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
        if (message.channel !== TEST_TASK_EVENTS_CHANNEL || !message.payload) return;
        const notice = JSON.parse(message.payload) as { taskId: string; status: TaskStatus };
        if (notice.taskId === taskId && statuses.includes(notice.status)) resolve(notice.status);
      };
      client.on("notification", onNotice);
    });
    await client.query(`listen ${TEST_TASK_EVENTS_CHANNEL}`);
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
    await client.query(`unlisten ${TEST_TASK_EVENTS_CHANNEL}`).catch(() => {});
    client.release();
  }
}

import { EventEmitter } from "node:events";
import type { DbHandle } from "@ripen/db";
import { type TaskStatus, tasks } from "@ripen/db";
import { eq } from "drizzle-orm";
import pg from "pg";

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

/** What a test database's transition notices look like, keyed by task id. */
export type TransitionNotices = EventEmitter<Record<string, [TaskStatus]>>;

/**
 * Resolves when the task reaches one of `statuses`, by listening to the transition notices the
 * test database sends at commit (no polling, no sleeping). All waiters of a database share one
 * listening connection (`notices`), so waiting never takes connections from the pool the system
 * under test uses. Rejects after `timeoutMs` with what it saw.
 */
export async function waitForTask(
  handle: DbHandle & { notices(): Promise<TransitionNotices> },
  taskId: string,
  statuses: readonly TaskStatus[],
  timeoutMs = 15_000,
): Promise<TaskStatus> {
  const notices = await handle.notices();
  let onNotice: ((status: TaskStatus) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const reached = new Promise<TaskStatus>((resolve) => {
      onNotice = (status) => {
        if (statuses.includes(status)) resolve(status);
      };
      notices.on(taskId, onNotice);
    });
    // Listening now; a transition that committed before this read is seen by the read.
    const statusNow = async () =>
      (await handle.db.select({ status: tasks.status }).from(tasks).where(eq(tasks.id, taskId)))[0]
        ?.status;
    const current = await statusNow();
    if (current && statuses.includes(current)) return current;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(async () => {
        reject(
          new Error(
            `task ${taskId} did not reach ${statuses.join("|")} in ${timeoutMs} ms (it is ${await statusNow()})`,
          ),
        );
      }, timeoutMs);
    });
    return await Promise.race([reached, timedOut]);
  } finally {
    clearTimeout(timer);
    if (onNotice) notices.off(taskId, onNotice);
  }
}

/** Opens the one connection that listens for a test database's transition notices. */
export async function listenForTransitions(
  connectionString: string,
): Promise<{ notices: TransitionNotices; close(): Promise<void> }> {
  const client = new pg.Client({ connectionString });
  // The database is dropped with this connection open (drop … with force): not an error.
  client.on("error", () => {});
  await client.connect();
  const notices: TransitionNotices = new EventEmitter();
  notices.setMaxListeners(0);
  client.on("notification", (message) => {
    if (message.channel !== TEST_TASK_EVENTS_CHANNEL || !message.payload) return;
    const notice = JSON.parse(message.payload) as { taskId: string; status: TaskStatus };
    notices.emit(notice.taskId, notice.status);
  });
  await client.query(`listen ${TEST_TASK_EVENTS_CHANNEL}`);
  return { notices, close: () => client.end().catch(() => {}) };
}

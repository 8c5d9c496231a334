import { type Executor, pgClientOf, terminalTaskStatuses } from "@ripen/db";

export interface EndingCount {
  taskId: string;
  status: string;
  /** Terminal `task_events` rows. */
  endings: number;
  /** Its hold's capture or release rows. */
  resolutions: number;
  /** Attempts that succeeded upstream. */
  successes: number;
}

/**
 * The tasks among `taskIds` that did not end exactly once, for tests where several processes
 * race to end them: one terminal event, one resolution of its hold, at most one successful
 * attempt (exactly one for a succeeded task; a late result of an ended task's attempt may be
 * recorded). Empty when every task ended once.
 */
export async function endingsNotOnce(db: Executor, taskIds: string[]): Promise<EndingCount[]> {
  const { rows } = await pgClientOf(db).query<EndingCount>(
    `select t.id as "taskId", t.status::text as status,
       (select count(*)::int from task_events e
         where e.task_id = t.id and e.to_status = any($2::task_status[])) as endings,
       (select count(*)::int from ledger_entries l
         where l.task_id = t.id and l.kind in ('capture', 'release')) as resolutions,
       (select count(*)::int from task_attempts a
         where a.task_id = t.id and a.state = 'succeeded') as successes
     from tasks t where t.id = any($1::text[])`,
    [taskIds, terminalTaskStatuses],
  );
  const missing = taskIds.length - rows.length;
  if (missing > 0) throw new Error(`${missing} of ${taskIds.length} tasks are not in the database`);
  return rows.filter(
    (row) =>
      row.endings !== 1 ||
      row.resolutions !== 1 ||
      row.successes > 1 ||
      (row.status === "succeeded" && row.successes !== 1),
  );
}

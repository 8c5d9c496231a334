import {
  activeTaskStatuses,
  type Executor,
  failedAttemptStates,
  openAttemptStates,
  taskAttempts,
  tasks,
} from "@ripen/db";
import { and, eq, gte, inArray, sql } from "drizzle-orm";
import { idFloor } from "./ids";

export interface ProviderActivity {
  provider: string;
  /** Attempts started in the window. */
  attempts: number;
  /** Those whose upstream refused, forgot or failed them (`failedAttemptStates`). */
  failed: number;
  /** Submit to end (`started_at` to `ended_at`), over the attempts that ended; null if none. */
  p50Ms: number | null;
  p95Ms: number | null;
}

const durationMs = sql`extract(epoch from ${taskAttempts.endedAt} - ${taskAttempts.startedAt}) * 1000`;

/**
 * Each provider's attempts started since `since`: how many, how many failed, how long they took.
 * One grouped query; attempts still open have no duration and count in `attempts` only.
 */
export async function providerActivity(db: Executor, since: Date): Promise<ProviderActivity[]> {
  const rows = await db
    .select({
      provider: taskAttempts.provider,
      attempts: sql<number>`count(*)::int`,
      failed: sql<number>`(count(*) filter (where ${inArray(taskAttempts.state, [...failedAttemptStates])}))::int`,
      // percentile_cont skips the nulls of attempts not yet ended.
      p50: sql<string | null>`percentile_cont(0.5) within group (order by ${durationMs})`,
      p95: sql<string | null>`percentile_cont(0.95) within group (order by ${durationMs})`,
    })
    .from(taskAttempts)
    .where(gte(taskAttempts.startedAt, since))
    .groupBy(taskAttempts.provider);
  const ms = (value: string | null) => (value === null ? null : Math.round(Number(value)));
  return rows.map((row) => ({
    provider: row.provider,
    attempts: row.attempts,
    failed: row.failed,
    p50Ms: ms(row.p50),
    p95Ms: ms(row.p95),
  }));
}

/** What Postgres knows of a provider's recent use: what Redis keeps of its limits, rebuilt. */
export interface ProviderUse {
  provider: string;
  /** Each attempt started since the time asked, and when: a request the provider counted. */
  submits: { attemptId: string; startedAt: Date }[];
  /** Active tasks with an attempt still open there: they hold its in-flight slots. */
  inFlight: { taskId: string; deadlineAt: Date }[];
}

/**
 * Each provider's submits since `since` and its tasks in flight, for a Redis restarted empty
 * (`restoreProviderUse` of `@ripen/providers`). Recent attempts are found by their ids, which
 * sort by time (`idFloor`), and open ones by their partial index: no scan of the whole table.
 */
export async function providerUseSince(db: Executor, since: Date): Promise<ProviderUse[]> {
  const uses = new Map<string, ProviderUse>();
  const useOf = (provider: string) => {
    let use = uses.get(provider);
    if (!use) {
      use = { provider, submits: [], inFlight: [] };
      uses.set(provider, use);
    }
    return use;
  };
  const [recent, open] = await Promise.all([
    db
      .select({
        provider: taskAttempts.provider,
        attemptId: taskAttempts.id,
        startedAt: taskAttempts.startedAt,
      })
      .from(taskAttempts)
      .where(
        and(
          gte(taskAttempts.id, idFloor("attempt", since.getTime())),
          gte(taskAttempts.startedAt, since),
        ),
      ),
    db
      .select({
        provider: taskAttempts.provider,
        taskId: taskAttempts.taskId,
        deadlineAt: tasks.deadlineAt,
      })
      .from(taskAttempts)
      .innerJoin(tasks, eq(tasks.id, taskAttempts.taskId))
      .where(
        and(
          inArray(taskAttempts.state, [...openAttemptStates]),
          inArray(tasks.status, [...activeTaskStatuses]),
        ),
      ),
  ]);
  for (const { provider, ...submit } of recent) useOf(provider).submits.push(submit);
  for (const row of open) {
    useOf(row.provider).inFlight.push({ taskId: row.taskId, deadlineAt: row.deadlineAt });
  }
  return [...uses.values()];
}

import {
  activeTaskStatuses,
  type Executor,
  failedAttemptStates,
  openAttemptStates,
  providerPolls,
  taskAttempts,
  tasks,
} from "@ripen/db";
import { and, eq, gte, inArray, lt, sql } from "drizzle-orm";
import { idFloor, newId } from "./ids";

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
  /** Each status poll recorded since the time asked (`recordPoll`): requests it counted too. */
  polls: { pollId: string; sentAt: Date }[];
  /** Active tasks with an attempt still open there: they hold its in-flight slots. */
  inFlight: { taskId: string; deadlineAt: Date }[];
}

/**
 * A status poll about to be sent to a provider whose requests are counted against a limit. The
 * attempts record the submits; nothing else recorded the polls, so a Redis restarted empty
 * forgot them, and its window looked emptier than the provider's.
 */
export async function recordPoll(
  db: Executor,
  poll: { provider: string; taskId: string; now: Date },
): Promise<void> {
  await db.insert(providerPolls).values({
    id: newId("poll", poll.now.getTime()),
    provider: poll.provider,
    taskId: poll.taskId,
    sentAt: poll.now,
  });
}

/** Polls recorded before `before` go: no request window reaches back that far. */
export async function forgetPollsBefore(db: Executor, before: Date): Promise<void> {
  await db.delete(providerPolls).where(lt(providerPolls.id, idFloor("poll", before.getTime())));
}

/**
 * Each provider's submits and polls since `since` and its tasks in flight, for a Redis restarted
 * empty (`restoreProviderUse` of `@ripen/providers`). Recent attempts and polls are found by
 * their ids, which sort by time (`idFloor`), and open attempts by their partial index: no scan of
 * a whole table.
 */
export async function providerUseSince(db: Executor, since: Date): Promise<ProviderUse[]> {
  const uses = new Map<string, ProviderUse>();
  const useOf = (provider: string) => {
    let use = uses.get(provider);
    if (!use) {
      use = { provider, submits: [], polls: [], inFlight: [] };
      uses.set(provider, use);
    }
    return use;
  };
  const [recent, polls, open] = await Promise.all([
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
        provider: providerPolls.provider,
        pollId: providerPolls.id,
        sentAt: providerPolls.sentAt,
      })
      .from(providerPolls)
      .where(
        and(
          gte(providerPolls.id, idFloor("poll", since.getTime())),
          gte(providerPolls.sentAt, since),
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
  for (const { provider, ...poll } of polls) useOf(provider).polls.push(poll);
  for (const row of open) {
    useOf(row.provider).inFlight.push({ taskId: row.taskId, deadlineAt: row.deadlineAt });
  }
  return [...uses.values()];
}

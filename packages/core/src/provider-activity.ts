import { type Executor, failedAttemptStates, taskAttempts } from "@ripen/db";
import { gte, inArray, sql } from "drizzle-orm";

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

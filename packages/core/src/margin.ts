import type { Executor } from "@ripen/db";
import { sql } from "drizzle-orm";

/** One provider's attempts since a time: what it cost upstream, what the clients paid. */
export interface ProviderMargin {
  provider: string;
  attempts: number;
  /** Attempts that produced the task's result. */
  succeeded: number;
  /** What the provider charged, in its own credits (refused and failed attempts cost 0). */
  upstreamCredits: number;
  /** The same in dollars, by the provider's credit value when each attempt was opened. */
  upstreamUsd: number;
  /** Ripen credits captured from clients for the tasks this provider completed. */
  chargedCredits: number;
}

/**
 * Margin per provider over attempts started since `since`: the upstream's charges beside the
 * client's. An attempt whose outcome is unknown keeps its price: it may have been paid.
 */
export async function marginByProvider(db: Executor, since: Date): Promise<ProviderMargin[]> {
  const result = await db.execute(sql`
    select a.provider,
      count(*)::int as attempts,
      count(*) filter (where a.state = 'succeeded')::int as succeeded,
      coalesce(sum(a.upstream_cost), 0)::bigint as upstream_credits,
      coalesce(sum(a.upstream_cost_micros), 0)::bigint as upstream_micros,
      coalesce(sum(t.price) filter (where a.state = 'succeeded' and t.status = 'succeeded'), 0)::bigint
        as charged
    from task_attempts a join tasks t on t.id = a.task_id
    where a.started_at >= ${since}
    group by a.provider
    order by a.provider`);
  return result.rows.map((row) => ({
    provider: row.provider as string,
    attempts: Number(row.attempts),
    succeeded: Number(row.succeeded),
    upstreamCredits: Number(row.upstream_credits),
    upstreamUsd: Number(row.upstream_micros) / 1_000_000,
    chargedCredits: Number(row.charged),
  }));
}

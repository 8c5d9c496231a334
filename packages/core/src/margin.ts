import type { Executor } from "@ripen/db";
import { type SQL, sql } from "drizzle-orm";

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
 * Every attempt with its task (`a`, `t`): what the upstream charged for it (`upstream_cost`,
 * `upstream_cost_micros`) and, for the attempt that produced a succeeded task's result, the
 * task's price (`charged`, what its capture took). The one join margins and usage both read;
 * `where` picks the attempts.
 */
export const attemptCharges = (where: SQL) => sql`
  select a.provider, a.state, a.upstream_cost, a.upstream_cost_micros,
    t.id as task_id, t.account_id, t.api_key_id, t.model, t.door, t.created_at as task_created_at,
    case when a.state = 'succeeded' and t.status = 'succeeded' then t.price else 0 end as charged
  from task_attempts a join tasks t on t.id = a.task_id
  where ${where}`;

/**
 * Margin per provider over attempts started since `since`: the upstream's charges beside the
 * client's. An attempt whose outcome is unknown keeps its price: it may have been paid.
 */
export async function marginByProvider(db: Executor, since: Date): Promise<ProviderMargin[]> {
  const result = await db.execute(sql`
    select provider,
      count(*)::int as attempts,
      count(*) filter (where state = 'succeeded')::int as succeeded,
      coalesce(sum(upstream_cost), 0)::bigint as upstream_credits,
      coalesce(sum(upstream_cost_micros), 0)::bigint as upstream_micros,
      coalesce(sum(charged), 0)::bigint as charged
    from (${attemptCharges(sql`a.started_at >= ${since}`)}) attempt
    group by provider
    order by provider`);
  return result.rows.map((row) => ({
    provider: row.provider as string,
    attempts: Number(row.attempts),
    succeeded: Number(row.succeeded),
    upstreamCredits: Number(row.upstream_credits),
    upstreamUsd: Number(row.upstream_micros) / 1_000_000,
    chargedCredits: Number(row.charged),
  }));
}

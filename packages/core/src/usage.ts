import type { Executor } from "@ripen/db";
import { and, type SQL, sql } from "drizzle-orm";
import { attemptCharges } from "./margin";

/** What usage can be grouped by; `account` is the operator's (a client sees only its own). */
export const usageGroups = ["account", "key", "model", "door", "provider", "day"] as const;
export type UsageGroup = (typeof usageGroups)[number];

/**
 * What a Ripen credit is worth in dollars when margins are reported: aivideoapi's (16 credits are
 * $0.08), whose price list Ripen's native door sells at.
 */
export const DEFAULT_CREDIT_USD = 0.005;

export interface UsageArgs {
  /** One account's usage; all accounts when unset (the operator's view). */
  accountId?: string;
  /** Tasks created at or after. */
  from?: Date;
  /** Tasks created strictly before. */
  to?: Date;
  groupBy: readonly UsageGroup[];
  /** Dollars per Ripen credit (default `DEFAULT_CREDIT_USD`). */
  creditUsd?: number;
}

/** One group's usage; the grouping columns not asked for are absent. */
export interface UsageRow {
  accountId?: string;
  /** The key that created the tasks (null: created without one, e.g. by a schedule). */
  keyId?: string | null;
  model?: string;
  door?: string;
  /** The provider (null: tasks that never reached one). */
  provider?: string | null;
  /** UTC day the tasks were created, `YYYY-MM-DD`. */
  day?: string;
  tasks: number;
  /** Credits captured: the prices of the succeeded tasks. */
  chargedCredits: number;
  chargedUsd: number;
  /** What the upstreams charged for the tasks' attempts, failed ones included. */
  upstreamUsd: number;
  /** chargedUsd − upstreamUsd. */
  marginUsd: number;
}

const groupColumn: Record<UsageGroup, { column: string; key: keyof UsageRow }> = {
  account: { column: "account_id", key: "accountId" },
  key: { column: "api_key_id", key: "keyId" },
  model: { column: "model", key: "model" },
  door: { column: "door", key: "door" },
  provider: { column: "provider", key: "provider" },
  day: { column: "day", key: "day" },
};

/**
 * Tasks, credits charged, upstream cost and margin, per the groups asked for, over the tasks
 * created in [from, to). A task and its charge (a succeeded task's price: what its capture took,
 * as `checkLedger` verifies) count once, under the provider that last handled it; its attempts'
 * upstream costs count under each attempt's own provider, so a failover's cost lands where it
 * was paid.
 */
export async function usage(db: Executor, args: UsageArgs): Promise<UsageRow[]> {
  const taskScope: SQL[] = [sql`true`];
  if (args.accountId) taskScope.push(sql`t.account_id = ${args.accountId}`);
  if (args.from) taskScope.push(sql`t.created_at >= ${args.from}`);
  if (args.to) taskScope.push(sql`t.created_at < ${args.to}`);
  const scope = and(...taskScope) as SQL;
  const groups = usageGroups.filter((g) => args.groupBy.includes(g));
  const columns = sql.raw(groups.map((g) => `${groupColumn[g].column}, `).join(""));
  const groupBy = groups.length
    ? sql.raw(`group by ${groups.map((g) => groupColumn[g].column).join(", ")}`)
    : sql``;
  const orderBy = groups.length
    ? sql.raw(`order by ${groups.map((g) => `${groupColumn[g].column} nulls first`).join(", ")}`)
    : sql``;
  const day = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD')`);
  const result = await db.execute(sql`
    with usage_rows as (
      select t.account_id, t.api_key_id, t.model, t.door, t.provider, ${day("t.created_at")} as day,
        1 as tasks, case when t.status = 'succeeded' then t.price else 0 end as charged,
        0 as upstream_micros
      from tasks t where ${scope}
      union all
      select account_id, api_key_id, model, door, provider, ${day("task_created_at")} as day,
        0, 0, coalesce(upstream_cost_micros, 0)
      from (${attemptCharges(scope)}) attempt
    )
    select ${columns}
      sum(tasks)::bigint as tasks, sum(charged)::bigint as charged,
      sum(upstream_micros)::bigint as upstream_micros
    from usage_rows
    ${groupBy}
    having sum(tasks) > 0 or sum(upstream_micros) > 0
    ${orderBy}`);
  const creditUsd = args.creditUsd ?? DEFAULT_CREDIT_USD;
  return result.rows.map((row) => {
    const chargedCredits = Number(row.charged);
    const chargedUsd = roundUsd(chargedCredits * creditUsd);
    const upstreamUsd = Number(row.upstream_micros) / 1_000_000;
    // The groups first, in their fixed order: the columns of a table or a CSV.
    const grouped = Object.fromEntries(
      groups.map((g) => [groupColumn[g].key, row[groupColumn[g].column] ?? null]),
    );
    return {
      ...grouped,
      tasks: Number(row.tasks),
      chargedCredits,
      chargedUsd,
      upstreamUsd,
      marginUsd: roundUsd(chargedUsd - upstreamUsd),
    };
  });
}

/** Dollars to the micro-dollar upstream costs are kept in, so sums print without float noise. */
const roundUsd = (usd: number) => Math.round(usd * 1_000_000) / 1_000_000;

import type { Executor } from "@ripen/db";
import { sql } from "drizzle-orm";

export interface InvariantViolation {
  rule: string;
  row: Record<string, unknown>;
}

/**
 * The ledger invariants of the design, checked against the database as a whole:
 * balance = grants − captures; held = sum of open holds; available ≥ 0; every terminal task has
 * exactly one resolution of its hold and every active task none.
 */
export async function ledgerViolations(db: Executor): Promise<InvariantViolation[]> {
  const checks: Array<[string, ReturnType<typeof sql>]> = [
    [
      "balance = grants − captures",
      sql`select a.id, a.balance,
            coalesce(sum(l.amount) filter (where l.kind = 'grant'), 0) - coalesce(sum(l.amount) filter (where l.kind = 'capture'), 0) as expected
          from accounts a left join ledger_entries l on l.account_id = a.id
          group by a.id having a.balance <> coalesce(sum(l.amount) filter (where l.kind = 'grant'), 0) - coalesce(sum(l.amount) filter (where l.kind = 'capture'), 0)`,
    ],
    [
      "held = sum of open holds",
      sql`select a.id, a.held, coalesce(open.total, 0) as expected from accounts a
          left join (
            select h.account_id, sum(h.amount) as total from ledger_entries h
            where h.kind = 'hold' and not exists (
              select 1 from ledger_entries r where r.task_id = h.task_id and r.kind in ('capture', 'release'))
            group by h.account_id) open on open.account_id = a.id
          where a.held <> coalesce(open.total, 0)`,
    ],
    ["available ≥ 0", sql`select id, balance, held from accounts where balance - held < 0`],
    [
      "terminal task has exactly one resolution",
      sql`select t.id, t.status, count(r.id) as resolutions from tasks t
          left join ledger_entries r on r.task_id = t.id and r.kind in ('capture', 'release')
          where t.status in ('succeeded', 'failed', 'canceled', 'expired')
          group by t.id having count(r.id) <> 1`,
    ],
    [
      "succeeded captures, other endings release",
      sql`select t.id, t.status, r.kind from tasks t join ledger_entries r on r.task_id = t.id and r.kind in ('capture', 'release')
          where (t.status = 'succeeded') <> (r.kind = 'capture')`,
    ],
    [
      "active task has no resolution",
      sql`select t.id, t.status from tasks t join ledger_entries r on r.task_id = t.id and r.kind in ('capture', 'release')
          where t.status in ('queued', 'submitting', 'running')`,
    ],
  ];
  const violations: InvariantViolation[] = [];
  for (const [rule, query] of checks) {
    const result = await db.execute(query);
    for (const row of result.rows) violations.push({ rule, row });
  }
  return violations;
}

import { type Executor, pgClientOf, terminalTaskStatuses } from "@ripen/db";
import { sql } from "drizzle-orm";
import { activeStatusList } from "./task-machine";

/** The invariants `checkLedger` verifies, one name each (what a drift row says it broke). */
export const ledgerRules = {
  balance: "balance = grants − captures + adjustments",
  held: "held = sum of open holds",
  available: "available ≥ 0",
  activeTasks: "active_tasks = interactive tasks not ended",
  oneHold: "every task has exactly one hold, of its price, on its account",
  resolvedOnce: "an ended task has exactly one resolution (no open hold)",
  resolutionMatches: "succeeded captures, other endings release",
  notEndedUnresolved: "a task not ended has no resolution",
  keySpend: "key spend = its holds in the window − released ones",
} as const;

export type LedgerRule = (typeof ledgerRules)[keyof typeof ledgerRules];

/** One broken invariant: the rule, and the row that breaks it (its ids, what is, what should be). */
export interface LedgerDrift {
  rule: LedgerRule;
  row: Record<string, unknown>;
}

export interface LedgerCheck {
  accounts: number;
  entries: number;
  drift: LedgerDrift[];
}

/**
 * Per account, what the ledger says its balance and held credits are, in one pass over the
 * entries: a resolution carries its hold's amount and account (the schema's composite foreign
 * key), so holds minus resolutions is the sum of the open holds. Beside it, the interactive tasks
 * not ended. Only accounts that break a rule come back, plus the totals on every row.
 */
const ACCOUNTS_SQL = sql`
  with ledger as (
    select account_id,
      count(*) as entries,
      sum(case when kind in ('grant', 'adjustment') then amount
               when kind = 'capture' then -amount else 0 end) as balance,
      sum(case when kind = 'hold' then amount
               when kind in ('capture', 'release') then -amount else 0 end) as held
    from ledger_entries group by account_id
  ), active as (
    select account_id, count(*) as active_tasks from tasks
    where batch_id is null and status in (${activeStatusList})
    group by account_id
  ), checked as (
    select a.id as account_id, a.balance, a.held, a.active_tasks,
      coalesce(l.balance, 0) as expected_balance,
      coalesce(l.held, 0) as expected_held,
      coalesce(t.active_tasks, 0) as expected_active_tasks,
      coalesce(l.entries, 0) as entries
    from accounts a
    left join ledger l on l.account_id = a.id
    left join active t on t.account_id = a.id
  )
  , totals as (
    select count(*) as total_accounts, coalesce(sum(entries), 0) as total_entries from checked
  ), drifting as (
    select * from checked
    where balance <> expected_balance or held <> expected_held or balance - held < 0
       or active_tasks <> expected_active_tasks
    order by account_id
    limit 1000
  )
  -- The totals come back on every row, and alone (drifting columns null) when none drift.
  select totals.*, drifting.* from totals left join drifting on true`;

/**
 * Per task, its hold and resolutions, in one pass over the entries joined to the tasks by hash:
 * no index walk per task. Only tasks that break a rule come back.
 */
const TASKS_SQL = sql`
  with entries as (
    select task_id,
      count(*) filter (where kind = 'hold') as holds,
      min(amount) filter (where kind = 'hold') as hold_amount,
      min(account_id) filter (where kind = 'hold') as hold_account_id,
      count(*) filter (where kind in ('capture', 'release')) as resolutions,
      count(*) filter (where kind = 'capture') as captures
    from ledger_entries where task_id is not null
    group by task_id
  )
  select t.id as task_id, t.account_id, t.status, t.price,
    coalesce(e.holds, 0) as holds, e.hold_amount, e.hold_account_id,
    coalesce(e.resolutions, 0) as resolutions, coalesce(e.captures, 0) as captures
  from tasks t left join entries e on e.task_id = t.id
  where coalesce(e.holds, 0) <> 1
     or e.hold_amount <> t.price
     or e.hold_account_id <> t.account_id
     or (t.status not in (${activeStatusList}) and e.resolutions <> 1)
     or (e.resolutions > 0 and (t.status = 'succeeded') <> (e.captures > 0))
     or (t.status in (${activeStatusList}) and e.resolutions > 0)
  order by t.id
  limit 1000`;

/**
 * Per key spend window, the key's holds taken in it (by the task's creation time, as the create
 * statement counts them) less the released ones. Only keys with a spend row are read. A 'total'
 * row has one fixed start: it counts every hold of the key.
 */
const KEY_SPEND_SQL = sql`
  with limited as (select distinct key_id from api_key_spend),
  holds as (
    select t.api_key_id as key_id, t.created_at, h.amount
    from tasks t
    join ledger_entries h on h.task_id = t.id and h.kind = 'hold'
    where t.api_key_id in (select key_id from limited)
      and not exists (
        select 1 from ledger_entries r where r.hold_id = h.id and r.kind = 'release')
  ), expected as (
    select key_id, p.period,
      case when p.period = 'total' then null else date_trunc(p.period, created_at, 'UTC') end
        as window_start,
      sum(amount) as spent
    from holds cross join (values ('hour'), ('day'), ('total')) as p(period)
    group by 1, 2, 3
  )
  select s.key_id, s.period, s.window_start, s.spent, coalesce(e.spent, 0) as expected_spent
  from api_key_spend s
  left join expected e on e.key_id = s.key_id and e.period = s.period
    and (s.period = 'total' or e.window_start = s.window_start)
  where s.spent <> coalesce(e.spent, 0)
  order by s.key_id, s.period, s.window_start
  limit 1000`;

const ENDED = new Set<string>(terminalTaskStatuses);

/** Why a task row came back: every rule it breaks. */
function taskRules(row: Record<string, unknown>): LedgerRule[] {
  const holds = Number(row.holds);
  const resolutions = Number(row.resolutions);
  const ended = ENDED.has(row.status as string);
  const rules: LedgerRule[] = [];
  if (
    holds !== 1 ||
    Number(row.hold_amount) !== Number(row.price) ||
    row.hold_account_id !== row.account_id
  ) {
    rules.push(ledgerRules.oneHold);
  }
  if (ended && resolutions !== 1) rules.push(ledgerRules.resolvedOnce);
  if (!ended && resolutions > 0) rules.push(ledgerRules.notEndedUnresolved);
  if (ended && resolutions > 0 && (row.status === "succeeded") !== Number(row.captures) > 0) {
    rules.push(ledgerRules.resolutionMatches);
  }
  return rules;
}

/** Numbers as numbers (Postgres sums arrive as strings), ids and dates as they are. */
function plain(row: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(
    keys.map((key) => {
      const value = row[key];
      return [key, typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value];
    }),
  );
}

/**
 * Verifies the ledger's invariants over the whole database and answers each drift with the rows
 * involved (a task's drift lists its ledger entries). Read-only; set-based (one hash aggregate of
 * the ledger per query, never a lookup per row), so it runs on a live database. At most 1000 rows
 * per query are reported. Run it while nothing writes for an exact answer: a create or an ending
 * committing between the queries can show as a passing drift.
 */
export async function checkLedger(db: Executor): Promise<LedgerCheck> {
  const drift: LedgerDrift[] = [];
  const accountRows = (await db.execute(ACCOUNTS_SQL)).rows;
  for (const row of accountRows) {
    if (row.account_id == null) continue;
    const n = (key: string) => Number(row[key]);
    if (n("balance") !== n("expected_balance")) {
      drift.push({
        rule: ledgerRules.balance,
        row: plain(row, ["account_id", "balance", "expected_balance"]),
      });
    }
    if (n("held") !== n("expected_held")) {
      drift.push({
        rule: ledgerRules.held,
        row: plain(row, ["account_id", "held", "expected_held"]),
      });
    }
    if (n("balance") - n("held") < 0) {
      drift.push({
        rule: ledgerRules.available,
        row: plain(row, ["account_id", "balance", "held"]),
      });
    }
    if (n("active_tasks") !== n("expected_active_tasks")) {
      drift.push({
        rule: ledgerRules.activeTasks,
        row: plain(row, ["account_id", "active_tasks", "expected_active_tasks"]),
      });
    }
  }

  const taskRows = (await db.execute(TASKS_SQL)).rows;
  const entriesOf = await ledgerEntryIdsOf(
    db,
    taskRows.map((row) => row.task_id as string),
  );
  for (const row of taskRows) {
    const shown = {
      ...plain(row, ["task_id", "account_id", "status", "price", "holds", "resolutions"]),
      entries: entriesOf.get(row.task_id as string) ?? [],
    };
    for (const rule of taskRules(row)) drift.push({ rule, row: shown });
  }

  for (const row of (await db.execute(KEY_SPEND_SQL)).rows) {
    drift.push({
      rule: ledgerRules.keySpend,
      row: plain(row, ["key_id", "period", "window_start", "spent", "expected_spent"]),
    });
  }

  const first = accountRows[0];
  return {
    accounts: Number(first?.total_accounts ?? 0),
    entries: Number(first?.total_entries ?? 0),
    drift,
  };
}

/** The ledger entries of the given tasks, `kind:id` in order, for the report. */
async function ledgerEntryIdsOf(
  db: Executor,
  taskIds: readonly string[],
): Promise<Map<string, string[]>> {
  if (taskIds.length === 0) return new Map();
  const result = await pgClientOf(db).query(
    `select task_id, array_agg(kind || ':' || id order by created_at, id) as entries
     from ledger_entries where task_id = any($1::text[])
     group by task_id`,
    [taskIds],
  );
  return new Map(result.rows.map((row) => [row.task_id as string, row.entries as string[]]));
}

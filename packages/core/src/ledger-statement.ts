import { type Executor, type LedgerEntryKind, pgClientOf } from "@ripen/db";
import { AccountNotFound } from "./errors";

/**
 * Where a statement page ends: the last entry shown (Postgres's microseconds and its id), and the
 * account's balance and held credits just before it, so the next page continues the running
 * totals without summing every newer entry again.
 */
export interface LedgerStatementPosition {
  createdAtMicros: bigint;
  id: string;
  balanceBefore: number;
  heldBefore: number;
}

export interface LedgerStatementEntry {
  id: string;
  kind: LedgerEntryKind;
  amount: number;
  /** What the entry did to the balance: +grant, ±adjustment, −capture, 0 for holds and releases. */
  balanceChange: number;
  /** What it did to the held credits: +hold, −capture, −release, 0 for grants and adjustments. */
  heldChange: number;
  /** The account's balance and held credits right after this entry. */
  balanceAfter: number;
  heldAfter: number;
  taskId: string | null;
  batchId: string | null;
  /** A grant's or an adjustment's reason. */
  reason: string | null;
  actor: string | null;
  createdAt: Date;
}

export interface LedgerStatementArgs {
  accountId: string;
  kinds?: readonly LedgerEntryKind[];
  /** At or after. */
  from?: Date;
  /** Strictly before. */
  to?: Date;
  after?: LedgerStatementPosition;
  limit: number;
}

export interface LedgerStatementPage {
  entries: LedgerStatementEntry[];
  next: LedgerStatementPosition | null;
}

/**
 * One page of an account's ledger, newest first, by keyset on (created_at, id) through
 * `ledger_entries_account_idx`. The running totals come from one window over the rows the scan
 * reads, started from the account's current balance (less the entries at or after `to`) on the
 * first page and from the cursor's on the others: every page costs what it reads, however deep.
 * Read in one statement, the first page's totals are exact; an entry committed later with an
 * earlier time (a hold is dated by its task's creation) is not in the totals already paged past.
 */
export async function ledgerStatement(
  db: Executor,
  args: LedgerStatementArgs,
): Promise<LedgerStatementPage> {
  const result = await pgClientOf(db).query(STATEMENT_SQL, [
    args.accountId,
    args.after ? args.after.createdAtMicros.toString() : null,
    args.after?.id ?? null,
    args.after?.balanceBefore ?? null,
    args.after?.heldBefore ?? null,
    args.from ?? null,
    args.to ?? null,
    args.kinds?.length ? args.kinds : null,
    args.limit + 1,
  ]);
  if (result.rows.length === 0) {
    const exists = await pgClientOf(db).query("select 1 from accounts where id = $1", [
      args.accountId,
    ]);
    if (exists.rowCount === 0) throw new AccountNotFound(args.accountId);
  }
  const rows = result.rows.slice(0, args.limit);
  const entries = rows.map(toEntry);
  const last = rows.at(-1);
  const lastEntry = entries.at(-1);
  return {
    entries,
    next:
      result.rows.length > args.limit && last && lastEntry
        ? {
            createdAtMicros: BigInt(last.created_at_micros),
            id: lastEntry.id,
            balanceBefore: lastEntry.balanceAfter - lastEntry.balanceChange,
            heldBefore: lastEntry.heldAfter - lastEntry.heldChange,
          }
        : null,
  };
}

function toEntry(row: Record<string, unknown>): LedgerStatementEntry {
  return {
    id: row.id as string,
    kind: row.kind as LedgerEntryKind,
    amount: Number(row.amount),
    balanceChange: Number(row.balance_change),
    heldChange: Number(row.held_change),
    balanceAfter: Number(row.balance_after),
    heldAfter: Number(row.held_after),
    taskId: (row.task_id as string | null) ?? null,
    batchId: (row.batch_id as string | null) ?? null,
    reason: (row.memo as string | null) ?? null,
    actor: (row.actor as string | null) ?? null,
    createdAt: row.created_at as Date,
  };
}

const AT_MICROS = "(timestamptz 'epoch' + $2::bigint * interval '1 microsecond')";

/**
 * $1 account, $2/$3 the cursor's position, $4/$5 its balance and held, $6 from, $7 to, $8 kinds,
 * $9 limit + 1. The kind filter applies after the window: the totals count every entry.
 */
const STATEMENT_SQL = `
  with start as (
    select coalesce($4::bigint, a.balance - coalesce(newer.balance, 0)) as balance,
           coalesce($5::bigint, a.held - coalesce(newer.held, 0)) as held
    from accounts a
    left join lateral (
      select sum(case when kind in ('grant', 'adjustment') then amount
                      when kind = 'capture' then -amount else 0 end) as balance,
             sum(case when kind = 'hold' then amount
                      when kind in ('capture', 'release') then -amount else 0 end) as held
      from ledger_entries
      where account_id = a.id and $4::bigint is null and created_at >= $7::timestamptz
    ) newer on true
    where a.id = $1
  ), scanned as (
    select l.*,
      case when l.kind in ('grant', 'adjustment') then l.amount
           when l.kind = 'capture' then -l.amount else 0 end as balance_change,
      case when l.kind = 'hold' then l.amount
           when l.kind in ('capture', 'release') then -l.amount else 0 end as held_change
    from ledger_entries l
    where l.account_id = $1
      and ($2::bigint is null or (l.created_at, l.id) < (${AT_MICROS}, $3::text))
      and ($6::timestamptz is null or l.created_at >= $6::timestamptz)
      and ($7::timestamptz is null or l.created_at < $7::timestamptz)
  ), running as (
    select s.*,
      sum(s.balance_change) over w - s.balance_change as balance_newer,
      sum(s.held_change) over w - s.held_change as held_newer
    from scanned s
    window w as (order by s.created_at desc, s.id desc rows between unbounded preceding and current row)
  )
  select r.id, r.kind, r.amount, r.task_id, r.memo, r.actor, r.created_at,
    r.balance_change, r.held_change,
    start.balance - r.balance_newer as balance_after,
    start.held - r.held_newer as held_after,
    ((extract(epoch from r.created_at) * 1000000)::bigint)::text as created_at_micros,
    t.batch_id
  from running r
  cross join start
  left join tasks t on t.id = r.task_id
  where $8::ledger_entry_kind[] is null or r.kind = any($8::ledger_entry_kind[])
  order by r.created_at desc, r.id desc
  limit $9`;

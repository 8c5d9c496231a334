import { type CallbackOutcome, type Executor, pgClientOf } from "@ripen/db";

/** A provider's callback as received, with what became of it. */
export interface ProviderCallbackRecord {
  provider: string;
  taskId: string;
  /** The attempt whose callback URL was called. */
  attemptNumber: number | null;
  /** The body exactly as received. */
  body: Buffer;
  headers: Record<string, string>;
  outcome: CallbackOutcome;
}

/**
 * The insert that keeps provider callbacks, for a statement of its own or a CTE of a larger one
 * (an ending records its callbacks in the statement that records their attempts' results). The
 * callbacks are five arrays from parameter `$first` on (`providerCallbackValues`); `outcome` is
 * an SQL expression of each row `c` (`c.task_id`, `c.ord` its place from 1) and `receivedAt` one
 * of the time.
 */
export function insertProviderCallbacksSql(args: {
  first: number;
  outcome: string;
  receivedAt: string;
  /** What the insert returns of each row it wrote, if anything. */
  returning?: string;
}): string {
  const p = (offset: number) => `$${args.first + offset}`;
  return `insert into provider_callbacks
      (provider, task_id, attempt_number, body, headers, outcome, received_at)
    select c.provider, c.task_id, c.attempt_number, c.body, c.headers, ${args.outcome},
      ${args.receivedAt}
    from unnest(${p(0)}::text[], ${p(1)}::text[], ${p(2)}::int[], ${p(3)}::bytea[],
      ${p(4)}::jsonb[]) with ordinality as c(provider, task_id, attempt_number, body, headers, ord)${
        args.returning
          ? `
    returning ${args.returning}`
          : ""
      }`;
}

/** The five arrays `insertProviderCallbacksSql` reads, in its order. */
export function providerCallbackValues(
  callbacks: readonly Omit<ProviderCallbackRecord, "outcome">[],
): unknown[] {
  return [
    callbacks.map((callback) => callback.provider),
    callbacks.map((callback) => callback.taskId),
    callbacks.map((callback) => callback.attemptNumber),
    callbacks.map((callback) => callback.body),
    callbacks.map((callback) => JSON.stringify(callback.headers)),
  ];
}

/** Keeps provider callbacks for audit with what became of them (the receiver's refusals). */
export async function recordProviderCallbacks(
  db: Executor,
  callbacks: readonly ProviderCallbackRecord[],
  receivedAt: Date,
): Promise<void> {
  if (callbacks.length === 0) return;
  await pgClientOf(db).query({
    name: "ripen_record_provider_callbacks",
    text: insertProviderCallbacksSql({
      first: 1,
      outcome: "($6::callback_outcome[])[c.ord]",
      receivedAt: "$7",
    }),
    values: [
      ...providerCallbackValues(callbacks),
      callbacks.map((callback) => callback.outcome),
      receivedAt,
    ],
  });
}

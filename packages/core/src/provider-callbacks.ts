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
 * Keeps provider callbacks for audit, whatever became of them, in one insert: the receiver's
 * refusals, and the ones an ending applied (written in the ending's transaction).
 */
export async function recordProviderCallbacks(
  db: Executor,
  callbacks: readonly ProviderCallbackRecord[],
  receivedAt: Date,
): Promise<void> {
  if (callbacks.length === 0) return;
  await pgClientOf(db).query({
    name: "ripen_record_provider_callbacks",
    text: `insert into provider_callbacks
        (provider, task_id, attempt_number, body, headers, outcome, received_at)
      select provider, task_id, attempt_number, body, headers, outcome, $7
      from unnest($1::text[], $2::text[], $3::int[], $4::bytea[], $5::jsonb[],
        $6::callback_outcome[]) as i(provider, task_id, attempt_number, body, headers, outcome)`,
    values: [
      callbacks.map((callback) => callback.provider),
      callbacks.map((callback) => callback.taskId),
      callbacks.map((callback) => callback.attemptNumber),
      callbacks.map((callback) => callback.body),
      callbacks.map((callback) => JSON.stringify(callback.headers)),
      callbacks.map((callback) => callback.outcome),
      receivedAt,
    ],
  });
}

import {
  type Clock,
  completeTask,
  DomainError,
  findTask,
  outcomeOf,
  type ProviderRegistry,
  verifyCallbackToken,
} from "@ripen/core";
import {
  type CallbackOutcome,
  type Database,
  type Executor,
  type ProviderName,
  providerCallbacks,
  providerNames,
  withTransaction,
} from "@ripen/db";

export interface CallbackInput {
  provider: string;
  taskId: string;
  token: string;
  rawBody: string;
  headers: Record<string, string>;
}

export interface CallbackResult {
  status: 200 | 400 | 401 | 404;
  outcome: CallbackOutcome | "forged" | "unknown";
  message: string;
}

export interface ReceiveCallbackDeps {
  db: Database;
  providers: ProviderRegistry;
  secret: string;
  clock: Clock;
}

/**
 * Verifies, records and applies one provider callback. It completes the task through the same
 * `completeTask` as the poller, so whichever arrives second finds the task ended and does nothing.
 */
export async function receiveCallback(
  deps: ReceiveCallbackDeps,
  input: CallbackInput,
): Promise<CallbackResult> {
  if (!(providerNames as readonly string[]).includes(input.provider)) {
    return { status: 404, outcome: "unknown", message: "Unknown provider." };
  }
  const provider = input.provider as ProviderName;
  // The token is checked before the task is looked up, so a forger learns nothing about ids.
  if (!verifyCallbackToken(deps.secret, input.taskId, input.token)) {
    return { status: 401, outcome: "forged", message: "Invalid callback token." };
  }
  const task = await findTask(deps.db, input.taskId);
  if (!task || task.provider !== provider) {
    return { status: 404, outcome: "unknown", message: "Unknown task." };
  }

  const record = (tx: Executor, outcome: CallbackOutcome) =>
    tx.insert(providerCallbacks).values({
      provider,
      taskId: task.id,
      body: input.rawBody,
      headers: input.headers,
      outcome,
    });

  let parsed: ReturnType<ProviderRegistry[ProviderName]["parseCallback"]>;
  try {
    parsed = deps.providers[provider].parseCallback(JSON.parse(input.rawBody));
  } catch (error) {
    await record(deps.db, "invalid");
    const reason = error instanceof DomainError ? error.message : "Body is not JSON.";
    return { status: 400, outcome: "invalid", message: `Malformed callback: ${reason}` };
  }
  if (task.providerTaskId && parsed.providerTaskId !== task.providerTaskId) {
    await record(deps.db, "invalid");
    return { status: 400, outcome: "invalid", message: "Callback is for another upstream task." };
  }

  const outcome = outcomeOf(parsed);
  if (!outcome) {
    await record(deps.db, "ignored");
    return { status: 200, outcome: "ignored", message: "Progress noted." };
  }
  return withTransaction(deps.db, async (tx) => {
    const { applied } = await completeTask(tx, {
      taskId: task.id,
      outcome,
      source: "callback",
      now: deps.clock.now(),
    });
    await record(tx, applied ? "applied" : "duplicate");
    return applied
      ? { status: 200 as const, outcome: "applied" as const, message: "Task completed." }
      : { status: 200 as const, outcome: "duplicate" as const, message: "Task had already ended." };
  });
}

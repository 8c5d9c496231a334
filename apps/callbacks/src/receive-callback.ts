import {
  type Clock,
  DomainError,
  failAttempt,
  isStorableText,
  type LifecycleLogger,
  outcomeOf,
  type ProviderTaskState,
  recordProviderCallbacks,
  type TaskEnder,
  type TaskOrder,
  type TaskReader,
  verifyCallbackToken,
} from "@ripen/core";
import type { CallbackOutcome, Database, Executor } from "@ripen/db";
import type { ProviderHealth, Providers } from "@ripen/providers";

export interface CallbackInput {
  provider: string;
  taskId: string;
  token: string;
  /** The body exactly as received. */
  rawBody: Buffer;
  headers: Record<string, string>;
}

export interface CallbackResult {
  status: 200 | 400 | 401 | 404;
  outcome: CallbackOutcome | "forged" | "unknown";
  message: string;
}

export interface ReceiveCallbackDeps {
  db: Database;
  providers: Providers;
  secret: string;
  clock: Clock;
  logger: LifecycleLogger;
  /**
   * How a task ends and what follows the commit (hint, client callback, provider slot), and how
   * a task whose attempt failed upstream is woken to try the next provider: the process's one
   * task ender. Without Redis its effects are left to the worker's sweep.
   */
  ender: TaskEnder;
  /** Reads the task and attempt each callback names, a burst of them in one statement. */
  reader: TaskReader;
  /** Counts a provider's reported success toward its circuit; absent without Redis. */
  health?: Pick<ProviderHealth, "recordSuccess">;
}

/** Every string in a parsed JSON value can be stored by Postgres (keys included). */
function isStorableJson(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (typeof value === "string") return isStorableText(value);
  if (Array.isArray(value)) return value.every((item) => isStorableJson(item, depth + 1));
  if (value && typeof value === "object") {
    return Object.entries(value).every(
      ([key, item]) => isStorableText(key) && isStorableJson(item, depth + 1),
    );
  }
  return true;
}

/**
 * Verifies, records and applies one provider callback. The token names the attempt it was made
 * for; the attempt's result is always recorded on it, and it settles the task only while that
 * attempt is the task's current one, through the same `endTask` as the poller, so whichever
 * arrives second changes nothing.
 */
export async function receiveCallback(
  deps: ReceiveCallbackDeps,
  input: CallbackInput,
): Promise<CallbackResult> {
  const providerConfig = deps.providers.get(input.provider);
  if (!providerConfig) {
    return { status: 404, outcome: "unknown", message: "Unknown provider." };
  }
  const provider = providerConfig.id;
  // The token is checked before anything is looked up, so a forger learns nothing about ids.
  const attemptNumber = verifyCallbackToken(deps.secret, input.taskId, input.token);
  if (attemptNumber === null) {
    return { status: 401, outcome: "forged", message: "Invalid callback token." };
  }
  const found = await deps.reader.withAttempt(input.taskId, attemptNumber);
  const { task, attempt } = found ?? {};
  if (!task || !attempt || task.provider !== provider || attempt.provider !== provider) {
    return { status: 404, outcome: "unknown", message: "Unknown task." };
  }

  const record = (tx: Executor, outcome: CallbackOutcome) =>
    recordProviderCallbacks(
      tx,
      [
        {
          provider,
          taskId: task.id,
          attemptNumber,
          body: input.rawBody,
          headers: input.headers,
          outcome,
        },
      ],
      deps.clock.now(),
    );
  const invalid = async (message: string): Promise<CallbackResult> => {
    await record(deps.db, "invalid");
    return { status: 400, outcome: "invalid", message: `Malformed callback: ${message}` };
  };

  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(input.rawBody));
  } catch {
    return invalid("Body is not UTF-8 JSON.");
  }
  if (!isStorableJson(body))
    return invalid("Body holds text that cannot be stored (NUL, lone surrogates).");
  let parsed: { providerTaskId: string } & ProviderTaskState;
  try {
    parsed = providerConfig.client.parseCallback(body);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return invalid(error.message);
  }
  if (attempt.providerTaskId && parsed.providerTaskId !== attempt.providerTaskId) {
    return invalid("It is for another upstream task.");
  }

  if (parsed.state === "failed" && parsed.kind === "failover") {
    return attemptFailedUpstream(deps, { task, attemptNumber, parsed, record });
  }
  const outcome = outcomeOf(parsed);
  if (!outcome) {
    await record(deps.db, "ignored");
    return { status: 200, outcome: "ignored", message: "Progress noted." };
  }
  const messages: Record<"applied" | "late" | "duplicate", string> = {
    applied: "Task completed.",
    late: "Recorded on its attempt; the task had ended or moved on to another attempt.",
    duplicate: "Task had already ended.",
  };
  // Settled with the other callbacks that arrive meanwhile (group commit); the callback is
  // recorded in the ending's transaction, and the ender runs what follows its commit.
  const ending = await deps.ender.end(deps.db, {
    taskId: task.id,
    outcome,
    source: "callback",
    attempt: { number: attemptNumber, providerTaskId: parsed.providerTaskId },
    callback: { provider, body: input.rawBody, headers: input.headers },
    now: deps.clock.now(),
    batchItem: task.batchId !== null,
  });
  if (parsed.state === "succeeded") await deps.health?.recordSuccess(provider);
  // As recorded with the callback, in the ending's statement.
  const recorded = ending.callbackOutcome;
  if (!recorded) throw new Error(`the ending of ${task.id} did not record its callback`);
  return { status: 200, outcome: recorded, message: messages[recorded] };
}

/**
 * The upstream failed the attempt in a way another provider may not: the attempt records it,
 * the task keeps its hold, and its job is woken to open the next attempt elsewhere.
 */
async function attemptFailedUpstream(
  deps: ReceiveCallbackDeps,
  args: {
    task: TaskOrder;
    attemptNumber: number;
    parsed: { providerTaskId: string } & Extract<ProviderTaskState, { state: "failed" }>;
    record: (tx: Executor, outcome: CallbackOutcome) => Promise<unknown>;
  },
): Promise<CallbackResult> {
  const { task, parsed } = args;
  const recorded = await deps.db.transaction(async (tx) => {
    const result = await failAttempt(tx, {
      taskId: task.id,
      attempt: { number: args.attemptNumber, providerTaskId: parsed.providerTaskId },
      kind: "failover",
      errorCode: parsed.errorCode,
      errorMessage: parsed.errorMessage,
      now: deps.clock.now(),
    });
    await args.record(tx, result);
    return result;
  });
  if (recorded === "applied") {
    deps.logger.warn(
      {
        event: "attempt.failed",
        taskId: task.id,
        attempt: args.attemptNumber,
        kind: "failover",
        code: parsed.errorCode,
        source: "callback",
      },
      "upstream failed the attempt; another provider will be tried",
    );
    await deps.ender.wake(task);
  }
  const messages = {
    applied: "Attempt failed; the task goes on with another provider.",
    late: "Recorded on its attempt; the task had ended or moved on to another attempt.",
    duplicate: "Attempt had already ended.",
  };
  return { status: 200, outcome: recorded, message: messages[recorded] };
}

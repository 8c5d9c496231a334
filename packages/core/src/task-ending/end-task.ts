import {
  type CallbackOutcome,
  type Executor,
  isTransaction,
  openAttemptStates,
  pgClientOf,
  planByIndexes,
  type Task,
  withTransaction,
} from "@ripen/db";
import { type EndedBatch, endBatchIfDone } from "../batch-end";
import { writeDeliveries } from "../deliveries";
import { resolveHolds } from "../ledger";
import { insertProviderCallbacksSql, providerCallbackValues } from "../provider-callbacks";
import { type TaskChanges, toTask, transitionEach } from "../task-machine";
import type { TaskOutcome } from "./outcomes";

/*
 * Where a task ends. Every ending — an upstream's success or failure learned by poll or callback,
 * a cancel, a batch's cancel, a deadline — is one transaction here: the conditional transition
 * with its event, the hold's resolution, the open attempts abandoned, the client's callback in
 * the outbox, and the batch's count. Endings that arrive together are settled together
 * (`endGroup`, set-based statements), so a burst of one account's endings takes its row once.
 * What follows the commit is `afterCommit` (after-commit.ts); callers use both through a
 * `TaskEnder` (task-ender.ts).
 */

/** What one transaction of endings committed: the input of the after-commit step. */
export interface Settlement {
  /** Who ended the tasks (`poll`, `callback`, `api`, `deadline`, …), for the log line. */
  source: string;
  /** The tasks this transaction ended, as they are now. */
  ended: Task[];
  /** The client callbacks it wrote: the tasks' own and their batches'. Enqueued after commit. */
  deliveryIds: string[];
  /** The batches whose last active item it ended. */
  endedBatches: EndedBatch[];
}

/** A provider's callback that reported an ending: kept with the outcome it had, for audit. */
export interface ReceivedCallback {
  provider: string;
  body: Buffer;
  headers: Record<string, string>;
}

export interface EndTaskArgs {
  taskId: string;
  outcome: TaskOutcome;
  source: string;
  /** The upstream attempt that reported this outcome, if one did. */
  attempt?: { number: number; providerTaskId?: string };
  /** The provider callback that reported it: recorded in the ending's transaction. */
  callback?: ReceivedCallback;
  now?: Date;
  /**
   * The task is a batch item: `TaskEnder.end` settles it with other batch items' endings, apart
   * from interactive tasks', so an interactive ending never waits behind a batch's group.
   */
  batchItem?: boolean;
}

/** What an ending did with a reported result or a provider callback. */
type Outcome = CallbackOutcome & ("applied" | "duplicate" | "late");

/** One task's part of an ending. */
export interface TaskEnding {
  /** The task ended now, by this call. */
  applied: boolean;
  /**
   * For an attempt's result: `applied`; `duplicate` when the attempt already had its result;
   * `late` when it was recorded on the attempt but the task had ended or moved on to another.
   */
  attemptOutcome: Outcome | null;
  task: Task | null;
  /** The task's own client callback, when this ending wrote one (it has a `callback_url`). */
  deliveryId: string | null;
  /** The provider callback's outcome as recorded with it, when the ending carried one. */
  callbackOutcome: Outcome | null;
}

export interface EndGroupArgs {
  /** At most one ending per task. */
  endings: readonly Omit<EndTaskArgs, "source" | "now" | "batchItem">[];
  source: string;
  /** Added to every ending's event (a batch's cancel names its batch). */
  detail?: Record<string, unknown>;
  /** How a batch whose last active item ends here ends: `canceled` when its cancel ended it. */
  batchEndsAs?: EndedBatch["state"];
  now: Date;
}

export interface GroupEnding {
  /** Each ending's answer, in the order asked. */
  each: TaskEnding[];
  settlement: Settlement;
}

/** Ends one task: `endGroup` with one ending. */
export async function endTask(
  db: Executor,
  args: EndTaskArgs,
): Promise<TaskEnding & { settlement: Settlement }> {
  const { source, now, ...ending } = args;
  const { each, settlement } = await endGroup(db, {
    endings: [ending],
    source,
    now: now ?? new Date(),
  });
  return { ...each[0]!, settlement };
}

/**
 * Ends each task of the group exactly once, each with its own outcome, and settles its hold in
 * the same transaction: success captures, anything else releases. Whoever arrives second changes
 * nothing on the task. An attempt's result is always recorded on the attempt, even when it no
 * longer decides the task. Reuses a transaction already open; the caller runs `afterCommit`
 * with the settlement once it has committed.
 */
export async function endGroup(db: Executor, args: EndGroupArgs): Promise<GroupEnding> {
  const { now } = args;
  const taskIds = args.endings.map((ending) => ending.taskId);
  if (new Set(taskIds).size !== taskIds.length) {
    throw new Error("endGroup: at most one ending per task");
  }
  // A lone ending (a callback, most of the time) spent more planning its three statements than
  // running them (2.6 against 1.2 ms): in a transaction of its own they are named, kept as
  // generic plans made by indexes. In a caller's transaction they stay unnamed.
  const named = !isTransaction(db);
  return withTransaction(db, async (tx) => {
    if (named) await planByIndexes(tx);
    const moved = await transitionEach(tx, {
      named,
      moves: args.endings.map(({ taskId, outcome, attempt }) => ({
        taskId,
        to: outcome.status,
        changes: changesOf(outcome, now, attempt?.providerTaskId),
        detail: {
          ...(outcome.status === "succeeded" ? {} : { code: outcome.errorCode }),
          ...(attempt ? { attempt: attempt.number } : {}),
          ...args.detail,
        },
        attempt: attempt?.number,
      })),
      source: args.source,
      now,
    });
    const ended = new Map(moved.map(({ task }) => [task.id, task]));
    const outcomes = await settleAttempts(tx, args.endings, ended, now, named);
    const missed = taskIds.filter((id) => !ended.has(id));
    const others = new Map(
      missed.length === 0
        ? []
        : (
            await pgClientOf(tx).query({
              // Not named, as findTask: a plan kept from a small analyzed table scanned it whole.
              text: "select * from tasks where id = any($1::text[])",
              values: [missed],
            })
          ).rows.map((row) => [row.id as string, toTask(row)]),
    );
    const settled = await settle(tx, [...ended.values()], now, args.batchEndsAs ?? "ended", named);
    const each = args.endings.map((ending) => ({
      applied: ended.has(ending.taskId),
      attemptOutcome: outcomes.attempts.get(ending.taskId) ?? null,
      callbackOutcome: outcomes.callbacks.get(ending.taskId) ?? null,
      task: ended.get(ending.taskId) ?? others.get(ending.taskId) ?? null,
      deliveryId: settled.taskDeliveryIds.get(ending.taskId) ?? null,
    }));
    return {
      each,
      settlement: {
        source: args.source,
        ended: [...ended.values()],
        deliveryIds: settled.deliveryIds,
        endedBatches: settled.endedBatches,
      },
    };
  });
}

function changesOf(outcome: TaskOutcome, now: Date, providerTaskId?: string): TaskChanges {
  const changes: TaskChanges =
    outcome.status === "succeeded"
      ? { output: outcome.output, completedAt: now, errorCode: null, errorMessage: null }
      : { errorCode: outcome.errorCode, errorMessage: outcome.errorMessage, completedAt: now };
  if (providerTaskId) changes.providerTaskId = providerTaskId;
  return changes;
}

/**
 * Everything an ending writes besides the transition, for tasks the transition just ended. The
 * holds are resolved last: that locks the accounts' rows, which every create and ending of those
 * accounts needs, so they are held for as little of the transaction as can be.
 */
async function settle(
  tx: Executor,
  ended: Task[],
  now: Date,
  batchEndsAs: EndedBatch["state"],
  named: boolean,
) {
  const deliveryIds: string[] = [];
  const endedBatches: EndedBatch[] = [];
  if (ended.length === 0) return { taskDeliveryIds: new Map(), deliveryIds, endedBatches };
  // The outbox: the client's callback exists if and only if this ending commits.
  const taskDeliveryIds = await writeDeliveries(tx, ended, now);
  deliveryIds.push(...taskDeliveryIds.values());
  const ids = (captured: boolean) =>
    ended.filter((task) => (task.status === "succeeded") === captured).map((task) => task.id);
  const [captured, released] = [ids(true), ids(false)];
  if (captured.length > 0) await resolveHolds(tx, { taskIds: captured, kind: "capture", named });
  if (released.length > 0) await resolveHolds(tx, { taskIds: released, kind: "release", named });
  // The last item of a batch to end ends the batch (and writes its callback). After the holds:
  // their account lock is what serializes the endings of a batch's last items.
  const batchIds = [...new Set(ended.flatMap((task) => (task.batchId ? [task.batchId] : [])))];
  for (const batchId of batchIds.sort()) {
    const batch = await endBatchIfDone(tx, batchId, now, batchEndsAs);
    if (!batch) continue;
    endedBatches.push(batch);
    if (batch.deliveryId) deliveryIds.push(batch.deliveryId);
  }
  return { taskDeliveryIds, deliveryIds, endedBatches };
}

/**
 * The group's attempts, in one statement: each reported result written (the first result of an
 * attempt is kept, later copies are duplicates), the other attempts still open on the tasks the
 * group ended abandoned (they will not decide them any more), and the providers' callbacks kept
 * with what became of them. An attempt whose task this group ended is decided by its result
 * (succeeded or failed); otherwise the result is only recorded (`late`). The upstream refunds a
 * failed generation (documents 000, 002), so a failed attempt costs nothing.
 */
async function settleAttempts(
  tx: Executor,
  endings: EndGroupArgs["endings"],
  ended: ReadonlyMap<string, Task>,
  now: Date,
  named: boolean,
): Promise<{ attempts: Map<string, Outcome>; callbacks: Map<string, Outcome> }> {
  const reported = endings.filter((ending) => ending.attempt);
  const callbacks = endings.flatMap((ending) =>
    ending.callback
      ? [
          {
            ...ending.callback,
            taskId: ending.taskId,
            attemptNumber: ending.attempt?.number ?? null,
          },
        ]
      : [],
  );
  const outcomes = { attempts: new Map<string, Outcome>(), callbacks: new Map<string, Outcome>() };
  if (reported.length === 0 && callbacks.length === 0 && ended.size === 0) return outcomes;
  // A callback's outcome is its task's: applied when this group ended it, late when only its
  // attempt's result was recorded, a duplicate otherwise. Returned as recorded.
  const callbackOutcome = `case when c.task_id = any($8::text[]) then 'applied'::callback_outcome
      when exists (select 1 from reported r where r.task_id = c.task_id) then 'late'::callback_outcome
      else 'duplicate'::callback_outcome end`;
  const result = await pgClientOf(tx).query<{ task_id: string; callback_outcome: Outcome | null }>({
    // Named only where the transaction plans by indexes: a generic plan kept from while
    // task_attempts was small scanned it whole (named-statements.test.ts).
    name: named ? "ripen_settle_attempts" : undefined,
    text: `
      with input as (
        select * from unnest($1::text[], $2::int[], $3::jsonb[], $4::text[], $5::boolean[],
          $6::boolean[]) as i(task_id, number, result, provider_task_id, succeeded, decided)
      ), reported as (
        update task_attempts a set
          result = i.result,
          result_at = $7,
          provider_task_id = coalesce(a.provider_task_id, i.provider_task_id),
          upstream_cost = case when i.succeeded then a.upstream_cost else 0 end,
          upstream_cost_micros = case when i.succeeded then a.upstream_cost_micros else 0 end,
          state = case when not i.decided then a.state
            when i.succeeded then 'succeeded'::attempt_state else 'failed'::attempt_state end,
          ended_at = case when i.decided then $7 else a.ended_at end
        from input i
        where a.task_id = i.task_id and a.number = i.number and a.result_at is null
        returning a.task_id, a.number
      ), abandoned as (
        -- Never a row that reported wrote: one statement must not update a row twice. The
        -- state as text: no partial index of open attempts may serve this lookup by task (see
        -- groupTransitionSql).
        update task_attempts a set state = 'abandoned', ended_at = $7
        where a.task_id = any($8::text[]) and a.state::text = any($9::text[])
          and not exists (select 1 from reported r where r.task_id = a.task_id and r.number = a.number)
      ), callbacks as (
        ${insertProviderCallbacksSql({
          first: 10,
          outcome: callbackOutcome,
          receivedAt: "$7",
          returning: "task_id, outcome",
        })}
      )
      select task_id, null::callback_outcome as callback_outcome from reported
      union all
      select task_id, outcome from callbacks`,
    values: [
      reported.map((ending) => ending.taskId),
      reported.map((ending) => ending.attempt!.number),
      reported.map(({ outcome }) =>
        JSON.stringify(
          outcome.status === "succeeded"
            ? { status: "succeeded", urls: outcome.output.urls }
            : {
                status: "failed",
                errorCode: outcome.errorCode,
                errorMessage: outcome.errorMessage,
              },
        ),
      ),
      reported.map((ending) => ending.attempt!.providerTaskId ?? null),
      reported.map((ending) => ending.outcome.status === "succeeded"),
      reported.map((ending) => ended.has(ending.taskId)),
      now,
      [...ended.keys()],
      openAttemptStates,
      ...providerCallbackValues(callbacks),
    ],
  });
  const recorded = new Set<string>();
  for (const row of result.rows) {
    if (row.callback_outcome) outcomes.callbacks.set(row.task_id, row.callback_outcome);
    else recorded.add(row.task_id);
  }
  for (const { taskId } of reported) {
    outcomes.attempts.set(
      taskId,
      !recorded.has(taskId) ? "duplicate" : ended.has(taskId) ? "applied" : "late",
    );
  }
  return outcomes;
}

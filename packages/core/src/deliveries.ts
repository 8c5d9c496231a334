import {
  type Delivery,
  type DeliveryAttempt,
  type DeliveryState,
  deliveries,
  deliveryAttempts,
  type Executor,
  type Task,
  withTransaction,
} from "@ripen/db";
import { and, asc, desc, eq, inArray, lte, sql } from "drizzle-orm";
import { DeliveryNotFound, DeliveryPending } from "./errors";
import { newId } from "./ids";
import type { LifecycleLogger } from "./lifecycle-log";
import { doorCallbackBody } from "./task-view";

/*
 * Client callbacks (the `deliveries` outbox and its `delivery_attempts` log). A delivery is tried
 * in rounds: the first when its task ends, another for each redelivery; each round follows the
 * schedule below, at most eight tries. `deliveries.tries` counts the tries of the current round
 * (a redelivery sets it back to 0), which is what the schedule needs; the log's `number` counts
 * every try across rounds, so the total is the last try's number.
 */

/** The dialect's `X-Event`: canceled and expired tasks read as failed, as the query does. */
export type DeliveryEvent = "task.completed" | "task.failed";

/**
 * The wait before each try of one (re)delivery, counted from the start of the try before it:
 * immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (Svix's schedule). Eight tries, then the
 * delivery is `failed`; a redelivery starts the schedule over.
 */
export const DELIVERY_SCHEDULE_MS: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** Tries a delivery's log keeps (the most recent); older rows are deleted as new ones come. */
export const DELIVERY_LOG_KEEP = 50;

/** What a try records of the answer's body. */
export const DELIVERY_EXCERPT_BYTES = 1024;

export const deliveryEventOf = (task: Pick<Task, "status">): DeliveryEvent =>
  task.status === "succeeded" ? "task.completed" : "task.failed";

/**
 * The outbox rows of tasks that have just ended with a `callback_url`, in one insert: written in
 * the transaction that ends them, so a delivery exists if and only if its ending committed. The
 * body is the task's query answer in its door's shape, serialized once: every try and every
 * redelivery sends (and signs) the same bytes. Due at once; the caller adds their jobs after
 * commit. Returns each delivery's id by its task's.
 */
export async function writeDeliveries(
  tx: Executor,
  ended: readonly Task[],
  now: Date,
): Promise<Map<string, string>> {
  const rows = ended
    .filter((task) => task.callbackUrl)
    .map((task) => ({
      id: newId("delivery", now.getTime()),
      accountId: task.accountId,
      taskId: task.id,
      event: deliveryEventOf(task),
      url: task.callbackUrl!,
      body: JSON.stringify(doorCallbackBody(task)),
      nextTryAt: now,
      createdAt: now,
      updatedAt: now,
    }));
  if (rows.length > 0) await tx.insert(deliveries).values(rows);
  return new Map(rows.map((row) => [row.taskId, row.id]));
}

/** Adds a delivery's job; rejects when Redis does not take it (the sweep then re-adds it). */
export type EnqueueDelivery = (deliveryId: string) => Promise<void>;

/**
 * What a caller that wrote a delivery in its own transaction (a schedule's run) does once it has
 * committed: adds the delivery's job, if any. Never throws: the row is committed and pending, so a
 * failed add is only a delay until the sweep re-adds it (`next_try_at` overdue). Must not run
 * inside the transaction: a job that ran before the commit would find no row.
 */
export async function enqueueDeliveryOf(
  result: { deliveryId: string | null; batchDeliveryId?: string | null },
  enqueue: EnqueueDelivery | undefined,
  logger: Pick<LifecycleLogger, "warn">,
): Promise<void> {
  if (!enqueue) return;
  // A task's callback, and its batch's when this ending ended the batch.
  for (const deliveryId of [result.deliveryId, result.batchDeliveryId]) {
    if (!deliveryId) continue;
    try {
      await enqueue(deliveryId);
    } catch (error) {
      logger.warn(
        { deliveryId, err: (error as Error)?.message ?? error },
        "delivery enqueue failed; left to the sweep",
      );
    }
  }
}

export async function findDelivery(db: Executor, deliveryId: string): Promise<Delivery | null> {
  const [row] = await db.select().from(deliveries).where(eq(deliveries.id, deliveryId));
  return row ?? null;
}

/** The delivery's most recent try, if it has made one. */
export async function lastDeliveryTry(
  db: Executor,
  deliveryId: string,
): Promise<DeliveryAttempt | null> {
  const [row] = await db
    .select()
    .from(deliveryAttempts)
    .where(eq(deliveryAttempts.deliveryId, deliveryId))
    .orderBy(desc(deliveryAttempts.number))
    .limit(1);
  return row ?? null;
}

/**
 * When the delivery's next try is due, from its log rather than from `next_try_at` (which the
 * sweep moves on when it claims an overdue delivery): at once for the first try of a round,
 * otherwise the schedule's wait after the start of the last try. Null when the round has used
 * up the schedule.
 */
export function deliveryDueAt(
  delivery: Pick<Delivery, "tries">,
  lastTry: Pick<DeliveryAttempt, "startedAt"> | null,
  schedule: readonly number[],
  now: Date,
): Date | null {
  if (delivery.tries >= schedule.length) return null;
  if (delivery.tries === 0 || !lastTry) return now;
  return new Date(lastTry.startedAt.getTime() + schedule[delivery.tries]!);
}

export interface StartedTry {
  delivery: Delivery;
  attemptId: number;
  /** The try's number in the log (across redeliveries). */
  number: number;
  startedAt: Date;
}

/**
 * A delivery looked up by id is still pending: the state compared as text, so only the primary
 * key serves the lookup. As the enum it matches the predicate of `deliveries_due_idx`, and with
 * statistics from a moment when few deliveries were pending the planner read that index whole,
 * every pending delivery at each try (named-statements.test.ts).
 */
const stillPending = sql`${deliveries.state}::text = 'pending'`;

/**
 * Claims the delivery's next try: counts it, records it in the log before anything is sent (as
 * "did not finish" until `finishDeliveryTry` says otherwise, so a worker that dies mid-try still
 * leaves its trace and the try counts against the schedule), and moves `next_try_at` past the
 * try's timeout so the sweep leaves it alone meanwhile. Only if the delivery is still pending with
 * `expectedTries` tries: of two runs that read the same state, one claims it. Null otherwise.
 */
export async function startDeliveryTry(
  db: Executor,
  args: { deliveryId: string; expectedTries: number; now: Date; leaseMs: number },
): Promise<StartedTry | null> {
  return withTransaction(db, async (tx) => {
    const [delivery] = await tx
      .update(deliveries)
      .set({
        tries: sql`${deliveries.tries} + 1`,
        nextTryAt: new Date(args.now.getTime() + args.leaseMs),
        updatedAt: args.now,
      })
      .where(
        and(
          eq(deliveries.id, args.deliveryId),
          stillPending,
          eq(deliveries.tries, args.expectedTries),
        ),
      )
      .returning();
    if (!delivery) return null;
    // The row lock taken above serializes numbering.
    const [{ last }] = (await tx
      .select({ last: sql<number>`coalesce(max(${deliveryAttempts.number}), 0)::int` })
      .from(deliveryAttempts)
      .where(eq(deliveryAttempts.deliveryId, args.deliveryId))) as [{ last: number }];
    const [attempt] = await tx
      .insert(deliveryAttempts)
      .values({
        deliveryId: args.deliveryId,
        number: last + 1,
        startedAt: args.now,
        latencyMs: 0,
        error: "The try did not finish (the worker stopped during it).",
      })
      .returning({ id: deliveryAttempts.id });
    return { delivery, attemptId: attempt!.id, number: last + 1, startedAt: args.now };
  });
}

/** What one try got back. `status` is null when no answer came (refused, timed out, blocked). */
export interface TryResult {
  status: number | null;
  latencyMs: number;
  error: string | null;
  excerpt: string | null;
}

export interface FinishedTry {
  state: DeliveryState;
  nextTryAt: Date | null;
}

/** 2xx succeeds, 410 Gone stops, anything else is retried while the schedule lasts. */
export function stateAfterTry(
  status: number | null,
  roundTries: number,
  schedule: readonly number[],
): DeliveryState {
  if (status !== null && status >= 200 && status < 300) return "succeeded";
  if (status === 410) return "gone";
  return roundTries >= schedule.length ? "failed" : "pending";
}

/**
 * Records a try's answer on its log row and moves the delivery on: succeeded, gone, failed (the
 * schedule ran out), or pending with `next_try_at` the schedule's next step after this try's
 * start. Keeps the delivery's log to its last `DELIVERY_LOG_KEEP` rows.
 */
export async function finishDeliveryTry(
  db: Executor,
  args: {
    started: StartedTry;
    result: TryResult;
    schedule: readonly number[];
    now: Date;
  },
): Promise<FinishedTry> {
  const { started, result } = args;
  const roundTries = started.delivery.tries;
  const state = stateAfterTry(result.status, roundTries, args.schedule);
  const nextTryAt =
    state === "pending" ? new Date(started.startedAt.getTime() + args.schedule[roundTries]!) : null;
  await withTransaction(db, async (tx) => {
    await tx
      .update(deliveryAttempts)
      .set({
        status: result.status,
        latencyMs: result.latencyMs,
        error: result.error,
        excerpt: result.excerpt,
      })
      .where(eq(deliveryAttempts.id, started.attemptId));
    await tx
      .update(deliveries)
      .set({
        state,
        nextTryAt,
        lastStatus: result.status,
        updatedAt: args.now,
        ...(state === "pending" ? {} : { endedAt: args.now }),
      })
      .where(and(eq(deliveries.id, started.delivery.id), stillPending));
    await tx
      .delete(deliveryAttempts)
      .where(
        and(
          eq(deliveryAttempts.deliveryId, started.delivery.id),
          lte(deliveryAttempts.number, started.number - DELIVERY_LOG_KEEP),
        ),
      );
  });
  return { state, nextTryAt };
}

/**
 * Ends a pending delivery whose round has used up the schedule without recording its last try's
 * answer (its worker died mid-try): it is failed, as if that try had failed.
 */
export async function giveUpDelivery(db: Executor, deliveryId: string, now: Date): Promise<void> {
  await db
    .update(deliveries)
    .set({ state: "failed", nextTryAt: null, endedAt: now, updatedAt: now })
    .where(and(eq(deliveries.id, deliveryId), stillPending));
}

/** A task's deliveries, oldest first, each with its log (oldest try first). */
export async function listDeliveries(
  db: Executor,
  taskId: string,
): Promise<Array<{ delivery: Delivery; tries: DeliveryAttempt[] }>> {
  const rows = await db
    .select()
    .from(deliveries)
    .where(eq(deliveries.taskId, taskId))
    .orderBy(asc(deliveries.createdAt), asc(deliveries.id));
  if (rows.length === 0) return [];
  const tries = await db
    .select()
    .from(deliveryAttempts)
    .where(
      inArray(
        deliveryAttempts.deliveryId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(deliveryAttempts.number));
  return rows.map((delivery) => ({
    delivery,
    tries: tries.filter((t) => t.deliveryId === delivery.id),
  }));
}

/**
 * Sends a task's latest delivery again: the same `webhook-id`, URL and body, a new round of the
 * schedule (its tries are added to the same log), state back to pending and due now. The caller
 * adds its job after commit. DeliveryNotFound when the task has none; DeliveryPending while one
 * is still being tried (its schedule already holds a next try).
 */
export async function redeliver(
  db: Executor,
  args: { taskId: string; now: Date },
): Promise<Delivery> {
  return withTransaction(db, async (tx) => {
    const [latest] = await tx
      .select()
      .from(deliveries)
      .where(eq(deliveries.taskId, args.taskId))
      .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
      .limit(1)
      .for("update");
    if (!latest) throw new DeliveryNotFound(args.taskId);
    if (latest.state === "pending") throw new DeliveryPending(latest.id, latest.nextTryAt);
    const [updated] = await tx
      .update(deliveries)
      .set({
        state: "pending",
        tries: 0,
        nextTryAt: args.now,
        endedAt: null,
        updatedAt: args.now,
      })
      .where(eq(deliveries.id, latest.id))
      .returning();
    return updated!;
  });
}

/**
 * Claims up to `limit` pending deliveries whose next try is overdue (before `before`), oldest
 * first, and moves their `next_try_at` to `recheckAt`, as `claimOverdueWakes` does for tasks: a
 * claimed delivery drops out of the overdue set, so the next page and the next sweep reach others,
 * and concurrent sweeps skip each other's claims. The job's own schedule reads the log, not
 * `next_try_at`, so the claim never delays a try.
 */
export async function claimOverdueDeliveries(
  db: Executor,
  args: {
    before: Date;
    recheckAt: Date;
    limit: number;
    /**
     * Claims in id order, after this id (the last of the previous page), instead of by next try:
     * a sweep across every try (Redis emptied) claims each once, as `claimOverdueWakes` does.
     */
    afterId?: string | null;
  },
): Promise<Array<{ id: string; taskId: string | null; accountId: string }>> {
  const byId = args.afterId !== undefined;
  // The page comes back in the order its cursor is compared in, by Postgres (collation included).
  const result = await db.execute(sql`
    with claimed as (
      update ${deliveries} set next_try_at = ${args.recheckAt}
      where id in (
        select id from ${deliveries}
        where state = 'pending' and next_try_at < ${args.before}
          ${args.afterId ? sql`and id > ${args.afterId}` : sql``}
        order by ${byId ? sql`id` : sql`next_try_at`}
        limit ${args.limit}
        for update skip locked
      )
      returning id, task_id, account_id
    )
    select * from claimed ${byId ? sql`order by id` : sql``}`);
  return result.rows.map((row) => ({
    id: row.id as string,
    taskId: row.task_id as string | null,
    accountId: row.account_id as string,
  }));
}

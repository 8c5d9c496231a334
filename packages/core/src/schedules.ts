import {
  deliveries,
  type Executor,
  type Schedule,
  type ScheduleRun,
  scheduleRuns,
  schedules,
  withTransaction,
} from "@ripen/db";
import { and, asc, desc, eq, isNull, sql } from "drizzle-orm";
import {
  BATCH_MAX_ITEMS,
  BatchInvalid,
  type CreateBatchArgs,
  createBatch,
  prepareBatchItem,
} from "./batch-create";
import { DomainError, InvalidRequest } from "./errors";
import { newId } from "./ids";
import type { TaskOrder } from "./tasks";

/*
 * Schedules: a cron in a time zone and the template of the batch each firing creates. Postgres
 * holds them (BullMQ's job schedulers only fire them and are rebuilt from here). A firing starts
 * one run, keyed `{scheduleId}:{fire time ISO}` (unique), however many workers see it.
 *
 * Missed firings (everything was down): "catch up once, then resume": one run for the latest
 * fire time missed, never one per missed time. What counts as missed starts after the later of
 * `last_run_for` and `updated_at`: `updated_at` moves only on the owner's changes (create, patch,
 * pause, resume), never on a run, so the firings of a paused schedule, or those of a cron
 * replaced by a patch, are not owed.
 */

/** A schedule id that does not exist, was deleted, or belongs to another account. */
export class ScheduleNotFound extends DomainError {
  readonly code = "schedule_not_found";
  constructor(readonly scheduleId: string) {
    super(`Schedule '${scheduleId}' does not exist.`);
  }
}

/** The batch create body each run sends, as stored in `schedules.template`. */
export interface ScheduleTemplate {
  requests: unknown[];
  partial?: boolean;
  /** The batch's own callback (`batch.completed`) for each run's batch. */
  callback_url?: string | null;
  /**
   * The schedule's own callback (`schedule.run_failed`), given as the top-level `callback_url`
   * of the create. The schema has no column for it, so it is kept in the template's JSON under
   * this key and never sent with a batch.
   */
  schedule_callback_url?: string | null;
}

/** What a schedule's template and own callback are checked with (the API's model catalog and URL policy). */
export interface TemplateChecks {
  resolveModel: CreateBatchArgs["resolveModel"];
  checkUrls?: CreateBatchArgs["checkUrls"];
}

const isHttpUrl = (value: unknown): value is string =>
  typeof value === "string" && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);

/**
 * Checks a template as a batch create would check it (every item by index: model, input, URLs),
 * without pricing or holding anything: each run is priced and charged when it fires. Throws
 * InvalidRequest naming the field, or BatchInvalid listing every bad item.
 */
export function validateScheduleTemplate(
  raw: unknown,
  callbackUrl: unknown,
  checks: TemplateChecks,
  accountId: string,
): ScheduleTemplate {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InvalidRequest(
      "'template' must be an object: {requests: [...], partial?, callback_url?}.",
      "template",
    );
  }
  const {
    requests,
    partial,
    callback_url: batchCallback,
    ...rest
  } = raw as Record<string, unknown>;
  const unknownField = Object.keys(rest)[0];
  if (unknownField !== undefined) {
    throw new InvalidRequest(
      `'template.${unknownField}' is not a field of a template (requests, partial, callback_url).`,
      `template.${unknownField}`,
    );
  }
  if (!Array.isArray(requests) || requests.length === 0) {
    throw new InvalidRequest(
      "'template.requests' must be a non-empty array of create bodies.",
      "template.requests",
    );
  }
  if (requests.length > BATCH_MAX_ITEMS) {
    throw new InvalidRequest(
      `'template.requests' holds at most ${BATCH_MAX_ITEMS} requests (${requests.length} were sent).`,
      "template.requests",
    );
  }
  if (partial !== undefined && typeof partial !== "boolean") {
    throw new InvalidRequest("'template.partial' must be a boolean.", "template.partial");
  }
  for (const [field, url] of [
    ["template.callback_url", batchCallback],
    ["callback_url", callbackUrl],
  ] as const) {
    if (url === undefined || url === null) continue;
    if (!isHttpUrl(url)) throw new InvalidRequest(`'${field}' must be an http(s) URL.`, field);
    try {
      checks.checkUrls?.(url, undefined);
    } catch (error) {
      if (error instanceof InvalidRequest) throw new InvalidRequest(error.message, field);
      throw error;
    }
  }
  const errors: ConstructorParameters<typeof BatchInvalid>[0] = [];
  for (const [index, item] of requests.entries()) {
    try {
      checkItem(item, checks, accountId);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const field = (error as { field?: unknown }).field;
      errors.push({
        index,
        ...(typeof field === "string" ? { field } : {}),
        code: error.code,
        message: error.message,
      });
    }
  }
  // A template is all or nothing at submit, `partial` or not: a schedule whose items can never be
  // created would fail (or skip them) on every run.
  if (errors.length > 0) throw new BatchInvalid(errors);
  return {
    requests,
    ...(partial === undefined ? {} : { partial }),
    ...(batchCallback ? { callback_url: batchCallback as string } : {}),
    ...(callbackUrl ? { schedule_callback_url: callbackUrl as string } : {}),
  };
}

/** One template item, checked as `createBatch` checks it (model, kind, input, price, URLs). */
function checkItem(raw: unknown, checks: TemplateChecks, accountId: string): void {
  prepareBatchItem(raw, { accountId, ...checks });
}

export const scheduleTemplateOf = (schedule: Pick<Schedule, "template">): ScheduleTemplate =>
  schedule.template as unknown as ScheduleTemplate;

/** Where a failed run is told: the schedule's own callback, else its batches' callback. */
export const scheduleCallbackUrlOf = (schedule: Pick<Schedule, "template">): string | null => {
  const template = scheduleTemplateOf(schedule);
  return template.schedule_callback_url ?? template.callback_url ?? null;
};

export async function createSchedule(
  db: Executor,
  args: {
    accountId: string;
    apiKeyId?: string | null;
    cron: string;
    timezone: string;
    template: ScheduleTemplate;
    now: Date;
  },
): Promise<Schedule> {
  const [row] = await db
    .insert(schedules)
    .values({
      id: newId("schedule", args.now.getTime()),
      accountId: args.accountId,
      apiKeyId: args.apiKeyId ?? null,
      cron: args.cron.trim(),
      timezone: args.timezone,
      template: args.template as unknown as Record<string, unknown>,
      createdAt: args.now,
      updatedAt: args.now,
    })
    .returning();
  return row!;
}

/** The account's schedule (not deleted); another account's is indistinguishable from none. */
export async function getScheduleForAccount(
  db: Executor,
  accountId: string,
  scheduleId: string,
): Promise<Schedule> {
  const [row] = await db
    .select()
    .from(schedules)
    .where(
      and(
        eq(schedules.id, scheduleId),
        eq(schedules.accountId, accountId),
        isNull(schedules.deletedAt),
      ),
    );
  if (!row) throw new ScheduleNotFound(scheduleId);
  return row;
}

/** The account's schedules (deleted ones left out), newest first. */
export function listSchedules(db: Executor, accountId: string): Promise<Schedule[]> {
  return db
    .select()
    .from(schedules)
    .where(and(eq(schedules.accountId, accountId), isNull(schedules.deletedAt)))
    .orderBy(desc(schedules.createdAt), desc(schedules.id));
}

/** A schedule by id, whoever owns it, deleted or not (the worker's read). */
export async function findSchedule(db: Executor, scheduleId: string): Promise<Schedule | null> {
  const [row] = await db.select().from(schedules).where(eq(schedules.id, scheduleId));
  return row ?? null;
}

/** Every schedule that should be firing: active and not deleted (rebuilding Redis). */
export function listActiveSchedules(db: Executor): Promise<Schedule[]> {
  return db
    .select()
    .from(schedules)
    .where(and(eq(schedules.state, "active"), isNull(schedules.deletedAt)))
    .orderBy(asc(schedules.id));
}

/**
 * Changes the owner's fields of a schedule (cron, time zone, template; each optional) or its
 * state (pause, resume), or deletes it (soft). Bumps `updated_at`: firings owed before the change
 * are not caught up. ScheduleNotFound for a deleted or another account's schedule.
 */
export async function updateSchedule(
  db: Executor,
  args: {
    accountId: string;
    scheduleId: string;
    now: Date;
    set: Partial<Pick<Schedule, "cron" | "timezone" | "state">> & {
      template?: ScheduleTemplate;
      deleted?: true;
    };
  },
): Promise<Schedule> {
  const { template, deleted, ...fields } = args.set;
  const [row] = await db
    .update(schedules)
    .set({
      ...fields,
      ...(template ? { template: template as unknown as Record<string, unknown> } : {}),
      ...(deleted ? { deletedAt: args.now } : {}),
      updatedAt: args.now,
    })
    .where(
      and(
        eq(schedules.id, args.scheduleId),
        eq(schedules.accountId, args.accountId),
        isNull(schedules.deletedAt),
      ),
    )
    .returning();
  if (!row) throw new ScheduleNotFound(args.scheduleId);
  return row;
}

/** The schedule's runs, newest fire time first. */
export async function listScheduleRuns(
  db: Executor,
  args: { scheduleId: string; limit: number },
): Promise<ScheduleRun[]> {
  return db
    .select()
    .from(scheduleRuns)
    .where(eq(scheduleRuns.scheduleId, args.scheduleId))
    .orderBy(desc(scheduleRuns.scheduledFor), desc(scheduleRuns.id))
    .limit(args.limit);
}

/** The run key: one run per schedule and fire time, however many workers see the firing. */
export const scheduleRunKey = (scheduleId: string, scheduledFor: Date): string =>
  `${scheduleId}:${scheduledFor.toISOString()}`;

/** The firings a schedule owes no run for: those at or before this (see the top of the file). */
export function scheduleBaseline(schedule: Pick<Schedule, "lastRunFor" | "updatedAt">): Date {
  const last = schedule.lastRunFor?.getTime() ?? 0;
  return new Date(Math.max(last, schedule.updatedAt.getTime()));
}

const unixSeconds = (date: Date | null) => (date ? Math.floor(date.getTime() / 1000) : null);

/** A run on the wire, as the run history and the `schedule.run_failed` callback show it. */
export function scheduleRunView(run: ScheduleRun) {
  return {
    id: run.id,
    object: "schedule_run" as const,
    schedule_id: run.scheduleId,
    scheduled_for: run.scheduledFor.toISOString(),
    state: run.state,
    batch_id: run.batchId,
    error: run.errorCode ? { code: run.errorCode, message: run.errorMessage } : null,
    created_at: unixSeconds(run.createdAt),
  };
}

/** A schedule on the wire; `nextRunAt` is computed by the caller (the cron is BullMQ's). */
export function scheduleView(schedule: Schedule, nextRunAt: Date | null) {
  const template = scheduleTemplateOf(schedule);
  return {
    id: schedule.id,
    object: "schedule" as const,
    cron: schedule.cron,
    timezone: schedule.timezone,
    template: {
      requests: template.requests,
      ...(template.partial === undefined ? {} : { partial: template.partial }),
      callback_url: template.callback_url ?? null,
    },
    callback_url: template.schedule_callback_url ?? null,
    state: schedule.state,
    last_run_for: schedule.lastRunFor?.toISOString() ?? null,
    next_run_at: schedule.state === "active" && nextRunAt ? nextRunAt.toISOString() : null,
    created_at: unixSeconds(schedule.createdAt),
    updated_at: unixSeconds(schedule.updatedAt),
  };
}

export type StartedRun =
  /** Another worker (or an earlier try) already started the run for this fire time. */
  | { outcome: "duplicate"; runKey: string }
  | {
      outcome: "created";
      run: ScheduleRun;
      taskIds: string[];
      /** The items as the queue orders them, in `taskIds` order. */
      items: TaskOrder[];
      /** Each item's model, in `taskIds` order. */
      models: string[];
      rejected: number;
    }
  /** Recorded `failed` with why; `deliveryId` is its callback's outbox row, if it has a URL. */
  | { outcome: "failed"; run: ScheduleRun; deliveryId: string | null };

/**
 * Starts the schedule's run for `scheduledFor`, once: the run row is inserted first under its
 * unique key (`on conflict do nothing`), and only the inserter goes on, in the same transaction,
 * to create the batch (priced and held now, and admitted, as any batch). A run the owner must fix
 * (the batch cannot be paid, an item is no longer valid, no provider can start it before its
 * items' deadlines) is recorded `failed` with the error's code and
 * message, and its `schedule.run_failed` callback written to the outbox: never silently skipped.
 * Anything else (Postgres unreachable) throws with nothing written, so the job's retry starts it
 * again. The caller enqueues `items` and the delivery after commit.
 */
export async function startScheduleRun(
  db: Executor,
  args: {
    schedule: Schedule;
    scheduledFor: Date;
    now: Date;
    /** Admission control over the run's batch (`createBatch`'s): a refusal fails the run. */
    admit?: CreateBatchArgs["admit"];
  } & TemplateChecks,
): Promise<StartedRun> {
  const { schedule, scheduledFor, now } = args;
  const runKey = scheduleRunKey(schedule.id, scheduledFor);
  return withTransaction(db, async (tx) => {
    const [inserted] = await tx
      .insert(scheduleRuns)
      .values({
        id: newId("scheduleRun", now.getTime()),
        scheduleId: schedule.id,
        runKey,
        scheduledFor,
        state: "created",
        createdAt: now,
      })
      .onConflictDoNothing({ target: scheduleRuns.runKey })
      .returning();
    if (!inserted) return { outcome: "duplicate", runKey } as const;
    // Never moves back: a late catch-up for an older time leaves a newer one in place.
    await tx
      .update(schedules)
      .set({
        lastRunFor: sql`greatest(${schedules.lastRunFor}, ${scheduledFor.toISOString()}::timestamptz)`,
      })
      .where(eq(schedules.id, schedule.id));

    const template = scheduleTemplateOf(schedule);
    try {
      // A savepoint: a refused batch leaves nothing of itself behind, the run row stays.
      const created = await tx.transaction((savepoint) =>
        createBatch(savepoint, {
          accountId: schedule.accountId,
          apiKeyId: schedule.apiKeyId,
          requests: template.requests,
          partial: template.partial,
          callbackUrl: template.callback_url ?? null,
          scheduleRunId: inserted.id,
          now,
          resolveModel: args.resolveModel,
          checkUrls: args.checkUrls,
          admit: args.admit,
        }),
      );
      const [run] = await tx
        .update(scheduleRuns)
        .set({ batchId: created.batch.id })
        .where(eq(scheduleRuns.id, inserted.id))
        .returning();
      return {
        outcome: "created",
        run: run!,
        taskIds: created.taskIds,
        items: created.items,
        models: created.models,
        rejected: created.rejected.length,
      } as const;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const [run] = await tx
        .update(scheduleRuns)
        .set({ state: "failed", errorCode: error.code, errorMessage: error.message })
        .where(eq(scheduleRuns.id, inserted.id))
        .returning();
      const deliveryId = await writeRunFailedDelivery(tx, schedule, run!, now);
      return { outcome: "failed", run: run!, deliveryId } as const;
    }
  });
}

/**
 * The `schedule.run_failed` callback in the outbox (no task, no batch: both ids null), sent and
 * retried by the `delivery.send` job like a task's. Body: the run as the run history shows it.
 */
async function writeRunFailedDelivery(
  tx: Executor,
  schedule: Schedule,
  run: ScheduleRun,
  now: Date,
): Promise<string | null> {
  const url = scheduleCallbackUrlOf(schedule);
  if (!url) return null;
  const id = newId("delivery", now.getTime());
  await tx.insert(deliveries).values({
    id,
    accountId: schedule.accountId,
    taskId: null,
    batchId: null,
    event: "schedule.run_failed",
    url,
    body: JSON.stringify(scheduleRunView(run)),
    nextTryAt: now,
    createdAt: now,
    updatedAt: now,
  });
  return id;
}

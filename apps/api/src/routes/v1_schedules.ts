import {
  type Clock,
  createSchedule,
  getScheduleForAccount,
  InvalidRequest,
  isIdOf,
  listScheduleRuns,
  listSchedules,
  type Principal,
  ScheduleNotFound,
  type ScheduleTemplate,
  ServiceUnavailable,
  scheduleRunView,
  scheduleTemplateOf,
  scheduleView,
  updateSchedule,
  validateScheduleTemplate,
} from "@ripen/core";
import { type Executor, type Schedule, withTransaction } from "@ripen/db";
import { getModel } from "@ripen/models";
import type { UrlPolicy } from "@ripen/net";
import { cronProblem, nextFireAfter, type ScheduleQueue } from "@ripen/queue";
import type { Request, Router } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { orUnavailable } from "../doors/database-down";
import { checkCreateUrls } from "../doors/user-urls";
import { nativeEnvelope, unixTime } from "./envelope";
import { batchCreateRequest } from "./v1_batches";

export interface ScheduleRouteDeps {
  db: Executor;
  logger: Logger;
  clock: Clock;
  /** The schedules' BullMQ job schedulers, on the API's (fail-fast) Redis connection. */
  schedules: Pick<ScheduleQueue, "upsert" | "remove">;
  userUrls?: UrlPolicy;
}

const createFields = new Set(["cron", "timezone", "template", "callback_url"]);
const patchFields = new Set(["cron", "timezone", "template", "callback_url"]);

export const SCHEDULE_RUNS_LIMIT_DEFAULT = 20;
export const SCHEDULE_RUNS_LIMIT_MAX = 100;

function scheduleIdOf(req: Request): string {
  const scheduleId = req.params.scheduleId as string;
  // Anything newId could not have made cannot exist: answered without a query.
  if (!isIdOf("schedule", scheduleId)) throw new ScheduleNotFound(scheduleId);
  return scheduleId;
}

function objectBody(req: Request, allowed: Set<string>): Record<string, unknown> {
  const body = req.body as unknown;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidRequest("Request body must be a JSON object.");
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).find((name) => !allowed.has(name));
  if (unknown !== undefined) {
    const name = unknown.slice(0, 64);
    throw new InvalidRequest(
      `'${name}' is not a schedule field (use ${[...allowed].join(", ")}).`,
      name,
    );
  }
  return fields;
}

/** A 400 naming the field, unless BullMQ's parser schedules `cron` in `timezone`. */
function checkCron(cron: unknown, timezone: unknown): { cron: string; timezone: string } {
  if (typeof cron !== "string" || cron.trim() === "") {
    throw new InvalidRequest(
      "'cron' is required: 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first.",
      "cron",
    );
  }
  if (typeof timezone !== "string") {
    throw new InvalidRequest("'timezone' must be an IANA time zone such as \"UTC\".", "timezone");
  }
  const problem = cronProblem(cron.trim(), timezone);
  if (problem) throw new InvalidRequest(problem.message, problem.field);
  return { cron: cron.trim(), timezone };
}

/**
 * Runs a change of a schedule in one transaction with the change of its job scheduler: when
 * Redis does not take the scheduler's change, nothing is written and the client gets a 503 to
 * retry (a schedule that would not fire, or would fire after it was paused, is worse).
 */
async function withScheduler(
  deps: ScheduleRouteDeps,
  write: (tx: Executor) => Promise<Schedule>,
  apply: (schedule: Schedule) => Promise<void>,
): Promise<Schedule> {
  return orUnavailable(() =>
    withTransaction(deps.db, async (tx) => {
      const schedule = await write(tx);
      try {
        await apply(schedule);
      } catch (error) {
        deps.logger.warn(
          { scheduleId: schedule.id, err: (error as Error).message },
          "schedule's job scheduler not changed (redis); nothing written",
        );
        throw new ServiceUnavailable(
          "The service is temporarily unavailable (its queue cannot be reached). Please retry shortly.",
        );
      }
      return schedule;
    }),
  );
}

/**
 * Schedules: a batch created on a cron (5 fields, or 6 with seconds first) in an IANA time zone.
 *
 * - `POST /v1/schedules` `{cron, timezone, template: {requests, partial?, callback_url?},
 *   callback_url?}`: the template is checked as a batch create is (every bad item by index, in
 *   `error.errors`), but priced and charged only when a run creates its batch. The top-level
 *   `callback_url` hears of failed runs (`schedule.run_failed`); the template's is each batch's.
 * - `GET /v1/schedules`, `GET|PATCH|DELETE /v1/schedules/{id}` (PATCH: any of cron, timezone,
 *   template, callback_url; DELETE: the schedule stops and is no longer listed; its runs and
 *   batches stay), `POST /v1/schedules/{id}/pause` and `/resume` (idempotent; firings missed
 *   while paused are not caught up), `GET /v1/schedules/{id}/runs?limit=` (newest first).
 */
export function registerV1Schedules(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: ScheduleRouteDeps,
): void {
  const userUrls = deps.userUrls ?? { allowLoopback: false };
  const checks = {
    resolveModel: getModel,
    checkUrls: (callbackUrl: unknown, input: unknown) =>
      checkCreateUrls(callbackUrl, input, userUrls),
  };
  const view = (schedule: Schedule) => {
    const now = deps.clock.now().getTime();
    const next = nextFireAfter(schedule.cron, schedule.timezone, now);
    return scheduleView(schedule, next === null ? null : new Date(next));
  };
  const answer = (schedule: Schedule): z.input<typeof scheduleResponse> => ({
    code: 200,
    msg: "success",
    data: view(schedule),
  });
  const logChange = (event: string, schedule: Schedule) =>
    deps.logger.info(
      {
        event,
        scheduleId: schedule.id,
        accountId: schedule.accountId,
        cron: schedule.cron,
        timezone: schedule.timezone,
        state: schedule.state,
      },
      event.replace(".", " "),
    );

  router.post("/v1/schedules", async (req, res) => {
    const principal = principalOf(req);
    const fields = objectBody(req, createFields);
    const { cron, timezone } = checkCron(fields.cron, fields.timezone ?? "UTC");
    const template = validateScheduleTemplate(
      fields.template,
      fields.callback_url,
      checks,
      principal.accountId,
    );
    const schedule = await withScheduler(
      deps,
      (tx) =>
        createSchedule(tx, {
          accountId: principal.accountId,
          apiKeyId: principal.keyId,
          cron,
          timezone,
          template,
          now: deps.clock.now(),
        }),
      (created) => deps.schedules.upsert(created),
    );
    logChange("schedule.created", schedule);
    res.json(answer(schedule));
  });

  router.get("/v1/schedules", async (req, res) => {
    const principal = principalOf(req);
    const rows = await orUnavailable(() => listSchedules(deps.db, principal.accountId));
    res.json({ code: 200, msg: "success", data: { schedules: rows.map(view) } } satisfies z.input<
      typeof scheduleListResponse
    >);
  });

  router.get("/v1/schedules/:scheduleId", async (req, res) => {
    const principal = principalOf(req);
    const scheduleId = scheduleIdOf(req);
    const schedule = await orUnavailable(() =>
      getScheduleForAccount(deps.db, principal.accountId, scheduleId),
    );
    res.json(answer(schedule));
  });

  router.patch("/v1/schedules/:scheduleId", async (req, res) => {
    const principal = principalOf(req);
    const scheduleId = scheduleIdOf(req);
    const fields = objectBody(req, patchFields);
    const current = await orUnavailable(() =>
      getScheduleForAccount(deps.db, principal.accountId, scheduleId),
    );
    const timing = checkCron(fields.cron ?? current.cron, fields.timezone ?? current.timezone);
    let template: ScheduleTemplate | undefined;
    if (fields.template !== undefined || fields.callback_url !== undefined) {
      const stored = scheduleTemplateOf(current);
      template = validateScheduleTemplate(
        fields.template ?? {
          requests: stored.requests,
          ...(stored.partial === undefined ? {} : { partial: stored.partial }),
          ...(stored.callback_url ? { callback_url: stored.callback_url } : {}),
        },
        fields.callback_url === undefined ? stored.schedule_callback_url : fields.callback_url,
        checks,
        principal.accountId,
      );
    }
    const schedule = await withScheduler(
      deps,
      (tx) =>
        updateSchedule(tx, {
          accountId: principal.accountId,
          scheduleId,
          now: deps.clock.now(),
          set: { ...timing, ...(template ? { template } : {}) },
        }),
      async (updated) => {
        if (updated.state === "active") await deps.schedules.upsert(updated);
      },
    );
    logChange("schedule.updated", schedule);
    res.json(answer(schedule));
  });

  router.delete("/v1/schedules/:scheduleId", async (req, res) => {
    const principal = principalOf(req);
    const scheduleId = scheduleIdOf(req);
    const schedule = await withScheduler(
      deps,
      (tx) =>
        updateSchedule(tx, {
          accountId: principal.accountId,
          scheduleId,
          now: deps.clock.now(),
          set: { deleted: true },
        }),
      (deleted) => deps.schedules.remove(deleted.id),
    );
    logChange("schedule.deleted", schedule);
    res.json({
      code: 200,
      msg: "success",
      data: { id: schedule.id, deleted: true },
    } satisfies z.input<typeof scheduleDeletedResponse>);
  });

  for (const [action, state] of [
    ["pause", "paused"],
    ["resume", "active"],
  ] as const) {
    router.post(`/v1/schedules/:scheduleId/${action}`, async (req, res) => {
      const principal = principalOf(req);
      const scheduleId = scheduleIdOf(req);
      const current = await orUnavailable(() =>
        getScheduleForAccount(deps.db, principal.accountId, scheduleId),
      );
      // Already so: answered as it is, `updated_at` (the catch-up baseline) left alone.
      if (current.state === state) {
        res.json(answer(current));
        return;
      }
      const schedule = await withScheduler(
        deps,
        (tx) =>
          updateSchedule(tx, {
            accountId: principal.accountId,
            scheduleId,
            now: deps.clock.now(),
            set: { state },
          }),
        (changed) =>
          state === "active" ? deps.schedules.upsert(changed) : deps.schedules.remove(changed.id),
      );
      logChange(action === "pause" ? "schedule.paused" : "schedule.resumed", schedule);
      res.json(answer(schedule));
    });
  }

  router.get("/v1/schedules/:scheduleId/runs", async (req, res) => {
    const principal = principalOf(req);
    const scheduleId = scheduleIdOf(req);
    const unknown = Object.keys(req.query).find((name) => name !== "limit");
    if (unknown !== undefined) {
      throw new InvalidRequest(
        `'${unknown.slice(0, 64)}' is not a parameter (use limit).`,
        unknown,
      );
    }
    let limit = SCHEDULE_RUNS_LIMIT_DEFAULT;
    if (req.query.limit !== undefined) {
      const raw = req.query.limit;
      limit = typeof raw === "string" && /^\d{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
      if (!(limit >= 1 && limit <= SCHEDULE_RUNS_LIMIT_MAX)) {
        throw new InvalidRequest(
          `'limit' must be a whole number from 1 to ${SCHEDULE_RUNS_LIMIT_MAX}.`,
          "limit",
        );
      }
    }
    const runs = await orUnavailable(async () => {
      await getScheduleForAccount(deps.db, principal.accountId, scheduleId);
      return listScheduleRuns(deps.db, { scheduleId, limit });
    });
    res.json({
      code: 200,
      msg: "success",
      data: { runs: runs.map(scheduleRunView) },
    } satisfies z.input<typeof scheduleRunsResponse>);
  });
}

/** `POST /v1/schedules`'s body (PATCH: the same fields, each optional). */
export const scheduleCreateRequest = z
  .strictObject({
    cron: z.string().meta({ description: "5 fields, or 6 with seconds first" }),
    timezone: z.string().optional().meta({ description: "IANA time zone, default UTC" }),
    template: batchCreateRequest,
    callback_url: z.string().nullish().meta({ description: "Hears of failed runs" }),
  })
  .meta({ id: "ScheduleCreateRequest" });
export const schedulePatchRequest = scheduleCreateRequest
  .partial()
  .meta({ id: "SchedulePatchRequest" });

export const scheduleSchema = z
  .object({
    id: z.string(),
    object: z.literal("schedule"),
    cron: z.string(),
    timezone: z.string(),
    template: z.object({
      requests: z.array(z.unknown()),
      partial: z.boolean().optional(),
      callback_url: z.string().nullable(),
    }),
    callback_url: z.string().nullable(),
    state: z.string(),
    last_run_for: z.string().nullable(),
    next_run_at: z.string().nullable(),
    created_at: unixTime.nullable(),
    updated_at: unixTime.nullable(),
  })
  .meta({ id: "Schedule" });

export const scheduleResponse = nativeEnvelope(scheduleSchema).meta({ id: "ScheduleResponse" });
export const scheduleListResponse = nativeEnvelope(
  z.object({ schedules: z.array(scheduleSchema) }),
).meta({ id: "ScheduleList" });
export const scheduleDeletedResponse = nativeEnvelope(
  z.object({ id: z.string(), deleted: z.literal(true) }),
).meta({ id: "ScheduleDeleted" });
export const scheduleRunsResponse = nativeEnvelope(
  z.object({
    runs: z.array(
      z.object({
        id: z.string(),
        object: z.literal("schedule_run"),
        schedule_id: z.string(),
        scheduled_for: z.string(),
        state: z.string(),
        batch_id: z.string().nullable(),
        error: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
        created_at: unixTime.nullable(),
      }),
    ),
  }),
).meta({ id: "ScheduleRuns" });

import { listAttempts, nativeWireStatusOf, type Principal } from "@ripen/core";
import { type Executor, type Task, taskEvents } from "@ripen/db";
import { asc, eq } from "drizzle-orm";
import type { Request, Router } from "express";
import { z } from "zod";
import { orUnavailable } from "../doors/database-down";
import { readTask } from "../doors/read-task";
import { unixTime } from "./envelope";

/**
 * `GET /v1/tasks/{taskId}/history`: every upstream attempt (which provider, its upstream model
 * and id, how it ended, what the upstream charged) and every status change, and the door the
 * task came through.
 */
export function registerV1TasksHistory(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: { db: Executor },
): void {
  router.get("/v1/tasks/:taskId/history", async (req, res) => {
    const history = await orUnavailable(async () => {
      const task = await readTask(deps.db, principalOf(req), req.params.taskId as string);
      const [attempts, events] = await Promise.all([
        listAttempts(deps.db, task.id),
        deps.db
          .select()
          .from(taskEvents)
          .where(eq(taskEvents.taskId, task.id))
          .orderBy(asc(taskEvents.id)),
      ]);
      return toHistory(task, attempts, events);
    });
    res.json(history);
  });
}

const seconds = (date: Date | null) => (date ? Math.floor(date.getTime() / 1000) : null);

function toHistory(
  task: Task,
  attempts: Awaited<ReturnType<typeof listAttempts>>,
  events: (typeof taskEvents.$inferSelect)[],
): z.input<typeof taskHistoryResponse> {
  return {
    id: task.id,
    status: nativeWireStatusOf[task.status],
    model: task.model,
    door: task.door,
    price: task.price,
    attempts: attempts.map((a) => ({
      number: a.number,
      provider: a.provider,
      upstream_model: a.upstreamModel,
      upstream_task_id: a.providerTaskId,
      state: a.state,
      failure_kind: a.failureKind,
      error: a.errorCode || a.errorMessage ? { code: a.errorCode, message: a.errorMessage } : null,
      upstream_cost: a.upstreamCost,
      upstream_cost_usd: a.upstreamCostMicros === null ? null : a.upstreamCostMicros / 1_000_000,
      started_at: seconds(a.startedAt),
      accepted_at: seconds(a.acceptedAt),
      ended_at: seconds(a.endedAt ?? a.resultAt),
    })),
    events: events.map((e) => ({
      from: e.fromStatus,
      to: e.toStatus,
      source: e.source,
      at: seconds(e.createdAt),
      ...(e.detail ? { detail: e.detail } : {}),
    })),
  };
}

/** `GET /v1/tasks/{taskId}/history`'s answer (not enveloped, as the task query). */
export const taskHistoryResponse = z
  .object({
    id: z.string(),
    status: z.enum(["pending", "processing", "completed", "failed"]),
    model: z.string(),
    door: z.string(),
    price: z.int(),
    attempts: z.array(
      z.object({
        number: z.int(),
        provider: z.string(),
        upstream_model: z.string(),
        upstream_task_id: z.string().nullable(),
        state: z.string(),
        failure_kind: z.string().nullable(),
        error: z.object({ code: z.string().nullable(), message: z.string().nullable() }).nullable(),
        upstream_cost: z.number().nullable(),
        upstream_cost_usd: z.number().nullable(),
        started_at: unixTime.nullable(),
        accepted_at: unixTime.nullable(),
        ended_at: unixTime.nullable(),
      }),
    ),
    events: z.array(
      z.object({
        from: z.string().nullable(),
        to: z.string(),
        source: z.string(),
        at: unixTime.nullable(),
        detail: z.record(z.string(), z.unknown()).optional(),
      }),
    ),
  })
  .meta({ id: "TaskHistory" });

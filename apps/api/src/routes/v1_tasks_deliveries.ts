import {
  type Clock,
  type EnqueueDelivery,
  enqueueDeliveryOf,
  getTaskForAccount,
  isIdOf,
  listDeliveries,
  type Principal,
  redeliver,
  TaskNotFound,
} from "@ripen/core";
import type { Delivery, DeliveryAttempt, Executor } from "@ripen/db";
import type { Request, Router } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { orUnavailable } from "../doors/database-down";
import { nativeEnvelope, unixTime } from "./envelope";

const seconds = (date: Date | null) => (date ? Math.floor(date.getTime() / 1000) : null);

/** One delivery; times in unix seconds, as everywhere in the native API. */
function deliveryView(delivery: Delivery) {
  return {
    id: delivery.id,
    event: delivery.event,
    url: delivery.url,
    state: delivery.state,
    created_at: seconds(delivery.createdAt),
    next_try_at: delivery.state === "pending" ? seconds(delivery.nextTryAt) : null,
    ended_at: delivery.state === "pending" ? null : seconds(delivery.endedAt),
    last_status: delivery.lastStatus,
  };
}

/** One try as the log shows it. */
function attemptView(attempt: DeliveryAttempt) {
  return {
    number: attempt.number,
    at: seconds(attempt.startedAt),
    status: attempt.status,
    latency_ms: attempt.latencyMs,
    error: attempt.error,
    excerpt: attempt.excerpt,
  };
}

/**
 * A task's client callbacks. `GET /v1/tasks/{taskId}/deliveries` answers
 * `{task_id, deliveries: [{id (the webhook-id), event, url, state, created_at, next_try_at,
 * ended_at, last_status, attempts: [{number, at, status, latency_ms, error, excerpt}]}]}`, the
 * last 50 tries of each. `POST /v1/tasks/{taskId}/deliveries/redeliver` sends the latest delivery
 * again (same webhook-id and body, a new round of the schedule) and answers it, pending: 404
 * `delivery_not_found` when the task has none, 409 `delivery_pending` while it is still being
 * tried. Another account's task is a 404 `task_not_found`, as everywhere.
 */
export function registerV1TasksDeliveries(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: { db: Executor; clock: Clock; logger: Logger; enqueueDelivery?: EnqueueDelivery },
): void {
  const ownTask = (req: Request) => {
    const principal = principalOf(req);
    const taskId = req.params.taskId as string;
    // Anything newId could not have made cannot exist: answered without a query.
    if (!isIdOf("task", taskId)) throw new TaskNotFound(taskId);
    return getTaskForAccount(deps.db, principal.accountId, taskId);
  };

  router.get("/v1/tasks/:taskId/deliveries", async (req, res) => {
    const list = await orUnavailable(async () => listDeliveries(deps.db, (await ownTask(req)).id));
    res.json({
      task_id: req.params.taskId,
      deliveries: list.map(({ delivery, tries }) => ({
        ...deliveryView(delivery),
        attempts: tries.map(attemptView),
      })),
    } satisfies z.input<typeof deliveriesResponse>);
  });

  router.post("/v1/tasks/:taskId/deliveries/redeliver", async (req, res) => {
    const delivery = await orUnavailable(async () => {
      const task = await ownTask(req);
      return redeliver(deps.db, { taskId: task.id, now: deps.clock.now() });
    });
    deps.logger.info(
      {
        event: "delivery.redelivered",
        taskId: delivery.taskId,
        accountId: delivery.accountId,
        deliveryId: delivery.id,
      },
      "delivery redelivered",
    );
    await enqueueDeliveryOf({ deliveryId: delivery.id }, deps.enqueueDelivery, deps.logger);
    res.json({
      code: 200,
      msg: "success",
      data: deliveryView(delivery),
    } satisfies z.input<typeof redeliverResponse>);
  });
}

export const deliverySchema = z
  .object({
    id: z.string().meta({ description: "The webhook-id" }),
    event: z.string(),
    url: z.string(),
    state: z.string(),
    created_at: unixTime.nullable(),
    next_try_at: unixTime.nullable(),
    ended_at: unixTime.nullable(),
    last_status: z.int().nullable(),
  })
  .meta({ id: "Delivery" });

/** `GET /v1/tasks/{taskId}/deliveries`'s answer. */
export const deliveriesResponse = z
  .object({
    task_id: z.string(),
    deliveries: z.array(
      deliverySchema.extend({
        attempts: z.array(
          z.object({
            number: z.int(),
            at: unixTime.nullable(),
            status: z.int().nullable(),
            latency_ms: z.int().nullable(),
            error: z.string().nullable(),
            excerpt: z.string().nullable(),
          }),
        ),
      }),
    ),
  })
  .meta({ id: "TaskDeliveries" });

export const redeliverResponse = nativeEnvelope(deliverySchema).meta({ id: "Redelivery" });

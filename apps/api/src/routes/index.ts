import type { Clock, Principal } from "@ripen/core";
import type { Executor } from "@ripen/db";
import type { UrlPolicy } from "@ripen/net";
import type { ScheduleQueue, TaskNotifier } from "@ripen/queue";
import type { Request, Router } from "express";
import type { Logger } from "pino";
import type { TaskEventStreams } from "../task-event-streams";
import { registerV1Batches } from "./v1_batches";
import { registerV1Schedules } from "./v1_schedules";
import { registerV1TasksCancel } from "./v1_tasks_cancel";
import { registerV1TasksDeliveries } from "./v1_tasks_deliveries";
import { registerV1TasksEvents } from "./v1_tasks_events";
import { registerV1TasksList } from "./v1_tasks_list";
import { registerV1WebhookSecret } from "./v1_webhook_secret";

/** What Ripen's own endpoints (beside the aivideoapi dialect's) are built from. */
export interface ExtensionDeps {
  db: Executor;
  logger: Logger;
  clock: Clock;
  /** Adds a task's job (after commit). */
  enqueue(taskId: string): Promise<void>;
  /** Live status (`GET /v1/tasks/{id}/events`); without it the endpoint is not served. */
  taskEvents?: TaskEventStreams;
  /** Tells live-status streams (in any API process) that a task changed; call after commit. */
  notifier?: TaskNotifier;
  /**
   * Adds a client callback's job (after commit): a redelivery, a cancel's callback. Optional:
   * without it the worker's sweep adds the job once the delivery is overdue.
   */
  enqueueDelivery?(deliveryId: string): Promise<void>;
  /** Adds a batch's items' jobs in bulk at the batch's priority (after commit). */
  enqueueBatch?(taskIds: readonly string[], options: { priority: number }): Promise<void>;
  /** Which user URLs a create may name (the SSRF guard's submit-time check). */
  userUrls?: UrlPolicy;
  /**
   * The schedules' BullMQ job schedulers (created, changed, removed with each schedule); without
   * it the schedule endpoints are not served.
   */
  schedules?: Pick<ScheduleQueue, "upsert" | "remove">;
}

/**
 * Registers Ripen's own endpoints on the native API's router, after its authentication and body
 * parsing, so they answer with its keys and in its error envelope. One route file per endpoint
 * or small group.
 */
export function registerExtensions(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: ExtensionDeps,
): void {
  registerV1TasksEvents(router, principalOf, deps);
  registerV1TasksCancel(router, principalOf, deps);
  registerV1TasksList(router, principalOf, deps);
  registerV1TasksDeliveries(router, principalOf, deps);
  registerV1WebhookSecret(router, principalOf, deps);
  registerV1Batches(router, principalOf, deps);
  if (deps.schedules)
    registerV1Schedules(router, principalOf, { ...deps, schedules: deps.schedules });
}

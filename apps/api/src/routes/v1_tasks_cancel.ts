import {
  type Clock,
  cancelTask,
  type EnqueueDelivery,
  enqueueDeliveryOf,
  isIdOf,
  logTaskEnded,
  type Principal,
  TaskNotFound,
} from "@ripen/core";
import type { Executor } from "@ripen/db";
import type { TaskNotifier } from "@ripen/queue";
import type { Request, Router } from "express";
import type { Logger } from "pino";
import { orUnavailable } from "../doors/database-down";
import { toAivideoapiTask } from "./native";

/**
 * `POST /v1/tasks/{taskId}/cancel`: ends a task that has not ended as canceled and refunds its
 * hold, answering the task as `GET /v1/tasks/{taskId}` then shows it (`failed`, `error.code`
 * `task_canceled`). A task that has already ended is a 409 `task_already_ended`; another
 * account's is a 404. No upstream dialect documents a cancel, so an attempt in flight runs on:
 * its result is recorded on the attempt when it comes and changes nothing else. The task's job
 * finds it ended at its next run and frees its provider slot. The cancel itself needs only
 * Postgres; the callback's job and the live-status hint after it are best effort (the sweep and
 * the streams' re-reads cover a Redis outage).
 */
export function registerV1TasksCancel(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: {
    db: Executor;
    logger: Logger;
    clock: Clock;
    notifier?: TaskNotifier;
    enqueueDelivery?: EnqueueDelivery;
  },
): void {
  router.post("/v1/tasks/:taskId/cancel", async (req, res) => {
    const principal = principalOf(req);
    const taskId = req.params.taskId as string;
    if (!isIdOf("task", taskId)) throw new TaskNotFound(taskId);
    const ended = await orUnavailable(() =>
      cancelTask(deps.db, { accountId: principal.accountId, taskId, now: deps.clock.now() }),
    );
    logTaskEnded(deps.logger, ended.task, "api");
    // After commit: the client's callback (task.failed, as the query shows it) and live status.
    await enqueueDeliveryOf(ended, deps.enqueueDelivery, deps.logger);
    await deps.notifier?.taskChanged(ended.task.id);
    res.json(toAivideoapiTask(ended.task));
  });
}

import {
  type Clock,
  cancelTask,
  isIdOf,
  type Principal,
  type TaskEnder,
  TaskNotFound,
} from "@ripen/core";
import type { Executor } from "@ripen/db";
import type { Request, Router } from "express";
import { orUnavailable } from "../doors/database-down";
import { toAivideoapiTask } from "./native";

/**
 * `POST /v1/tasks/{taskId}/cancel`: ends a task that has not ended as canceled and refunds its
 * hold, answering the task as `GET /v1/tasks/{taskId}` then shows it (`failed`, `error.code`
 * `task_canceled`). A task that has already ended is a 409 `task_already_ended`; another
 * account's is a 404. No upstream dialect documents a cancel, so an attempt in flight runs on:
 * its result is recorded on the attempt when it comes and changes nothing else. The task's job
 * finds it ended at its next run. The cancel itself needs only Postgres; what follows its commit
 * (the task ender's step: callback job, live-status hint, provider slot) is best effort (the
 * sweep and the streams' re-reads cover a Redis outage).
 */
export function registerV1TasksCancel(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: { db: Executor; clock: Clock; ender: TaskEnder },
): void {
  router.post("/v1/tasks/:taskId/cancel", async (req, res) => {
    const principal = principalOf(req);
    const taskId = req.params.taskId as string;
    if (!isIdOf("task", taskId)) throw new TaskNotFound(taskId);
    const ended = await orUnavailable(() =>
      cancelTask(deps.db, deps.ender, {
        accountId: principal.accountId,
        taskId,
        now: deps.clock.now(),
      }),
    );
    res.json(toAivideoapiTask(ended));
  });
}

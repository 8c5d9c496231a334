import {
  getTaskForAccount,
  InvalidRequest,
  isDatabaseUnavailable,
  isIdOf,
  type Principal,
  ServiceUnavailable,
  TaskNotFound,
} from "@ripen/core";
import type { Executor } from "@ripen/db";
import type { Request, Router } from "express";
import type { TaskEventStreams } from "../task-event-streams";

/** `Last-Event-ID`: the id of an event this endpoint sent (a `task_events` id), or nothing. */
function lastEventIdOf(req: Request): number | null {
  const header = req.get("last-event-id")?.trim();
  if (!header) return null;
  const id = /^\d{1,15}$/.test(header) ? Number(header) : Number.NaN;
  if (!Number.isSafeInteger(id)) {
    throw new InvalidRequest(
      "'Last-Event-ID' must be the id of an event this stream sent (a non-negative integer).",
      "Last-Event-ID",
    );
  }
  return id;
}

/**
 * `GET /v1/tasks/{taskId}/events`: the task's status as server-sent events. Every transition is
 * one `event: status` whose `id` is its `task_events` id and whose data is the task query body
 * as it stood then, plus the transition in Ripen's vocabulary; the terminal one ends the stream.
 * Authentication and the 404 for another account's task happen before the stream starts, in the
 * error envelope.
 */
export function registerV1TasksEvents(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: { db: Executor; taskEvents?: TaskEventStreams },
): void {
  const streams = deps.taskEvents;
  if (!streams) return;
  router.get("/v1/tasks/:taskId/events", async (req, res) => {
    const principal = principalOf(req);
    const taskId = req.params.taskId as string;
    if (!isIdOf("task", taskId)) throw new TaskNotFound(taskId);
    const lastEventId = lastEventIdOf(req);
    try {
      const task = await getTaskForAccount(deps.db, principal.accountId, taskId);
      await streams.open({ res, task, lastEventId });
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      throw new ServiceUnavailable(
        "The service is temporarily unavailable (its database cannot be reached). Please retry shortly.",
      );
    }
  });
}

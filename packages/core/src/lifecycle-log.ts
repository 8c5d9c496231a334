import type { Task } from "@ripen/db";
import { creditsCaptured, creditsRefunded, tasksEnded } from "@ripen/metrics";
import { taskEvent } from "@ripen/telemetry";

/** The subset of a pino logger the lifecycle lines need. */
export interface LifecycleLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Fields every lifecycle line carries, so an operator can follow one task with a grep. */
export function taskFields(task: Pick<Task, "id" | "provider" | "model" | "accountId">) {
  return { taskId: task.id, provider: task.provider, model: task.model, accountId: task.accountId };
}

/**
 * Counted in the metrics (`ripen_tasks_ended_total`, credits captured or refunded) as well: every
 * ending of every process passes here once, after its commit.
 *
 * One line for the ending (`task.succeeded`, `task.failed`, `task.canceled`, `task.expired`) and,
 * for every ending but success, one for the refund of its hold.
 */
export function logTaskEnded(logger: LifecycleLogger, task: Task, source: string): void {
  const fields = { ...taskFields(task), source, attempts: task.attempts };
  tasksEnded.inc({
    model: task.model,
    door: task.door,
    provider: task.provider ?? "none",
    outcome: task.status,
  });
  (task.status === "succeeded" ? creditsCaptured : creditsRefunded).inc(
    { model: task.model },
    task.price,
  );
  // The ending is a span of the task's trace, and its lines are written inside it.
  const attributes = { "ripen.outcome": task.status, "ripen.source": source };
  taskEvent("task.ended", task.id, attributes, () => {
    if (task.status === "succeeded") {
      logger.info({ event: "task.succeeded", ...fields, captured: task.price }, "task succeeded");
      return;
    }
    logger.info(
      { event: `task.${task.status}`, ...fields, errorCode: task.errorCode },
      `task ${task.status}`,
    );
    logger.info(
      { event: "credits.refunded", ...taskFields(task), amount: task.price },
      "credits refunded",
    );
  });
}

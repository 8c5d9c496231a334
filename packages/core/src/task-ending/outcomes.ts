import type { TaskOutput } from "@ripen/db";

/** How a task ends: its terminal status and what the client is told. */
export type TaskOutcome =
  | { status: "succeeded"; output: TaskOutput }
  | { status: "failed" | "canceled" | "expired"; errorCode: string; errorMessage: string };

export function expiredOutcome(): TaskOutcome {
  return {
    status: "expired",
    errorCode: "task_expired",
    errorMessage: "The task did not finish before its deadline; its credits were refunded.",
  };
}

export function canceledOutcome(): TaskOutcome {
  return {
    status: "canceled",
    errorCode: "task_canceled",
    errorMessage: "The task was canceled by its owner; its credits were refunded.",
  };
}

/** A batch item's cancel, as its batch's cancel ends it. */
export function batchCanceledOutcome(): TaskOutcome {
  return {
    status: "canceled",
    errorCode: "task_canceled",
    errorMessage:
      "The task was canceled by its owner (its batch was canceled); its credits were refunded.",
  };
}

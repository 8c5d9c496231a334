import type { Task, TaskStatus } from "@ripen/db";

/**
 * A task as the native API shows it (the aivideoapi dialect's query answer, documents 000 and
 * 002), which is also the body of its client callback ("the format matches the query task
 * response"). It lives in core, pure, because the completion transaction writes the callback body
 * in the same statement group that ends the task (the outbox), and core depends on no dialect
 * package; the API's `GET /v1/tasks/{id}` answers with this same function, so the two cannot
 * drift. `@ripen/dialect-aivideoapi`'s `TaskResponse` is checked against it where the API uses it.
 */
export interface NativeTaskView {
  id: string;
  status: NativeWireStatus;
  model: string;
  created_at: number;
  completed_at?: number;
  output?: { urls: string[]; metadata: Record<string, unknown> };
  error?: { code: string; message: string };
}

export type NativeWireStatus = "pending" | "processing" | "completed" | "failed";

/** Internal states in the document's vocabulary: canceled and expired read as failed. */
export const nativeWireStatusOf: Record<TaskStatus, NativeWireStatus> = {
  queued: "pending",
  submitting: "pending",
  running: "processing",
  succeeded: "completed",
  failed: "failed",
  canceled: "failed",
  expired: "failed",
};

const unixSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** Ripen's task in the native vocabulary; expired and canceled read as failed with their own code. */
export function nativeTaskView(task: Task): NativeTaskView {
  const view: NativeTaskView = {
    id: task.id,
    status: nativeWireStatusOf[task.status],
    model: task.model,
    created_at: unixSeconds(task.createdAt),
  };
  if (task.status === "succeeded" && task.output) {
    if (task.completedAt) view.completed_at = unixSeconds(task.completedAt);
    view.output = { urls: task.output.urls, metadata: task.output.metadata };
  } else if (view.status === "failed") {
    view.error = {
      code: task.errorCode ?? "upstream_error",
      message: task.errorMessage ?? "Generation failed",
    };
  }
  return view;
}

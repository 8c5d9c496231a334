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

const epochMs = (date: Date | null) => (date ? date.getTime() : null);

/** The model name a door's client used, when the door echoes one; else Ripen's model id. */
function doorModelOf(task: Task): string {
  const model = task.doorRequest?.model;
  return typeof model === "string" ? model : task.model;
}

/** `state` of the Kie family (documents 003 and 004): waiting until the task ends. */
export type KieFamilyState = "waiting" | "success" | "fail";

/**
 * A task as the Kie jobs API (document 003) and revid (004) show it: the query answer's `data`,
 * also its callback's. `param` is the create request as a JSON string: the one the client sent
 * when the task came through one of these doors, else Ripen's own `{model, input}`. Typed against
 * the dialects' schemas where the API uses it.
 */
export interface KieFamilyRecordView {
  taskId: string;
  model: string;
  state: KieFamilyState;
  param: string;
  resultJson: string | null;
  failCode: string | null;
  failMsg: string | null;
  costTime: number | null;
  completeTime: number | null;
  createTime: number;
}

export function kieFamilyRecordView(task: Task): KieFamilyRecordView {
  const ended = isEndedStatus(task.status);
  const state: KieFamilyState =
    task.status === "succeeded" ? "success" : ended ? "fail" : "waiting";
  const echoed = task.door === "kie" || task.door === "revid" ? task.doorRequest : null;
  return {
    taskId: task.id,
    model: doorModelOf(task),
    state,
    param: JSON.stringify(echoed ?? { model: task.model, input: task.input }),
    resultJson:
      state === "success" && task.output ? JSON.stringify({ resultUrls: task.output.urls }) : null,
    failCode: state === "fail" ? (task.errorCode ?? "upstream_error") : null,
    failMsg: state === "fail" ? (task.errorMessage ?? "Generation failed") : null,
    costTime:
      ended && task.completedAt ? task.completedAt.getTime() - task.createdAt.getTime() : null,
    completeTime: ended ? epochMs(task.completedAt) : null,
    createTime: task.createdAt.getTime(),
  };
}

const isEndedStatus = (status: TaskStatus) =>
  status === "succeeded" || status === "failed" || status === "canceled" || status === "expired";

/** Document 001's status words: images end `completed`, videos `succeeded`. */
export type NanobananaImageStatus = "pending" | "processing" | "completed" | "failed";
export type NanobananaVideoStatus = "pending" | "processing" | "succeeded" | "failed";

/**
 * A task as document 001's status endpoints show it (`data` of images/status or videos/status,
 * by the task's kind). `provider` is the upstream provider running it (null until one took it).
 * `progress`: 0 until an upstream accepted it, 50 while it runs, 100 once it
 * ended. `error_code` is one of the document's codes: CONTENT_FILTERED when a safety filter
 * refused it, INTERNAL_ERROR for any other failure; `error` says what happened in words.
 */
export interface NanobananaStatusView {
  task_id: string;
  status: NanobananaImageStatus | NanobananaVideoStatus;
  progress: number;
  provider: string | null;
  completed_at: string | null;
  image_url?: string | null;
  image_urls?: string[];
  video_url?: string | null;
  error?: string;
  error_code?: "CONTENT_FILTERED" | "INTERNAL_ERROR";
}

export function nanobananaStatusView(task: Task, kind: "image" | "video"): NanobananaStatusView {
  const native = nativeWireStatusOf[task.status];
  // A video create answers `processing` (the document's example), so its polls never read an
  // earlier `pending`: both in-between states are processing for videos.
  const status =
    kind === "image"
      ? native
      : native === "completed"
        ? "succeeded"
        : native === "pending"
          ? "processing"
          : native;
  const view: NanobananaStatusView = {
    task_id: task.id,
    status,
    progress: isEndedStatus(task.status) ? 100 : task.status === "running" ? 50 : 0,
    provider: task.provider,
    completed_at:
      task.completedAt && isEndedStatus(task.status) ? task.completedAt.toISOString() : null,
  };
  const urls = task.status === "succeeded" ? (task.output?.urls ?? []) : [];
  if (kind === "image") {
    view.image_url = urls[0] ?? null;
    if (urls.length > 1) view.image_urls = urls;
  } else {
    view.video_url = urls[0] ?? null;
  }
  if (native === "failed") {
    view.error = task.errorMessage ?? "Generation failed";
    view.error_code = /content|filter|safety|moderat/i.test(task.errorCode ?? "")
      ? "CONTENT_FILTERED"
      : "INTERNAL_ERROR";
  }
  return view;
}

/**
 * The body of a task's client callback, in the shape of the door it came through: the native
 * query answer, or the Kie family's whole query answer (`{code, msg, data}`, as documents 003 and
 * 004 say a callback is). Written once, in the transaction that ends the task.
 */
export function doorCallbackBody(task: Task): unknown {
  switch (task.door) {
    case "kie":
    case "revid":
      return { code: 200, msg: "success", data: kieFamilyRecordView(task) };
    default:
      // Document 001 has no callbacks: a nanobanana create names no URL, so only native remains.
      return nativeTaskView(task);
  }
}

import { getCredits, InvalidRequest, nativeTaskView, type Principal } from "@ripen/core";
import type { ModelKind, Task } from "@ripen/db";
import type {
  AivideoapiBackend,
  CreateTaskOptions,
  CreateTaskRequest,
  TaskResponse,
} from "@ripen/dialect-aivideoapi";
import { getModel } from "@ripen/models";
import { admitRequest } from "../doors/admission";
import { createTaskThroughDoor } from "../doors/create-task";
import { unavailableWhenDatabaseIsDown } from "../doors/database-down";
import type { DoorDeps } from "../doors/deps";
import { readTask } from "../doors/read-task";

/**
 * Ripen's task in the native vocabulary (the aivideoapi dialect's query answer); expired and
 * canceled read as failed with their own code. Core's `nativeTaskView`, the very function that
 * writes a native client callback's body, so the query answer and the callback cannot differ;
 * typed here against the dialect's schema.
 */
export function toAivideoapiTask(task: Task): TaskResponse {
  return nativeTaskView(task);
}

/**
 * A native create (`POST /v1/images/generations`, `POST /v1/videos/generations`): the model must
 * be of the endpoint's kind; the native price list applies.
 */
export async function createNativeTask(
  deps: DoorDeps,
  principal: Principal,
  request: CreateTaskRequest,
  kind: ModelKind,
  options: CreateTaskOptions = {},
): Promise<{ taskId: string }> {
  const model = getModel(request.model);
  if (model.kind !== kind) {
    throw new InvalidRequest(
      `'model' ${model.id} is ${model.kind === "video" ? "a video" : "an image"} model: create it with POST /v1/${model.kind}s/generations.`,
      "model",
    );
  }
  const task = await createTaskThroughDoor(deps, principal, {
    door: "native",
    model,
    input: request.input,
    callbackUrl: request.callback_url ?? null,
    timeoutSeconds: request.timeout_seconds,
    idempotencyKey: options.idempotencyKey,
    idempotencyScope: { endpoint: `POST /v1/${kind}s/generations`, body: request },
  });
  return { taskId: task.id };
}

/**
 * The native door: the aivideoapi dialect's three documented endpoints (served by its router,
 * the same one the sandbox uses) over Ripen's accounts, tasks and ledger. Ripen's own endpoints
 * beside them are the `v1_*` route files.
 */
export function nativeDoor(deps: DoorDeps): AivideoapiBackend<Principal> {
  return unavailableWhenDatabaseIsDown<AivideoapiBackend<Principal>>({
    authenticate: (apiKey, req) => admitRequest(deps, apiKey, req),
    createTask: (principal, request, options) =>
      createNativeTask(deps, principal, request, "image", options),
    getTask: async (principal, taskId) =>
      toAivideoapiTask(await readTask(deps.db, principal, taskId)),
    async getCredits(principal) {
      const credits = await getCredits(deps.db, principal.accountId);
      return { credits: credits.available, balance: credits.balance, held: credits.held };
    },
  });
}

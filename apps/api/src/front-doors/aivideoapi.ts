import {
  authenticateApiKey,
  type Clock,
  getCredits,
  getTaskForAccount,
  isDatabaseUnavailable,
  isIdOf,
  type Principal,
  ServiceUnavailable,
  TaskNotFound,
  type TaskWriter,
  taskFields,
} from "@ripen/core";
import type { Executor, Task, TaskStatus } from "@ripen/db";
import type { AivideoapiBackend, TaskResponse, WireStatus } from "@ripen/dialect-aivideoapi";
import type { Logger } from "pino";

const wireStatusOf: Record<TaskStatus, WireStatus> = {
  queued: "pending",
  submitting: "pending",
  running: "processing",
  succeeded: "completed",
  failed: "failed",
  canceled: "failed",
  expired: "failed",
};

const unixSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** Ripen's task in the dialect's vocabulary; expired and canceled read as failed with their own code. */
export function toAivideoapiTask(task: Task): TaskResponse {
  const view: TaskResponse = {
    id: task.id,
    status: wireStatusOf[task.status],
    model: task.model,
    created_at: unixSeconds(task.createdAt),
  };
  if (task.status === "succeeded" && task.output) {
    if (task.completedAt) view.completed_at = unixSeconds(task.completedAt);
    view.output = { urls: task.output.urls, metadata: task.output.metadata };
  } else if (view.status === "failed") {
    view.error = {
      code: task.errorCode ?? "upstream_error",
      message: task.errorMessage ?? "Image generation failed",
    };
  }
  return view;
}

/** Postgres being down is the client's 503, not our 500: the request can simply be retried. */
function unavailableWhenDatabaseIsDown<P>(
  backend: AivideoapiBackend<P>,
  logger: Logger,
): AivideoapiBackend<P> {
  const translate = (error: unknown): never => {
    if (isDatabaseUnavailable(error)) {
      logger.warn({ err: error }, "database unavailable; answering 503");
      throw new ServiceUnavailable(
        "The service is temporarily unavailable (its database cannot be reached). Please retry shortly.",
      );
    }
    throw error;
  };
  return {
    authenticate: (apiKey, req) => backend.authenticate(apiKey, req).catch(translate),
    createTask: (principal, request) => backend.createTask(principal, request).catch(translate),
    getTask: (principal, taskId) => backend.getTask(principal, taskId).catch(translate),
    getCredits: (principal) => backend.getCredits(principal).catch(translate),
  };
}

export interface FrontDoorDeps {
  db: Executor;
  /** Writes creates, batching those that arrive together (see createTaskWriter). */
  tasks: TaskWriter;
  /** Adds the task's job after commit. A failure here is recovered by the sweep. */
  enqueue(taskId: string): Promise<void>;
  clock: Clock;
  logger: Logger;
}

/** The aivideoapi dialect served over Ripen's own accounts, tasks and ledger. */
export function aivideoapiFrontDoor(deps: FrontDoorDeps): AivideoapiBackend<Principal> {
  const backend: AivideoapiBackend<Principal> = {
    authenticate: (apiKey) => authenticateApiKey(deps.db, apiKey),

    async createTask(principal, request) {
      const task = await deps.tasks.create({
        accountId: principal.accountId,
        apiKeyId: principal.keyId,
        model: request.model,
        input: request.input,
        callbackUrl: request.callback_url ?? null,
        now: deps.clock.now(),
      });
      deps.logger.info(
        { event: "task.created", ...taskFields(task), price: task.price },
        "task created",
      );
      try {
        await deps.enqueue(task.id);
      } catch (error) {
        // The task is committed; the sweep will enqueue it. The client still gets its id.
        deps.logger.warn({ err: error, taskId: task.id }, "enqueue failed; left to the sweep");
      }
      return { taskId: task.id };
    },

    async getTask(principal, taskId) {
      // Anything newId could not have made cannot exist: answered without a query.
      if (!isIdOf("task", taskId)) throw new TaskNotFound(taskId);
      return toAivideoapiTask(await getTaskForAccount(deps.db, principal.accountId, taskId));
    },

    async getCredits(principal) {
      const credits = await getCredits(deps.db, principal.accountId);
      return { credits: credits.available, balance: credits.balance, held: credits.held };
    },
  };
  return unavailableWhenDatabaseIsDown(backend, deps.logger);
}

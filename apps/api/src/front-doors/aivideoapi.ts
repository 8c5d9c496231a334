import {
  authenticateApiKey,
  type Clock,
  type CreatedTask,
  createTaskOnce,
  getCredits,
  getTaskForAccount,
  InvalidRequest,
  idempotencyRequestHash,
  isDatabaseUnavailable,
  isIdOf,
  listAttempts,
  nativeTaskView,
  nativeWireStatusOf,
  type Principal,
  parseIdempotencyKey,
  prepareTask,
  ServiceUnavailable,
  TaskNotFound,
  type TaskWriter,
  taskFields,
} from "@ripen/core";
import { type Executor, type ModelKind, type Task, type TaskStatus, taskEvents } from "@ripen/db";
import type {
  AivideoapiBackend,
  CreateTaskOptions,
  CreateTaskRequest,
  TaskResponse,
  WireStatus,
} from "@ripen/dialect-aivideoapi";
import { getModel } from "@ripen/models";
import type { UrlPolicy } from "@ripen/net";
import { asc, eq } from "drizzle-orm";
import type { Logger } from "pino";
import { checkCreateUrls } from "./user-urls";

const wireStatusOf: Record<TaskStatus, WireStatus> = nativeWireStatusOf;

/**
 * Ripen's task in the dialect's vocabulary; expired and canceled read as failed with their own
 * code. Core's `nativeTaskView`, the very function that writes a client callback's body, so the
 * query answer and the callback cannot differ; typed here against the dialect's schema.
 */
export function toAivideoapiTask(task: Task): TaskResponse {
  return nativeTaskView(task);
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
    createTask: (principal, request, options) =>
      backend.createTask(principal, request, options).catch(translate),
    createVideoTask: (principal, request, options) =>
      backend.createVideoTask!(principal, request, options).catch(translate),
    getTaskHistory: (principal, taskId) =>
      backend.getTaskHistory!(principal, taskId).catch(translate),
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
  /** Which user URLs a create may name (the SSRF guard's submit-time check). */
  userUrls: UrlPolicy;
}

/** The aivideoapi dialect served over Ripen's own accounts, tasks and ledger. */
export function aivideoapiFrontDoor(deps: FrontDoorDeps): AivideoapiBackend<Principal> {
  async function create(
    principal: Principal,
    request: CreateTaskRequest,
    kind: ModelKind,
    options: CreateTaskOptions = {},
  ) {
    const model = getModel(request.model);
    if (model.kind !== kind) {
      throw new InvalidRequest(
        `'model' ${model.id} is ${model.kind === "video" ? "a video" : "an image"} model: create it with POST /v1/${model.kind}s/generations.`,
        "model",
      );
    }
    checkCreateUrls(request.callback_url, request.input, deps.userUrls);
    const idempotencyKey = parseIdempotencyKey(options.idempotencyKey);
    const args = {
      accountId: principal.accountId,
      apiKeyId: principal.keyId,
      model,
      input: request.input,
      callbackUrl: request.callback_url ?? null,
      timeoutSeconds: request.timeout_seconds,
      now: deps.clock.now(),
    };
    let task: CreatedTask;
    if (idempotencyKey === undefined) {
      task = await deps.tasks.create(args);
    } else {
      // Keyed creates bypass group commit: each is one statement that claims the key with the
      // task (see createTaskOnce). Invalid requests fail before the key is looked at.
      const once = await createTaskOnce(deps.db, prepareTask(args), {
        key: idempotencyKey,
        requestHash: idempotencyRequestHash(`POST /v1/${kind}s/generations`, request),
        now: args.now,
      });
      task = once.task;
      if (once.replayed) {
        deps.logger.info(
          { event: "task.replayed", ...taskFields(task), idempotencyKey },
          "idempotent create answered with the task its key made",
        );
        return { taskId: task.id };
      }
    }
    deps.logger.info(
      { event: "task.created", ...taskFields(task), kind, price: task.price },
      "task created",
    );
    try {
      await deps.enqueue(task.id);
    } catch (error) {
      // The task is committed; the sweep will enqueue it. The client still gets its id.
      deps.logger.warn({ err: error, taskId: task.id }, "enqueue failed; left to the sweep");
    }
    return { taskId: task.id };
  }

  const backend: AivideoapiBackend<Principal> = {
    authenticate: (apiKey) => authenticateApiKey(deps.db, apiKey),
    createTask: (principal, request, options) => create(principal, request, "image", options),
    createVideoTask: (principal, request, options) => create(principal, request, "video", options),

    async getTask(principal, taskId) {
      // Anything newId could not have made cannot exist: answered without a query.
      if (!isIdOf("task", taskId)) throw new TaskNotFound(taskId);
      return toAivideoapiTask(await getTaskForAccount(deps.db, principal.accountId, taskId));
    },

    async getTaskHistory(principal, taskId) {
      if (!isIdOf("task", taskId)) throw new TaskNotFound(taskId);
      const task = await getTaskForAccount(deps.db, principal.accountId, taskId);
      const [attempts, events] = await Promise.all([
        listAttempts(deps.db, task.id),
        deps.db
          .select()
          .from(taskEvents)
          .where(eq(taskEvents.taskId, task.id))
          .orderBy(asc(taskEvents.id)),
      ]);
      return toHistory(task, attempts, events);
    },

    async getCredits(principal) {
      const credits = await getCredits(deps.db, principal.accountId);
      return { credits: credits.available, balance: credits.balance, held: credits.held };
    },
  };
  return unavailableWhenDatabaseIsDown(backend, deps.logger);
}

const seconds = (date: Date | null) => (date ? Math.floor(date.getTime() / 1000) : null);

/**
 * A task's history: every upstream attempt (which provider, its upstream model and id, how it
 * ended, what the upstream charged) and every status change. Ripen's own endpoint.
 */
function toHistory(
  task: Task,
  attempts: Awaited<ReturnType<typeof listAttempts>>,
  events: (typeof taskEvents.$inferSelect)[],
) {
  return {
    id: task.id,
    status: wireStatusOf[task.status],
    model: task.model,
    price: task.price,
    attempts: attempts.map((a) => ({
      number: a.number,
      provider: a.provider,
      upstream_model: a.upstreamModel,
      upstream_task_id: a.providerTaskId,
      state: a.state,
      failure_kind: a.failureKind,
      error: a.errorCode || a.errorMessage ? { code: a.errorCode, message: a.errorMessage } : null,
      upstream_cost: a.upstreamCost,
      upstream_cost_usd: a.upstreamCostMicros === null ? null : a.upstreamCostMicros / 1_000_000,
      started_at: seconds(a.startedAt),
      accepted_at: seconds(a.acceptedAt),
      ended_at: seconds(a.endedAt ?? a.resultAt),
    })),
    events: events.map((e) => ({
      from: e.fromStatus,
      to: e.toStatus,
      source: e.source,
      at: seconds(e.createdAt),
      ...(e.detail ? { detail: e.detail } : {}),
    })),
  };
}

import { ModelNotFound, parseInput } from "@ripen/core";
import {
  createKieRouter,
  documentedCost,
  documentedModels,
  isKieModel,
  type KieBackend,
  type KieInput,
  type RecordInfoData,
  type TaskState,
  WireError,
} from "@ripen/dialect-kie";
import type { Request, Router } from "express";
import type { z } from "zod";
import {
  type InjectedFault,
  logUnexpected,
  type SimAccount,
  type SimTask,
  type SimulatorKit,
  type TaskFailure,
} from "../kit";
import { originOf } from "./origin";

/** What this simulator does beyond the kit's faults; read on every call, so tests may change it. */
export interface KieSimulatorSettings {
  /**
   * Answer errors as HTTP 200 with the code in the `{code, msg, data}` body, as Kie servers
   * often do (default false: the code is the HTTP status too).
   */
  errorsAsHttp200: boolean;
  /**
   * Tasks per API key not yet finished; a create beyond it is answered 409 ("Active task limit
   * exceeded"). Not in the document's figures: assumed 20.
   */
  activeTaskLimit: number;
}

export const defaultKieSettings = (): KieSimulatorSettings => ({
  errorsAsHttp200: false,
  activeTaskLimit: 20,
});

/**
 * API keys the simulator refuses (401): any key starting with `invalid`. Every other non-empty
 * key is an account, created with the sandbox's initial credits on first use.
 */
export const isRefusedKey = (apiKey: string) => apiKey.startsWith("invalid");

/**
 * The task's failCode and failMsg. The document lists no failCodes: a refused prompt is reported
 * with its request-error code 400 and a message that says so, any other failure with 500.
 */
const failCodeOf = (failure: TaskFailure) => (failure.reason === "content" ? "400" : "500");

const contentRefused: TaskFailure = {
  code: "content_filtered",
  message: "Your prompt was flagged as violating the content policy. Please revise it.",
  reason: "content",
};

function wireErrorOf(fault: Exclude<InjectedFault, { type: "content_filtered" }>): WireError {
  switch (fault.type) {
    case "rate_limited":
      return new WireError(429, "Request rate limit exceeded, please slow down.", {
        "retry-after": String(fault.retryAfterSeconds),
      });
    case "server_error":
      // The document's only 5xx is 500, whatever the cause.
      return new WireError(500, "Internal server error, please try again later.");
  }
}

interface Principal {
  account: SimAccount;
  origin: () => string;
}

/**
 * A simulator of the kie jobs API (document 003): `POST /api/v1/jobs/createTask`,
 * `GET /api/v1/jobs/recordInfo?taskId=`, bearer keys, the `{code, msg, data}` envelope. States
 * go waiting → queuing → generating → success | fail. With a `callBackUrl` (the Kie family's
 * field, not shown by document 003) the recordInfo answer is posted there when the task ends.
 * A content-filter fault is reported on the task (state fail), as Kie does, not on the create.
 */
export function createKieSimulator(
  kit: SimulatorKit,
  settings: KieSimulatorSettings = defaultKieSettings(),
): Router {
  function wireState(task: SimTask): TaskState {
    switch (kit.stateOf(task)) {
      case "pending":
        // The kit's pending is the first 30% of the generation time: accepted, then queued.
        return kit.progressOf(task) < 15 ? "waiting" : "queuing";
      case "running":
        return "generating";
      case "succeeded":
        return "success";
      case "failed":
        return "fail";
    }
  }

  function view(task: SimTask): RecordInfoData {
    const state = wireState(task);
    const endedAtMs = kit.endedAtMs(task);
    return {
      taskId: task.id,
      model: task.model,
      state,
      // The whole create request, as a JSON string.
      param: JSON.stringify(task.request),
      resultJson: state === "success" ? JSON.stringify({ resultUrls: task.urls }) : null,
      failCode: state === "fail" && task.failure ? failCodeOf(task.failure) : null,
      failMsg: state === "fail" && task.failure ? task.failure.message : null,
      costTime: endedAtMs === null ? null : endedAtMs - task.createdAtMs,
      completeTime: endedAtMs,
      createTime: task.createdAtMs,
    };
  }

  const backend: KieBackend<Principal> = {
    async authenticate(apiKey: string, req: Request) {
      if (isRefusedKey(apiKey)) return null;
      return { account: kit.account(apiKey), origin: () => originOf(req) };
    },

    async createTask(principal, request) {
      const plan = await kit.begin("submit");
      const refused = plan.fault?.type === "content_filtered";
      if (plan.fault && plan.fault.type !== "content_filtered") throw wireErrorOf(plan.fault);

      if (!isKieModel(request.model)) throw new ModelNotFound(request.model);
      const input: KieInput = parseInput(
        documentedModels[request.model] as z.ZodType<KieInput>,
        request.input,
      );
      const cost = documentedCost(request.model, input);
      if (cost === undefined) throw new WireError(422, "This input has no price.");

      const { account } = principal;
      kit.balance(account); // settles the tasks that have ended, so they no longer count
      if (account.open.size >= settings.activeTaskLimit) {
        throw new WireError(
          409,
          `Active task limit exceeded: ${account.open.size} tasks are still running (limit ${settings.activeTaskLimit}). Wait for one to finish.`,
        );
      }
      const task = kit.createTask({
        account,
        model: request.model,
        media: {
          kind: "image",
          // Lite takes no output_format; document 002's example result is a jpg.
          format: "output_format" in input ? input.output_format : "jpg",
          resolution: input.resolution,
          aspectRatio: input.aspect_ratio,
        },
        cost,
        callbackUrl: request.callBackUrl,
        request,
        origin: principal.origin,
        failure: refused ? contentRefused : undefined,
        callbackBody: (ended) => ({ code: 200, msg: "success", data: view(ended) }),
      });
      await kit.finish(plan);
      return { taskId: task.id };
    },

    getTask: (principal, taskId) => kit.readTask(taskId, principal.account, view, wireErrorOf),
  };

  return createKieRouter(backend, {
    errorsAsHttp200: () => settings.errorsAsHttp200,
    onUnexpectedError: logUnexpected,
  });
}

import {
  createRevidRouter,
  documentedCost,
  type NanoBananaProInput,
  parseModelInput,
  type RevidBackend,
  type RevidInput,
  type TaskParam,
  type TaskRecord,
  type TaskState,
  WireError,
} from "@ripen/dialect-revid";
import type { Request, Router } from "express";
import {
  type InjectedFault,
  logUnexpected,
  type Media,
  type SimAccount,
  type TaskState as SimState,
  type SimTask,
  type SimulatorKit,
  type TaskFailure,
} from "../kit";
import { originOf } from "./origin";

/** What this simulator does beyond the kit's faults; read on every call, so tests may change it. */
export interface RevidSimulatorSettings {
  /**
   * Answer errors as HTTP 200 with the code in the `{code, msg, data}` body, as Kie-like hosts
   * do (default false: the code is the HTTP status too).
   */
  errorsAsHttp200: boolean;
}

export const defaultRevidSettings = (): RevidSimulatorSettings => ({ errorsAsHttp200: false });

/**
 * API keys the simulator refuses (401): any key starting with `invalid` (the document gives keys
 * no format). Every other non-empty key is an account, created with the sandbox's initial
 * credits on first use.
 */
export const isRefusedKey = (apiKey: string) => apiKey.startsWith("invalid");

/** Document 004 has three states; the simulator's pending and running both read as waiting. */
const wireState = {
  pending: "waiting",
  running: "waiting",
  succeeded: "success",
  failed: "fail",
} as const satisfies Record<SimState, TaskState>;

/**
 * How a failed task reads. The document gives failCode and failMsg no vocabulary: the codes are
 * its status codes as text, as Kie-style hosts send them (not documented: assumed).
 */
const failureWording = {
  generation: { failCode: "500", failMsg: "Image generation failed, please try again later." },
  content: {
    failCode: "400",
    failMsg: "The prompt or input images were flagged by the content policy.",
  },
} as const satisfies Record<TaskFailure["reason"], { failCode: string; failMsg: string }>;

const contentRefused: TaskFailure = {
  code: "content_filtered",
  message: failureWording.content.failMsg,
  reason: "content",
};

/** The document's error table has no 503 and says nothing of content filtering. */
function wireErrorOf(fault: Exclude<InjectedFault, { type: "content_filtered" }>): WireError {
  switch (fault.type) {
    case "rate_limited":
      return new WireError(429, undefined, { "retry-after": String(fault.retryAfterSeconds) });
    case "server_error":
      return new WireError(500);
  }
}

/** What the task's result file shows: only nano-banana-pro has a resolution option. */
function mediaOf(model: string, input: RevidInput): Media {
  if (model === "nano-banana-pro") {
    const pro = input as NanoBananaProInput;
    return {
      kind: "image",
      format: pro.output_format,
      resolution: pro.resolution,
      aspectRatio: pro.aspect_ratio,
    };
  }
  const google = input as Exclude<RevidInput, NanoBananaProInput>;
  return {
    kind: "image",
    format: google.output_format,
    resolution: "1K",
    aspectRatio: google.image_size,
  };
}

interface Principal {
  account: SimAccount;
  origin: () => string;
}

/**
 * A simulator of the revid upstream (document 004): `x-api-key`, create at the documented path
 * and its Usage-Flow alias, `POST /paid/get/taskid?taskId=`, states waiting/success/fail, `param`
 * holding the complete create request with defaults filled in (callBackUrl included when given),
 * `resultJson` holding `{resultUrls}`, and a callback identical to the query answer when the task
 * ends, either way. Content filtering (not documented) fails the task rather than the create.
 */
export function createRevidSimulator(
  kit: SimulatorKit,
  settings: RevidSimulatorSettings = defaultRevidSettings(),
): Router {
  function view(task: SimTask): TaskRecord {
    const state = wireState[kit.stateOf(task)];
    const failure = state === "fail" ? failureWording[task.failure?.reason ?? "generation"] : null;
    return {
      taskId: task.id,
      model: task.model,
      state,
      param: JSON.stringify(task.request),
      resultJson: state === "success" ? JSON.stringify({ resultUrls: task.urls }) : null,
      failCode: failure?.failCode ?? null,
      failMsg: failure?.failMsg ?? null,
      costTime: state === "success" ? task.generationMs : null,
      completeTime: state === "success" ? kit.endedAtMs(task) : null,
      createTime: task.createdAtMs,
    };
  }

  /** The callback body: the query answer, envelope included. */
  const queryAnswer = (task: SimTask) => ({ code: 200, msg: "success", data: view(task) });

  const backend: RevidBackend<Principal> = {
    async authenticate(apiKey: string, req: Request) {
      if (isRefusedKey(apiKey)) return null;
      return { account: kit.account(apiKey), origin: () => originOf(req) };
    },

    async createTask(principal, request) {
      const plan = await kit.begin("submit");
      if (plan.fault && plan.fault.type !== "content_filtered") throw wireErrorOf(plan.fault);
      const input = parseModelInput(request.model, request.input);
      // Every documented model and resolution has a price, so a parsed input always has one.
      const cost = documentedCost(request.model, input)!;
      const param: TaskParam = {
        model: request.model,
        input,
        ...(request.callBackUrl === undefined ? {} : { callBackUrl: request.callBackUrl }),
      };
      const task = kit.createTask({
        account: principal.account,
        model: request.model,
        media: mediaOf(request.model, input),
        cost,
        callbackUrl: request.callBackUrl,
        request: param,
        origin: principal.origin,
        failure: plan.fault ? contentRefused : undefined,
        callbackBody: queryAnswer,
      });
      await kit.finish(plan);
      return { taskId: task.id };
    },

    getTask: (principal, taskId) => kit.readTask(taskId, principal.account, view, wireErrorOf),
  };

  return createRevidRouter(backend, {
    errorsAsHttp200: () => settings.errorsAsHttp200,
    onUnexpectedError: logUnexpected,
  });
}

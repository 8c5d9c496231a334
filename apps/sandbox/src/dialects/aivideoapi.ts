import { InvalidRequest, ModelNotFound, parseInput } from "@ripen/core";
import {
  type AivideoapiBackend,
  createAivideoapiRouter,
  documentedCost,
  documentedModels,
  type nanoBanana2Input,
  type TaskResponse,
  WireError,
  type WireStatus,
} from "@ripen/dialect-aivideoapi";
import type { Request, Router } from "express";
import {
  type InjectedFault,
  logUnexpected,
  type SimAccount,
  type SimTask,
  type SimulatorKit,
} from "../kit";
import { originOf } from "./origin";

const wireStatus = {
  pending: "pending",
  running: "processing",
  succeeded: "completed",
  failed: "failed",
} as const satisfies Record<string, WireStatus>;

const unixSeconds = (ms: number) => Math.floor(ms / 1000);

function wireErrorOf(fault: InjectedFault): WireError {
  switch (fault.type) {
    case "rate_limited":
      return new WireError("rate_limit_exceeded", "Too many requests, please slow down.", 429, {
        "retry-after": String(fault.retryAfterSeconds),
      });
    case "server_error":
      return fault.status === 500
        ? new WireError("internal_error", "An unexpected error occurred. Please try again.")
        : new WireError("upstream_error", "Upstream AI provider returned an error.");
    case "content_filtered":
      // Document 000: a 503 upstream_error "may happen when the input contains sensitive or
      // prohibited content".
      return new WireError("upstream_error", "The input contains sensitive or prohibited content.");
  }
}

/** A simulator of the aivideoapi upstream (documents 000 and 002). */
export function createAivideoapiSimulator(kit: SimulatorKit): Router {
  function view(task: SimTask): TaskResponse {
    const state = kit.stateOf(task);
    const base = {
      id: task.id,
      status: wireStatus[state],
      model: task.model,
      created_at: unixSeconds(task.createdAtMs),
    };
    if (state === "succeeded") {
      return {
        ...base,
        completed_at: unixSeconds(kit.endedAtMs(task)!),
        output: { urls: task.urls, metadata: { model: task.model, costTime: task.generationMs } },
      };
    }
    if (state === "failed") {
      return {
        ...base,
        error: { code: "upstream_error", message: task.failure?.message ?? "Generation failed" },
      };
    }
    return base;
  }

  /** Answers an injected fault in the dialect's envelope, with Retry-After for a 429. */
  const served = <T>(call: "submit" | "status" | "other", work: () => T) =>
    kit.serve(call, wireErrorOf, work);

  const backend: AivideoapiBackend<{ account: SimAccount; origin: () => string }> = {
    async authenticate(apiKey: string, req: Request) {
      if (!apiKey.startsWith("sk-")) return null;
      return { account: kit.account(apiKey), origin: () => originOf(req) };
    },

    createTask: (principal, request) =>
      served("submit", () => {
        // Ripen's own extension of the shared wire schema; the documents have no such field.
        if (request.timeout_seconds !== undefined) {
          throw new InvalidRequest(
            "'timeout_seconds' is not a recognized field.",
            "timeout_seconds",
          );
        }
        if (!Object.hasOwn(documentedModels, request.model)) {
          throw new ModelNotFound(request.model);
        }
        const schema = documentedModels[request.model as keyof typeof documentedModels];
        // Lite's schema refuses output_format, so its parsed input is the same shape less one field.
        const input = parseInput(schema as typeof nanoBanana2Input, request.input);
        const cost = documentedCost(request.model, input);
        if (cost === undefined) throw new InvalidRequest("This resolution is not offered.");
        const task = kit.createTask({
          account: principal.account,
          model: request.model,
          media: {
            kind: "image",
            format: input.output_format === "png" ? "png" : "jpg",
            resolution: input.resolution,
            aspectRatio: input.aspect_ratio,
          },
          cost,
          callbackUrl: request.callback_url,
          request,
          origin: principal.origin,
          callbackBody: view,
        });
        return { taskId: task.id };
      }),

    getTask: (principal, taskId) => kit.readTask(taskId, principal.account, view, wireErrorOf),

    getCredits: (principal) =>
      served("other", () => {
        const available = kit.balance(principal.account);
        return { credits: available, balance: available, held: 0 };
      }),
  };

  return createAivideoapiRouter(backend, {
    onUnexpectedError: logUnexpected,
  });
}

import {
  type DialectClient,
  type DialectClientOptions,
  type FailureKind,
  InvalidRequest,
  invalidFromZod,
  ProviderError,
  type ProviderTaskState,
  type UpstreamRequest,
} from "@ripen/core";
import {
  createUpstreamHttp,
  kindOfStatus,
  retryAfterMs,
  type UpstreamAnswer,
} from "@ripen/dialect-kit";
import type { WireErrorCode } from "./errors";
import { createTaskResponse, errorEnvelope, type TaskResponse, taskResponse } from "./schemas";

/**
 * How each documented error (documents 000 and 002, "Error Reference") is handled when Ripen is
 * the client. Our key or account being refused opens the circuit: no task can succeed there until
 * an operator acts. A model it does not serve (404 `model_not_found`) goes to another provider.
 * 503 `upstream_error` covers both a provider hiccup and refused content: retried, a bounded
 * number of times, after which the task moves to another provider.
 */
export const failureKindOf: Record<WireErrorCode, FailureKind> = {
  invalid_request: "fail",
  invalid_api_key: "circuit",
  insufficient_credits: "circuit",
  ip_not_allowed: "circuit",
  model_not_found: "failover",
  task_not_found: "fail",
  rate_limit_exceeded: "retry",
  spend_limit_exceeded: "circuit",
  // Ripen's own refusals, when the upstream is another Ripen: our key or account refused is an
  // operator's matter; a model behind a subscription we lack, another provider's; our own
  // active-task limit frees up as our tasks there end.
  key_expired: "circuit",
  insufficient_scope: "circuit",
  account_disabled: "circuit",
  subscription_required: "failover",
  active_task_limit_exceeded: "retry",
  // A Ripen upstream with no room before the deadline: another provider now, it after Retry-After.
  capacity_exceeded: "retry",
  internal_error: "retry",
  upstream_error: "retry",
  // Not in the documents: what a Ripen upstream answers while its database is away.
  service_unavailable: "retry",
  // Not in the documents: Ripen's own 409s (a cancel of an ended task, an Idempotency-Key reused
  // with another body). Ripen the client sends neither, so neither answers a submit or a poll of
  // its; should one arrive, resending the same request cannot change the answer.
  task_already_ended: "fail",
  idempotency_key_reused: "fail",
  // Ripen's own answers to a redelivery (no delivery, one still pending): never to a submit.
  delivery_not_found: "fail",
  delivery_pending: "fail",
  // Ripen's own answer to a batch read: never to a submit.
  batch_not_found: "fail",
  // Ripen's own answer to a schedule read: never to a submit.
  schedule_not_found: "fail",
};

/** Ripen as a client of the aivideoapi dialect, bound to one provider. */
export function createAivideoapiClient(options: DialectClientOptions): DialectClient {
  const http = createUpstreamHttp({
    name: "aivideoapi",
    baseUrl: options.baseUrl,
    headers: { authorization: `Bearer ${options.apiKey}` },
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
  });

  /** The JSON body of a 2xx answer; any other answer becomes a classified ProviderError. */
  function jsonOf(answer: UpstreamAnswer): unknown {
    if (!answer.ok) throw classify(answer);
    return answer.json;
  }

  function toState(task: TaskResponse): ProviderTaskState {
    switch (task.status) {
      case "pending":
        return { state: "pending" };
      case "processing":
        return { state: "running" };
      case "completed":
        return {
          state: "succeeded",
          output: { urls: task.output?.urls ?? [], metadata: task.output?.metadata ?? {} },
        };
      case "failed":
        return {
          state: "failed",
          errorCode: task.error?.code ?? "upstream_error",
          errorMessage: task.error?.message ?? "Generation failed",
          // The upstream refunds a failed task, so another provider may try it.
          kind: "failover",
        };
    }
  }

  return {
    dialect: "aivideoapi",
    sendsCallbacks: true,
    async submit(request: UpstreamRequest) {
      const json = jsonOf(
        await http.call("POST", "/v1/images/generations", {
          body: {
            model: request.upstreamModel,
            input: request.input,
            ...(request.callbackUrl ? { callback_url: request.callbackUrl } : {}),
          },
        }),
      );
      const parsed = createTaskResponse.safeParse(json);
      if (!parsed.success || parsed.data.code !== 200) {
        // A 2xx we cannot read may still have created the task upstream.
        throw new ProviderError("aivideoapi create-task answer is not in the documented shape", {
          kind: "unknown",
        });
      }
      return { providerTaskId: parsed.data.data.taskId };
    },
    async status(providerTaskId: string) {
      const answer = await http.call("GET", `/v1/tasks/${encodeURIComponent(providerTaskId)}`);
      if (answer.status === 404) {
        const envelope = errorEnvelope.safeParse(answer.json);
        // Only the documented task_not_found means the upstream forgot the task; a 404 from a
        // proxy or a wrong base URL says nothing about it.
        if (envelope.success && envelope.data.error.code === "task_not_found") {
          return { state: "not_found" };
        }
        throw new ProviderError("aivideoapi answered 404 without task_not_found", {
          kind: "retry",
          status: 404,
        });
      }
      const parsed = taskResponse.safeParse(jsonOf(answer));
      if (!parsed.success) {
        throw new ProviderError("aivideoapi query-task answer is not in the documented shape", {
          kind: "retry",
        });
      }
      return toState(parsed.data);
    },
    parseCallback(body: unknown) {
      const parsed = taskResponse.safeParse(body, { reportInput: true });
      if (!parsed.success) throw invalidFromZod(parsed.error);
      if (!parsed.data.id) throw new InvalidRequest("Callback carries no task id.");
      return { providerTaskId: parsed.data.id, ...toState(parsed.data) };
    },
  };
}

function classify(answer: UpstreamAnswer): ProviderError {
  const envelope = errorEnvelope.safeParse(answer.json);
  const code = envelope.success ? envelope.data.error.code : undefined;
  const message = envelope.success ? envelope.data.error.message : `HTTP ${answer.status}`;
  const kind =
    code !== undefined && Object.hasOwn(failureKindOf, code)
      ? failureKindOf[code as WireErrorCode]
      : kindOfStatus(answer.status);
  return new ProviderError(`aivideoapi ${answer.status}${code ? ` ${code}` : ""}: ${message}`, {
    kind,
    status: answer.status,
    code,
    retryAfterMs: retryAfterMs(answer.headers),
  });
}

import {
  type FailureKind,
  type ImageInput,
  InvalidRequest,
  invalidFromZod,
  type ProviderAdapter,
  ProviderError,
  type ProviderTaskState,
  type SubmitRequest,
} from "@ripen/core";
import type { WireErrorCode } from "./errors";
import { documentedPrice } from "./prices";
import { createTaskResponse, errorEnvelope, type TaskResponse, taskResponse } from "./schemas";

export interface AivideoapiClientOptions {
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

/**
 * How each documented error (documents 000 and 002, "Error Reference") is handled when Ripen is
 * the client. Our key or account being refused opens the circuit: no task can succeed there until
 * an operator acts. 503 `upstream_error` covers both a provider hiccup and refused content; it
 * is retried a bounded number of times.
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
  internal_error: "retry",
  upstream_error: "retry",
  // Not in the documents: what a Ripen upstream answers while its database is away.
  service_unavailable: "retry",
};

/** By status, for answers without a documented code. */
function kindOfStatus(status: number): FailureKind {
  if (status === 429 || status >= 500) return "retry";
  if (status === 401 || status === 402 || status === 403) return "circuit";
  return "fail";
}

/**
 * A fetch that threw: if the request cannot have reached the upstream (nothing listening, no
 * such host), trying again is safe; otherwise (timeout, connection cut) it may have been accepted.
 */
function kindOfNetworkError(error: unknown): FailureKind {
  const codes: string[] = [];
  for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    if (codes.length > 5) break;
  }
  const notSent = ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"];
  return codes.some((code) => notSent.includes(code)) ? "retry" : "unknown";
}

/** Ripen as a client of the aivideoapi dialect. */
export function createAivideoapiAdapter(options: AivideoapiClientOptions): ProviderAdapter {
  const fetchImpl = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetchImpl(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new ProviderError(`aivideoapi unreachable: ${(error as Error).message}`, {
        kind: kindOfNetworkError(error),
      });
    }
  }

  /** The JSON body of a 2xx answer; any other answer becomes a classified ProviderError. */
  async function jsonOf(response: Response): Promise<unknown> {
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new ProviderError(`aivideoapi answer cut off: ${(error as Error).message}`, {
        kind: response.ok ? "unknown" : "retry",
      });
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) throw classify(response, json);
    return json;
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
          errorMessage: task.error?.message ?? "Image generation failed",
        };
    }
  }

  return {
    name: "aivideoapi",

    upstreamModel: (model) => model,

    upstreamCost(model, input) {
      return documentedPrice(model, input.resolution) ?? 0;
    },

    async submit(request: SubmitRequest) {
      const json = await jsonOf(
        await call("POST", "/v1/images/generations", {
          model: request.model,
          input: wireInput(request.model, request.input),
          ...(request.callbackUrl ? { callback_url: request.callbackUrl } : {}),
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
      const response = await call("GET", `/v1/tasks/${encodeURIComponent(providerTaskId)}`);
      if (response.status === 404) {
        const body = await response.text().catch(() => "");
        const envelope = errorEnvelope.safeParse(safeJson(body));
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
      const parsed = taskResponse.safeParse(await jsonOf(response));
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

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Sends only what the model documents; the lite model rejects output_format. */
function wireInput(model: string, input: ImageInput): Record<string, unknown> {
  const { output_format, ...rest } = input;
  return model === "nano-banana-2-lite" || output_format === undefined
    ? rest
    : { ...rest, output_format };
}

function classify(response: Response, json: unknown): ProviderError {
  const envelope = errorEnvelope.safeParse(json);
  const code = envelope.success ? envelope.data.error.code : undefined;
  const message = envelope.success ? envelope.data.error.message : `HTTP ${response.status}`;
  const retryAfterSeconds = Number(response.headers.get("retry-after"));
  const kind =
    code !== undefined && Object.hasOwn(failureKindOf, code)
      ? failureKindOf[code as WireErrorCode]
      : kindOfStatus(response.status);
  return new ProviderError(`aivideoapi ${response.status}${code ? ` ${code}` : ""}: ${message}`, {
    kind,
    status: response.status,
    code,
    retryAfterMs:
      Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0
        ? retryAfterSeconds * 1000
        : undefined,
  });
}

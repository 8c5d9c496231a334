import {
  type ImageInput,
  InvalidRequest,
  invalidFromZod,
  type ProviderAdapter,
  ProviderError,
  type ProviderTaskState,
  type SubmitRequest,
} from "@ripen/core";
import { createTaskResponse, errorEnvelope, type TaskResponse, taskResponse } from "./schemas";

export interface AivideoapiClientOptions {
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
  /** Per-request timeout. */
  timeoutMs?: number;
}

/** Error codes after which trying the same request again cannot help. */
const permanentCodes = new Set([
  "invalid_request",
  "invalid_api_key",
  "insufficient_credits",
  "ip_not_allowed",
  "model_not_found",
  "spend_limit_exceeded",
]);

/** Ripen as a client of the aivideoapi dialect. */
export function createAivideoapiAdapter(options: AivideoapiClientOptions): ProviderAdapter {
  const fetchImpl = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetchImpl(`${base}${path}`, {
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
        retryable: true,
      });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ProviderError(
        `aivideoapi answered ${response.status} with a body that is not JSON`,
        {
          retryable: response.status >= 500 || response.status === 429,
          status: response.status,
        },
      );
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

    async submit(request: SubmitRequest) {
      const json = await call("POST", "/v1/images/generations", {
        model: request.model,
        input: wireInput(request.model, request.input),
        ...(request.callbackUrl ? { callback_url: request.callbackUrl } : {}),
      });
      const parsed = createTaskResponse.safeParse(json);
      if (!parsed.success || parsed.data.code !== 200) {
        throw new ProviderError("aivideoapi create-task answer is not in the documented shape", {
          retryable: true,
        });
      }
      return { providerTaskId: parsed.data.data.taskId };
    },

    async status(providerTaskId: string) {
      const json = await call("GET", `/v1/tasks/${encodeURIComponent(providerTaskId)}`);
      const parsed = taskResponse.safeParse(json);
      if (!parsed.success) {
        throw new ProviderError("aivideoapi query-task answer is not in the documented shape", {
          retryable: true,
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
  const retryable =
    !(code && permanentCodes.has(code)) && (response.status === 429 || response.status >= 500);
  return new ProviderError(`aivideoapi ${response.status}${code ? ` ${code}` : ""}: ${message}`, {
    retryable,
    status: response.status,
    code,
    retryAfterMs:
      Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0
        ? retryAfterSeconds * 1000
        : undefined,
  });
}

import {
  type DialectClient,
  type DialectClientOptions,
  type FailureKind,
  InvalidRequest,
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
import { errorReference, type WireErrorCode } from "./errors";
import { isVideoModel } from "./models";
import {
  errorEnvelope,
  type ImageStatusData,
  imageGenerateResponse,
  imageStatusResponse,
  type VideoStatusData,
  videoGenerateResponse,
  videoStatusResponse,
} from "./schemas";

/**
 * How each error of document 001 ("Error Codes") is handled when Ripen is the client. Our key,
 * credits or plan refused open the circuit: nothing succeeds there until an operator acts. An
 * unknown model goes to another provider. A refused prompt or content fails the task. 429 and
 * 500 are passing. The last three rows are codes the document does not list (see errors.ts).
 */
export const failureKindOf: Record<WireErrorCode, FailureKind> = {
  UNAUTHORIZED: "circuit",
  INSUFFICIENT_CREDITS: "circuit",
  FORBIDDEN: "circuit",
  RATE_LIMIT_EXCEEDED: "retry",
  INVALID_PROMPT: "fail",
  INVALID_MODEL: "failover",
  TASK_NOT_FOUND: "fail",
  CONTENT_FILTERED: "fail",
  INTERNAL_ERROR: "retry",
  INVALID_REQUEST: "fail",
  // A documented path answered "no such endpoint": the base URL is wrong, an operator must act.
  NOT_FOUND: "circuit",
  SERVICE_UNAVAILABLE: "retry",
  // Ripen sends no Idempotency-Key upstream; an upstream that says so is not one to retry.
  IDEMPOTENCY_KEY_REUSED: "failover",
};

const isWireErrorCode = (code: string): code is WireErrorCode => Object.hasOwn(failureKindOf, code);

/** The documented error envelope's code, if the answer carries one. */
function errorCodeOf(answer: UpstreamAnswer): { code: string; message: string } | undefined {
  const envelope = errorEnvelope.safeParse(answer.json);
  return envelope.success ? envelope.data.error : undefined;
}

/**
 * Ripen as a client of the Nano Banana dialect, bound to one provider. Images and videos have
 * their own endpoints; the upstream model says which (a name that is no documented video model
 * goes to the image endpoint, whose INVALID_MODEL then fails the route over). Polling only.
 */
export function createNanobananaClient(options: DialectClientOptions): DialectClient {
  const http = createUpstreamHttp({
    name: "nanobanana",
    baseUrl: options.baseUrl,
    headers: { authorization: `Bearer ${options.apiKey}` },
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
  });

  /**
   * The JSON of a successful answer. An error answer becomes a classified ProviderError; so does
   * a 2xx carrying a documented error code (classified as if it came with its status). A 2xx
   * that is neither throws `unreadable`.
   */
  function dataOf(answer: UpstreamAnswer, unreadable: () => ProviderError): unknown {
    if (!answer.ok) throw classify(answer);
    const error = errorCodeOf(answer);
    if (error) {
      if (isWireErrorCode(error.code)) throw classify(answer);
      throw unreadable();
    }
    return answer.json;
  }

  return {
    dialect: "nanobanana",
    sendsCallbacks: false,

    async submit(request: UpstreamRequest) {
      const video = isVideoModel(request.upstreamModel);
      const answer = await http.call(
        "POST",
        video ? "/api/v1/videos/generate" : "/api/v1/images/generate",
        {
          body: video
            ? { ...request.input, model_id: request.upstreamModel }
            : { ...request.input, model: request.upstreamModel },
        },
      );
      // A 2xx we cannot read may still have created (and charged) the task upstream.
      const unreadable = () =>
        new ProviderError("nanobanana generate answer is not in the documented shape", {
          kind: "unknown",
          status: answer.status,
        });
      const json = dataOf(answer, unreadable);
      const parsed = (video ? videoGenerateResponse : imageGenerateResponse).safeParse(json);
      if (!parsed.success || !parsed.data.data.task_id) throw unreadable();
      return { providerTaskId: parsed.data.data.task_id };
    },

    async status(providerTaskId: string, upstreamModel: string) {
      const video = isVideoModel(upstreamModel);
      const answer = await http.call(
        "GET",
        video ? "/api/v1/videos/status" : "/api/v1/images/status",
        { query: { task_id: providerTaskId } },
      );
      // Only the documented TASK_NOT_FOUND means the upstream forgot the task; a 404 from a
      // proxy or a wrong base URL says nothing about it.
      if (errorCodeOf(answer)?.code === "TASK_NOT_FOUND") return { state: "not_found" };
      if (answer.status === 404) {
        throw new ProviderError("nanobanana answered 404 without TASK_NOT_FOUND", {
          kind: "retry",
          status: 404,
        });
      }
      const unreadable = () =>
        new ProviderError("nanobanana status answer is not in the documented shape", {
          kind: "retry",
          status: answer.status,
        });
      const json = dataOf(answer, unreadable);
      if (video) {
        const parsed = videoStatusResponse.safeParse(json);
        if (!parsed.success) throw unreadable();
        return videoState(parsed.data.data, upstreamModel);
      }
      const parsed = imageStatusResponse.safeParse(json);
      if (!parsed.success) throw unreadable();
      return imageState(parsed.data.data, upstreamModel);
    },

    parseCallback(): never {
      throw new InvalidRequest("Nano Banana sends no callbacks: its tasks complete by polling.");
    },
  };
}

function imageState(task: ImageStatusData, model: string): ProviderTaskState {
  switch (task.status) {
    case "pending":
      return { state: "pending" };
    case "processing":
      return { state: "running" };
    case "completed": {
      const urls = task.image_urls?.length
        ? task.image_urls
        : task.image_url
          ? [task.image_url]
          : [];
      return succeeded(urls, task, model);
    }
    case "failed":
      return failed(task);
  }
}

function videoState(task: VideoStatusData, model: string): ProviderTaskState {
  switch (task.status) {
    case "pending":
      return { state: "pending" };
    case "processing":
      return { state: "running" };
    case "succeeded":
      return succeeded(task.video_url ? [task.video_url] : [], task, model);
    case "failed":
      return failed(task);
  }
}

function succeeded(
  urls: string[],
  task: ImageStatusData | VideoStatusData,
  model: string,
): ProviderTaskState {
  if (urls.length === 0) {
    // Finished but no result to serve: ask again rather than end the task without one.
    throw new ProviderError("nanobanana reports a finished task without its result URL", {
      kind: "retry",
    });
  }
  return {
    state: "succeeded",
    output: {
      urls,
      metadata: {
        model,
        taskId: task.task_id,
        ...(task.completed_at ? { completedAt: task.completed_at } : {}),
      },
    },
  };
}

/**
 * A failed task. The upstream refunds it, so another provider may try (failover), unless its
 * code says the input itself was refused (content filtered, invalid prompt): then it fails.
 */
function failed(task: ImageStatusData | VideoStatusData): ProviderTaskState {
  const error = task.error;
  const code =
    task.error_code ?? (typeof error === "object" && error?.code ? error.code : "INTERNAL_ERROR");
  const message = (typeof error === "string" ? error : error?.message) || "Generation failed";
  const kind = isWireErrorCode(code) && failureKindOf[code] === "fail" ? "fail" : "failover";
  return { state: "failed", errorCode: code, errorMessage: message, kind };
}

function classify(answer: UpstreamAnswer): ProviderError {
  const error = errorCodeOf(answer);
  const code = error && isWireErrorCode(error.code) ? error.code : undefined;
  // A 2xx carrying an error code is read as if it had come with that code's status.
  const status = answer.ok && code ? errorReference[code].status : answer.status;
  const kind = code ? failureKindOf[code] : kindOfStatus(status);
  return new ProviderError(
    `nanobanana ${status}${error ? ` ${error.code}: ${error.message}` : ""}`,
    { kind, status, code: error?.code, retryAfterMs: retryAfterMs(answer.headers) },
  );
}

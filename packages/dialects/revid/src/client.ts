import {
  type DialectClient,
  type DialectClientOptions,
  type FailureKind,
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
import {
  CREATE_PATH,
  createTaskResponse,
  lenientQueryTaskResponse,
  looseErrorEnvelope,
  parseResultJson,
  QUERY_PATH,
} from "./schemas";

/**
 * How each documented error code (document 004, "Error Codes") is handled when Ripen is the
 * client, whether it came as the HTTP status or, Kie-style, as the body's `code` of an HTTP 200.
 * Our key or balance refused opens the circuit. 404 on create means the host does not serve the
 * model (or the endpoint): another provider may; 404 on a query is the task being unknown, read
 * by `status()` as `not_found`. Bad input is final. Rate limits and server errors pass.
 */
export const failureKindOf: Readonly<Record<WireErrorCode | 409, FailureKind>> = {
  400: "fail",
  401: "circuit",
  402: "circuit",
  404: "failover",
  422: "fail",
  429: "retry",
  500: "retry",
  // Not in document 004: Kie's "active task limit exceeded", which this Kie-like host may share.
  409: "retry",
};

const kindOfCode = (code: number): FailureKind =>
  Object.hasOwn(failureKindOf, code)
    ? failureKindOf[code as keyof typeof failureKindOf]
    : kindOfStatus(code);

/** The body's `code`, when the body is the `{code, msg}` envelope. */
function envelopeOf(answer: UpstreamAnswer): { code: number; msg?: string } | undefined {
  const parsed = looseErrorEnvelope.safeParse(answer.json);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The error an answer carries, or null when it is a success (HTTP 2xx, body code 200). The body's
 * code wins over the HTTP status: Kie-like hosts answer errors as HTTP 200 with the code inside.
 * A 2xx whose body code is not an error code (4xx/5xx) is not an answer we can read: null too,
 * and the caller's schema check decides.
 */
function errorOf(answer: UpstreamAnswer): ProviderError | null {
  const envelope = envelopeOf(answer);
  const bodyCode = envelope?.code;
  const bodyError = bodyCode !== undefined && bodyCode >= 400 && bodyCode <= 599;
  if (answer.ok && !bodyError) return null;
  const code = bodyError ? bodyCode : answer.status;
  const message = envelope?.msg ?? `HTTP ${answer.status}`;
  return new ProviderError(
    `revid ${answer.status}${bodyError ? ` code ${code}` : ""}: ${message}`,
    {
      kind: kindOfCode(code),
      // The code that decided, as kie does: a 429 inside an HTTP 200 is still a 429 (busy).
      status: code,
      code: bodyError ? String(code) : undefined,
      retryAfterMs: retryAfterMs(answer.headers),
    },
  );
}

/** Failure codes and messages that blame the request or its content: another host would too. */
const INPUT_FAIL_CODES = new Set(["400", "422", "451"]);
const CONTENT_FAILURE =
  /content|policy|safety|nsfw|sensitive|prohibited|flagged|moderat|violat|invalid (param|input|image|prompt)/i;

type Lenient = ReturnType<typeof lenientQueryTaskResponse.parse>["data"];

function toState(task: Lenient): ProviderTaskState {
  switch (task.state) {
    case "waiting":
      return { state: "pending" };
    case "success": {
      const urls = parseResultJson(task.resultJson)?.resultUrls ?? [];
      if (urls.length === 0) {
        // Charged but nothing to serve: another provider can produce the image.
        return {
          state: "failed",
          errorCode: "empty_result",
          errorMessage: "revid reported success without resultUrls",
          kind: "failover",
        };
      }
      return {
        state: "succeeded",
        output: {
          urls,
          metadata: {
            model: task.model,
            costTime: task.costTime ?? null,
            completeTime: task.completeTime ?? null,
            createTime: task.createTime,
          },
        },
      };
    }
    case "fail": {
      const errorCode = task.failCode || "generation_failed";
      const errorMessage = task.failMsg || "Generation failed";
      const blamesInput = INPUT_FAIL_CODES.has(errorCode) || CONTENT_FAILURE.test(errorMessage);
      // The upstream refunds a failed task, so another provider may try it, unless the input
      // itself is the problem.
      return { state: "failed", errorCode, errorMessage, kind: blamesInput ? "fail" : "failover" };
    }
    default:
      // Kie's undocumented in-progress states (queuing, generating): still working.
      return { state: "running" };
  }
}

/** Ripen as a client of the revid dialect, bound to one provider. */
export function createRevidClient(options: DialectClientOptions): DialectClient {
  const http = createUpstreamHttp({
    name: "revid",
    baseUrl: options.baseUrl,
    headers: { "x-api-key": options.apiKey },
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
  });

  return {
    dialect: "revid",
    sendsCallbacks: true,
    async submit(request: UpstreamRequest) {
      const answer = await http.call("POST", CREATE_PATH, {
        body: {
          model: request.upstreamModel,
          ...(request.callbackUrl ? { callBackUrl: request.callbackUrl } : {}),
          input: request.input,
        },
      });
      const error = errorOf(answer);
      if (error) throw error;
      const parsed = createTaskResponse.safeParse(answer.json);
      if (!parsed.success || parsed.data.code !== 200) {
        // A 2xx we cannot read may still have created the task upstream.
        throw new ProviderError("revid create answer is not in the documented shape", {
          kind: "unknown",
          status: answer.status,
        });
      }
      return { providerTaskId: parsed.data.data.taskId };
    },
    async status(providerTaskId: string) {
      let answer: UpstreamAnswer;
      try {
        answer = await http.call("POST", QUERY_PATH, { query: { taskId: providerTaskId } });
      } catch (error) {
        // A query changes nothing upstream: whatever became of it, asking again is safe.
        if (error instanceof ProviderError && error.kind === "unknown") {
          throw new ProviderError(error.message, { ...error.options, kind: "retry" });
        }
        throw error;
      }
      const error = errorOf(answer);
      if (error) {
        // Only the documented envelope's 404 says the upstream does not know the task; a bare
        // 404 (a proxy, a wrong base URL) says nothing about it.
        if (error.options.code === "404") return { state: "not_found" };
        throw error.kind === "failover"
          ? new ProviderError(error.message, { ...error.options, kind: "retry" })
          : error;
      }
      const parsed = lenientQueryTaskResponse.safeParse(answer.json);
      if (!parsed.success || parsed.data.code !== 200) {
        throw new ProviderError("revid query answer is not in the documented shape", {
          kind: "retry",
          status: answer.status,
        });
      }
      return toState(parsed.data.data);
    },
    parseCallback(body: unknown) {
      // The callback body is the query answer, `{code, msg, data}`.
      const parsed = lenientQueryTaskResponse.safeParse(body, { reportInput: true });
      if (!parsed.success) throw invalidFromZod(parsed.error);
      return { providerTaskId: parsed.data.data.taskId, ...toState(parsed.data.data) };
    },
  };
}

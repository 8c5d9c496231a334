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
import { isWireErrorCode, type WireErrorCode } from "./errors";
import {
  callbackBody,
  createTaskResponse,
  envelope,
  parseResultJson,
  type RecordInfo,
  recordInfoResponse,
} from "./schemas";

/**
 * How each documented error (document 003, "Error Codes") is handled when Ripen is the client,
 * whether it came as the HTTP status or, with HTTP 200, as the envelope's `code`. Our key or
 * credit refused opens the circuit. 404 on a create means the upstream does not serve what we
 * asked (the model, or the endpoint): another provider may. 409, the active task limit, passes
 * as our tasks there finish. A 404 on a query is read apart: the upstream lost the task.
 */
export const failureKindOf: Record<WireErrorCode, FailureKind> = {
  400: "fail",
  401: "circuit",
  402: "circuit",
  404: "failover",
  409: "retry",
  422: "fail",
  429: "retry",
  500: "retry",
};

/**
 * A task's failCode values that blame the request (document 003 does not list failCodes; these
 * are its request-error codes, which Kie also uses for refused content). Any other failure is the
 * upstream's: it refunds the task, so another provider may try.
 */
const inputFailCodes = new Set(["400", "422"]);
/** Refused content is reported under varied codes; its message says so. */
const contentRefused = /content polic|sensitive|prohibited|flagged|nsfw|safety/i;

/**
 * Ripen as a client of the kie jobs API, bound to one provider. Results come by polling
 * `recordInfo`, or by callback: document 003 does not show `callBackUrl`, but it is the Kie
 * family's field (document 004), posting the query answer when the task ends; we send it and
 * parse that body, and polling stays the fallback when a callback never comes.
 */
export function createKieClient(options: DialectClientOptions): DialectClient {
  const http = createUpstreamHttp({
    name: "kie",
    baseUrl: options.baseUrl,
    headers: { authorization: `Bearer ${options.apiKey}` },
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
  });

  return {
    dialect: "kie",
    sendsCallbacks: true,
    async submit(request: UpstreamRequest) {
      const answer = await http.call("POST", "/api/v1/jobs/createTask", {
        body: {
          model: request.upstreamModel,
          input: request.input,
          ...(request.callbackUrl ? { callBackUrl: request.callbackUrl } : {}),
        },
      });
      const error = errorOf(answer);
      if (error) throw error;
      const parsed = createTaskResponse.safeParse(answer.json);
      if (!parsed.success) {
        // A 2xx we cannot read may still have created the task upstream.
        throw new ProviderError("kie createTask answer is not in the documented shape", {
          kind: "unknown",
          status: answer.status,
        });
      }
      return { providerTaskId: parsed.data.data.taskId };
    },
    async status(providerTaskId: string) {
      const answer = await http.call("GET", "/api/v1/jobs/recordInfo", {
        query: { taskId: providerTaskId },
      });
      const error = errorOf(answer);
      if (error) {
        // Only the envelope's 404 is the documented "Task not found"; a bare 404 from a proxy or
        // a wrong path says nothing about the task.
        if (error.options.code === "404") return { state: "not_found" };
        if (error.options.status === 404) {
          throw new ProviderError(error.message, { ...error.options, kind: "retry" });
        }
        throw error;
      }
      const parsed = recordInfoResponse.safeParse(answer.json);
      const state = parsed.success ? stateOf(parsed.data.data) : undefined;
      if (!state) {
        throw new ProviderError("kie recordInfo answer is not in the documented shape", {
          kind: "retry",
          status: answer.status,
        });
      }
      return state;
    },
    parseCallback(body: unknown) {
      const parsed = callbackBody.safeParse(body, { reportInput: true });
      if (!parsed.success) throw invalidFromZod(parsed.error);
      const state = stateOf(parsed.data.data);
      if (!state) {
        throw new InvalidRequest(
          "'data.resultJson' must hold resultUrls when 'data.state' is success.",
          "data.resultJson",
        );
      }
      return { providerTaskId: parsed.data.data.taskId, ...state };
    },
  };
}

/** The task's state in Ripen's terms; undefined for a success whose resultJson has no URLs. */
function stateOf(record: RecordInfo): ProviderTaskState | undefined {
  switch (record.state) {
    case "waiting":
    case "queuing":
      return { state: "pending" };
    case "generating":
      return { state: "running" };
    case "success": {
      const result = parseResultJson(record);
      if (!result || result.resultUrls.length === 0) return undefined;
      return {
        state: "succeeded",
        output: {
          urls: result.resultUrls,
          metadata: {
            model: record.model,
            costTime: record.costTime ?? null,
            createTime: record.createTime,
            completeTime: record.completeTime ?? null,
          },
        },
      };
    }
    case "fail": {
      const errorCode = record.failCode ?? "fail";
      const errorMessage = record.failMsg || "Generation failed";
      const blamesInput = inputFailCodes.has(errorCode) || contentRefused.test(errorMessage);
      return { state: "failed", errorCode, errorMessage, kind: blamesInput ? "fail" : "failover" };
    }
  }
}

/**
 * The error an answer carries, or null for a success: the envelope's `code` when it is not 200
 * (Kie answers many errors as HTTP 200), else a non-2xx HTTP status. Either way it is classified
 * by the same table, so a 409 in a 200 body and an HTTP 409 are the same failure.
 */
function errorOf(answer: UpstreamAnswer): ProviderError | null {
  const body = envelope.safeParse(answer.json);
  const bodyCode = body.success && body.data.code !== 200 ? body.data.code : undefined;
  if (bodyCode === undefined && answer.ok) return null;
  const code = bodyCode ?? answer.status;
  const kind = isWireErrorCode(code) ? failureKindOf[code] : kindOfStatus(code);
  const message = body.success && body.data.msg ? body.data.msg : `HTTP ${answer.status}`;
  const via = answer.status === code ? "" : ` (HTTP ${answer.status})`;
  return new ProviderError(`kie ${code}${via}: ${message}`, {
    kind,
    status: code,
    // Only an envelope names a code; a bare HTTP error (a proxy's page) has none.
    code: body.success ? String(code) : undefined,
    retryAfterMs: retryAfterMs(answer.headers),
  });
}

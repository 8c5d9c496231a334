import { invalidFromZod, isStorableText } from "@ripen/core";
import {
  authenticateRequests,
  bearerToken,
  type ErrorsAsHttp200,
  isPlainObject,
  readErrorsAsHttp200,
} from "@ripen/dialect-kit";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { toWireError, WireError } from "./errors";
import {
  CREATE_ALIAS_PATH,
  CREATE_PATH,
  type CreateTaskRequest,
  createTaskRequest,
  QUERY_PATH,
  type TaskRecord,
} from "./schemas";

/** Longest `taskId` looked up; anything longer cannot be one (and is not worth a lookup). */
export const TASK_ID_MAX_CHARS = 200;

/** What a create carries beside its body. */
export interface CreateTaskOptions {
  /** The `Idempotency-Key` header as sent, unchecked; the backend decides what it accepts. */
  idempotencyKey?: string;
}

/**
 * What a server of this dialect needs. Ripen's front door and the sandbox both implement it, so
 * the wire format lives only in this package. Methods throw core DomainErrors or WireErrors.
 */
export interface RevidBackend<Principal> {
  /** The caller of an API key, or null when the key is refused (401). */
  authenticate(apiKey: string, req: Request): Promise<Principal | null>;
  /** Checks `input` against the model (see `parseModelInput`) and creates the task. */
  createTask(
    principal: Principal,
    request: CreateTaskRequest,
    options?: CreateTaskOptions,
  ): Promise<{ taskId: string }>;
  /** The task's record; throws TaskNotFound for another caller's task too. */
  getTask(principal: Principal, taskId: string): Promise<TaskRecord>;
}

export interface RouterOptions {
  /** Largest accepted JSON body (body-parser syntax, default 1mb). */
  bodyLimit?: string;
  /**
   * Answer errors as HTTP 200 with the error's code in the envelope, as Kie-like servers often
   * do (default false: the code is the HTTP status too). A function is read on every error, so a
   * simulator can switch it at runtime.
   */
  errorsAsHttp200?: ErrorsAsHttp200;
  onUnexpectedError?: (error: unknown, req: Request) => void;
  /**
   * Also take the key as `Authorization: Bearer …` (default false: the document names only
   * `x-api-key`, which wins when both are sent). Ripen's door accepts both.
   */
  acceptBearer?: boolean;
  /**
   * Also answer the query endpoint to GET (default false: the document says POST, and a faithful
   * server answers GET with its 404). Ripen's door accepts both.
   */
  queryByGet?: boolean;
}

/**
 * A create's body checked against the dialect's schema (400 when it is not a JSON object or its
 * top level is wrong); the model's input is the backend's to check. Exported so a price preview
 * refuses exactly what a create refuses.
 */
export function createRequestOf(body: unknown): CreateTaskRequest {
  if (!isPlainObject(body)) throw new WireError(400, "Request body must be a JSON object.");
  const parsed = createTaskRequest.safeParse(body, { reportInput: true });
  if (!parsed.success) throw invalidFromZod(parsed.error);
  return parsed.data;
}

const success = (data: unknown) => ({ code: 200, msg: "success", data });

/** Serves the create and query endpoints, the `x-api-key` header and the `{code, msg, data}` envelope. */
export function createRevidRouter<Principal>(
  backend: RevidBackend<Principal>,
  options: RouterOptions = {},
): Router {
  const router = express.Router();
  const principalOf = authenticateRequests(router, {
    keyOf: (req) =>
      req.get("x-api-key")?.trim() ||
      (options.acceptBearer ? bearerToken(req.get("authorization")) : null),
    authenticate: (apiKey, req) => backend.authenticate(apiKey, req),
    missing: () => new WireError(401, "Missing API key. Send 'x-api-key: YOUR_API_KEY'."),
    refused: () => new WireError(401),
  });

  // Parsed after authentication, so an anonymous caller cannot make us read a large body.
  // Any content type is read as JSON: the document's curl examples send no Content-Type at all.
  const json = express.json({ limit: options.bodyLimit ?? "1mb", type: () => true, strict: false });

  const create = async (req: Request, res: Response) => {
    const { taskId } = await backend.createTask(principalOf(req), createRequestOf(req.body), {
      idempotencyKey: req.get("idempotency-key"),
    });
    res.status(200).json(success({ taskId }));
  };
  router.post(CREATE_PATH, json, create);
  router.post(CREATE_ALIAS_PATH, json, create);

  // "Method: POST", the id "passed via URL parameter"; any body is ignored.
  const query = async (req: Request, res: Response) => {
    const taskId = req.query.taskId;
    if (typeof taskId !== "string" || taskId === "") {
      throw new WireError(400, "Query parameter 'taskId' is required, once.");
    }
    // Bounded and storable before any backend looks it up (Ripen's is Postgres).
    if (taskId.length > TASK_ID_MAX_CHARS || !isStorableText(taskId)) {
      throw new WireError(422, "Query parameter 'taskId' is not a valid task id.");
    }
    res.json(success(await backend.getTask(principalOf(req), taskId)));
  };
  router.post(QUERY_PATH, query);
  if (options.queryByGet) router.get(QUERY_PATH, query);

  router.use((req: Request) => {
    throw new WireError(404, `No endpoint ${req.method} ${req.path}.`);
  });

  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, body, headers, unexpected } = toWireError(error);
    if (unexpected) options.onUnexpectedError?.(error, req);
    res
      .status(readErrorsAsHttp200(options.errorsAsHttp200) ? 200 : status)
      .set(headers)
      .json(body);
  });

  return router;
}

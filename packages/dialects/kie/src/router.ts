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
  type CreateTaskRequest,
  createTaskRequest,
  NAME_MAX_CHARS,
  type RecordInfoData,
} from "./schemas";

/**
 * What a server of this dialect needs. Ripen's front door and the sandbox both implement it, so
 * the wire format lives only in this package. Methods throw core DomainErrors or WireErrors.
 */
export interface KieBackend<Principal> {
  /** The caller of an API key, or null when the key is refused (401). */
  authenticate(apiKey: string, req: Request): Promise<Principal | null>;
  createTask(
    principal: Principal,
    request: CreateTaskRequest,
    options?: CreateTaskOptions,
  ): Promise<{ taskId: string }>;
  /** The task's record; throws TaskNotFound for another caller's task too. */
  getTask(principal: Principal, taskId: string): Promise<RecordInfoData>;
}

/** What a create carries beside its body. */
export interface CreateTaskOptions {
  /** The `Idempotency-Key` header as sent, unchecked; the backend decides what it accepts. */
  idempotencyKey?: string;
}

/**
 * A createTask body checked against the dialect's schema (the model's input is the backend's):
 * 400 when it is not a JSON object, 422 naming the first bad field.
 */
export function parseCreateTaskRequest(body: unknown): CreateTaskRequest {
  if (!isPlainObject(body)) throw new WireError(400, "Request body must be a JSON object.");
  const parsed = createTaskRequest.safeParse(body, { reportInput: true });
  if (!parsed.success) throw invalidFromZod(parsed.error);
  return parsed.data;
}

export interface RouterOptions {
  /** Largest accepted JSON body (body-parser syntax, default 1mb). */
  bodyLimit?: string;
  /**
   * Answer errors as HTTP 200 with the error's code in the envelope, as Kie servers often do
   * (default false: the code is the HTTP status too). A function is read on every error, so a
   * simulator can switch it at runtime.
   */
  errorsAsHttp200?: ErrorsAsHttp200;
  onUnexpectedError?: (error: unknown, req: Request) => void;
}

const success = (data: unknown) => ({ code: 200, msg: "success", data });

/** Serves the jobs API's two endpoints, its bearer auth and its `{code, msg, data}` envelope. */
export function createKieRouter<Principal>(
  backend: KieBackend<Principal>,
  options: RouterOptions = {},
): Router {
  const router = express.Router();
  const principalOf = authenticateRequests(router, {
    keyOf: (req) => bearerToken(req.get("authorization")),
    authenticate: (apiKey, req) => backend.authenticate(apiKey, req),
    missing: () =>
      new WireError(401, "Missing API key. Send 'Authorization: Bearer YOUR_API_KEY'."),
    refused: () => new WireError(401),
  });
  // Parsed after authentication, so an anonymous caller cannot make us read a large body.
  // Any content type is read as JSON: clients that forget the header still get a useful answer.
  router.use(express.json({ limit: options.bodyLimit ?? "1mb", type: () => true, strict: false }));

  router.post("/api/v1/jobs/createTask", async (req, res) => {
    const { taskId } = await backend.createTask(
      principalOf(req),
      parseCreateTaskRequest(req.body),
      {
        idempotencyKey: req.get("idempotency-key"),
      },
    );
    res.status(200).json(success({ taskId }));
  });

  router.get("/api/v1/jobs/recordInfo", async (req, res) => {
    const taskId = req.query.taskId;
    if (typeof taskId !== "string" || taskId === "") {
      throw new WireError(400, "Query parameter 'taskId' is required, once.");
    }
    // Bounded and storable before any backend looks it up (Ripen's is Postgres).
    if (taskId.length > NAME_MAX_CHARS || !isStorableText(taskId)) {
      throw new WireError(422, "Query parameter 'taskId' is not a valid task id.");
    }
    res.json(success(await backend.getTask(principalOf(req), taskId)));
  });

  router.use((req: Request) => {
    throw new WireError(404, `No endpoint ${req.method} ${req.path}.`);
  });

  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { code, body, headers, unexpected } = toWireError(error);
    if (unexpected) options.onUnexpectedError?.(error, req);
    res
      .status(readErrorsAsHttp200(options.errorsAsHttp200) ? 200 : code)
      .set(headers)
      .json(body);
  });

  return router;
}

import { invalidFromZod } from "@ripen/core";
import { authenticateRequests, bearerToken } from "@ripen/dialect-kit";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { toWireError, WireError } from "./errors";
import {
  type CreateTaskRequest,
  type CreditsResponse,
  createTaskRequest,
  type TaskResponse,
} from "./schemas";

/**
 * What a server of this dialect needs. Ripen's front door and the sandbox both implement it, so
 * the wire format lives only in this package. Methods throw core DomainErrors or WireErrors.
 */
/** What a create carries beside its body. */
export interface CreateTaskOptions {
  /** The `Idempotency-Key` header as sent, unchecked; the backend decides what it accepts. */
  idempotencyKey?: string;
}

export interface AivideoapiBackend<Principal> {
  authenticate(apiKey: string, req: Request): Promise<Principal | null>;
  createTask(
    principal: Principal,
    request: CreateTaskRequest,
    options?: CreateTaskOptions,
  ): Promise<{ taskId: string }>;
  getTask(principal: Principal, taskId: string): Promise<TaskResponse>;
  getCredits(principal: Principal): Promise<CreditsResponse["data"]>;
}

export interface RouterOptions<Principal = unknown> {
  /** Largest accepted JSON body (body-parser syntax). */
  bodyLimit?: string;
  /**
   * Ripen's own endpoints beside the dialect's, registered after authentication and body parsing
   * and before the dialect's 404, so they share its keys and its error envelope.
   */
  extensions?: (router: Router, principalOf: (req: Request) => Principal) => void;
  /**
   * A larger body limit for the requests `matches` picks (a batch of up to 10,000 creates, a
   * schedule's template); still read only after authentication.
   */
  largeBody?: { limit: string; matches(req: Request): boolean };
  onUnexpectedError?: (error: unknown, req: Request) => void;
}

/** A create's body checked against the dialect's schema; the model's input is the backend's. */
export function createRequestOf(req: Request): CreateTaskRequest {
  if (typeof req.body !== "object" || req.body === null || Array.isArray(req.body)) {
    throw new WireError("invalid_request", "Request body must be a JSON object.");
  }
  const parsed = createTaskRequest.safeParse(req.body, { reportInput: true });
  if (!parsed.success) throw invalidFromZod(parsed.error);
  return parsed.data;
}

/** What a create carries beside its body. */
export const createOptionsOf = (req: Request): CreateTaskOptions => ({
  idempotencyKey: req.get("idempotency-key"),
});

/** A create's answer: `{code: 200, msg: "success", data: {taskId}}`. */
export const createdEnvelope = (taskId: string) => ({
  code: 200,
  msg: "success",
  data: { taskId },
});

/** Serves the dialect's three endpoints, its auth and its error envelope. */
export function createAivideoapiRouter<Principal>(
  backend: AivideoapiBackend<Principal>,
  options: RouterOptions<Principal> = {},
): Router {
  const router = express.Router();
  const principalOf = authenticateRequests(router, {
    keyOf: (req) => bearerToken(req.get("authorization")),
    authenticate: (apiKey, req) => backend.authenticate(apiKey, req),
    missing: () =>
      new WireError("invalid_api_key", "Missing API key. Send 'Authorization: Bearer sk-…'."),
    refused: () => new WireError("invalid_api_key", "API key is invalid, disabled, or deleted."),
  });
  // Parsed after authentication, so an anonymous caller cannot make us read a large body.
  // Any content type is read as JSON: clients that forget the header still get a useful answer.
  const json = express.json({ limit: options.bodyLimit ?? "1mb", type: () => true, strict: false });
  const { largeBody } = options;
  const largeJson =
    largeBody && express.json({ limit: largeBody.limit, type: () => true, strict: false });
  router.use((req, res, next) =>
    largeJson && largeBody?.matches(req) ? largeJson(req, res, next) : json(req, res, next),
  );

  router.post("/v1/images/generations", async (req, res) => {
    const { taskId } = await backend.createTask(
      principalOf(req),
      createRequestOf(req),
      createOptionsOf(req),
    );
    res.status(200).json(createdEnvelope(taskId));
  });

  router.get("/v1/tasks/:taskId", async (req, res) => {
    res.json(await backend.getTask(principalOf(req), req.params.taskId as string));
  });

  router.get("/v1/credits", async (req, res) => {
    res.json({ code: 200, msg: "success", data: await backend.getCredits(principalOf(req)) });
  });

  options.extensions?.(router, principalOf);

  router.use((req: Request) => {
    throw new WireError("invalid_request", `No endpoint ${req.method} ${req.originalUrl}.`, 404);
  });

  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, body, headers, unexpected } = toWireError(error);
    if (unexpected) options.onUnexpectedError?.(error, req);
    res.status(status).set(headers).json(body);
  });

  return router;
}

import { InvalidRequest, invalidFromZod, isStorableText, TaskNotFound } from "@ripen/core";
import { authenticateRequests, bearerToken, isPlainObject } from "@ripen/dialect-kit";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import type { z } from "zod";
import { toWireError, WireError } from "./errors";
import {
  DEFAULT_IMAGE_MODEL,
  DEFAULT_VIDEO_MODEL,
  type ImageCostInput,
  type ImageGenerateInput,
  type ImageModel,
  imageCostInputs,
  imageGenerateInputs,
  isImageModel,
  isVideoModel,
  type VideoCostInput,
  type VideoGenerateInput,
  type VideoModel,
  videoCostInputs,
  videoGenerateInputs,
} from "./models";
import type {
  CalculateCostData,
  CreditsData,
  ImageGenerateData,
  ImageStatusData,
  ModelsData,
  VideoGenerateData,
  VideoStatusData,
} from "./schemas";

/** A generate request checked against its model, the model named. */
export type ImageRequest = ImageGenerateInput & { model: ImageModel };
export type VideoRequest = VideoGenerateInput & { model_id: VideoModel };
/** A calculate-cost request checked against its model, the model named. */
export type CostRequest =
  | (ImageCostInput & { type: "image"; model: ImageModel })
  | (VideoCostInput & { type: "video"; model_id: VideoModel });

/** What a create carries beside its body. */
export interface GenerateOptions {
  /**
   * The `Idempotency-Key` header as sent, unchecked (not in the document; Ripen's door honours
   * it as its native API does, the sandbox ignores it).
   */
  idempotencyKey?: string;
}

/**
 * What a server of this dialect needs, one method per endpoint. Ripen's front door and the
 * sandbox both implement it, so the wire format lives only in this package. Methods answer the
 * `data` of the documented envelope and throw core DomainErrors or WireErrors.
 */
export interface NanobananaBackend<Principal> {
  /**
   * The caller of an API key, or null when the key is not one. Every request passes here, status
   * polls included, so this is where a key's rate limit is enforced (throw `rateLimited(…)`) and
   * a disabled key refused (WireError FORBIDDEN).
   */
  authenticate(apiKey: string, req: Request): Promise<Principal | null>;
  generateImage(
    principal: Principal,
    request: ImageRequest,
    options?: GenerateOptions,
  ): Promise<ImageGenerateData>;
  imageStatus(principal: Principal, taskId: string): Promise<ImageStatusData>;
  generateVideo(
    principal: Principal,
    request: VideoRequest,
    options?: GenerateOptions,
  ): Promise<VideoGenerateData>;
  videoStatus(principal: Principal, taskId: string): Promise<VideoStatusData>;
  credits(principal: Principal): Promise<CreditsData>;
  calculateCost(principal: Principal, request: CostRequest): Promise<CalculateCostData>;
  models(principal: Principal): Promise<ModelsData>;
}

export interface RouterOptions {
  /** Largest accepted JSON body (body-parser syntax, default 1mb). */
  bodyLimit?: string;
  onUnexpectedError?: (error: unknown, req: Request) => void;
}

/** Longest task id looked up; a longer one cannot exist. */
const TASK_ID_MAX_CHARS = 256;

/** Serves the dialect's seven endpoints, its auth and its envelope. */
export function createNanobananaRouter<Principal>(
  backend: NanobananaBackend<Principal>,
  options: RouterOptions = {},
): Router {
  const router = express.Router();
  const principalOf = authenticateRequests(router, {
    keyOf: (req) => bearerToken(req.get("authorization")),
    authenticate: (apiKey, req) => backend.authenticate(apiKey, req),
    missing: () =>
      new WireError("UNAUTHORIZED", "Missing API key. Send 'Authorization: Bearer nb_sk_…'."),
    refused: () => new WireError("UNAUTHORIZED", "Invalid API key."),
  });
  // Parsed after authentication, so an anonymous caller cannot make us read a large body.
  // Any content type is read as JSON: clients that forget the header still get a useful answer.
  router.use(express.json({ limit: options.bodyLimit ?? "1mb", type: () => true, strict: false }));

  const ok = (res: Response, data: unknown) => res.status(200).json({ success: true, data });

  router.post("/api/v1/images/generate", async (req, res) => {
    const body = objectBody(req);
    const model = modelOf(body, "model", isImageModel, DEFAULT_IMAGE_MODEL);
    const input = parse(imageGenerateInputs[model], body);
    ok(res, await backend.generateImage(principalOf(req), { ...input, model }, optionsOf(req)));
  });

  router.get("/api/v1/images/status", async (req, res) => {
    ok(res, await backend.imageStatus(principalOf(req), taskIdOf(req)));
  });

  router.post("/api/v1/videos/generate", async (req, res) => {
    const body = objectBody(req);
    const model = modelOf(body, "model_id", isVideoModel, DEFAULT_VIDEO_MODEL);
    const input = parse(videoGenerateInputs[model], body);
    ok(
      res,
      await backend.generateVideo(principalOf(req), { ...input, model_id: model }, optionsOf(req)),
    );
  });

  router.get("/api/v1/videos/status", async (req, res) => {
    ok(res, await backend.videoStatus(principalOf(req), taskIdOf(req)));
  });

  router.get("/api/v1/account/credits", async (req, res) => {
    ok(res, await backend.credits(principalOf(req)));
  });

  router.post("/api/v1/account/calculate-cost", async (req, res) => {
    ok(res, await backend.calculateCost(principalOf(req), costRequestOf(req.body)));
  });

  router.get("/api/v1/models", async (req, res) => {
    ok(res, await backend.models(principalOf(req)));
  });

  router.use((req: Request) => {
    throw new WireError("NOT_FOUND", `No endpoint ${req.method} ${req.path}.`);
  });

  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, body, headers, unexpected } = toWireError(error);
    if (unexpected) options.onUnexpectedError?.(error, req);
    res.status(status).set(headers).json(body);
  });

  return router;
}

const optionsOf = (req: Request): GenerateOptions => ({
  idempotencyKey: req.get("idempotency-key"),
});

/**
 * A calculate-cost body as the endpoint reads it: `type`, then the model's checks. Exported so a
 * server can price a body exactly as the endpoint would, outside a request.
 */
export function costRequestOf(raw: unknown): CostRequest {
  const body = plainObject(raw);
  const type = Object.hasOwn(body, "type") ? body.type : undefined;
  if (type === "image") {
    const model = modelOf(body, "model", isImageModel, DEFAULT_IMAGE_MODEL);
    return { ...parse(imageCostInputs[model], body), type, model };
  }
  if (type === "video") {
    const model = modelOf(body, "model_id", isVideoModel, DEFAULT_VIDEO_MODEL);
    return { ...parse(videoCostInputs[model], body), type, model_id: model };
  }
  throw new InvalidRequest(
    type === undefined ? "'type' is required." : "'type' must be one of image, video.",
    "type",
  );
}

const objectBody = (req: Request): Record<string, unknown> => plainObject(req.body);

function plainObject(body: unknown): Record<string, unknown> {
  if (!isPlainObject(body)) {
    throw new InvalidRequest("Request body must be a JSON object.");
  }
  return body;
}

/** The request's model: its default when absent, INVALID_MODEL when not a documented one. */
function modelOf<M extends string>(
  body: Record<string, unknown>,
  field: "model" | "model_id",
  isModel: (model: string) => model is M,
  fallback: M,
): M {
  const value = Object.hasOwn(body, field) ? body[field] : undefined;
  if (value === undefined) return fallback;
  if (typeof value !== "string") {
    throw new WireError("INVALID_MODEL", `'${field}' must be a model ID string.`);
  }
  if (!isModel(value)) {
    const shown = value.length > 100 ? `${value.slice(0, 100)}…` : value;
    throw new WireError("INVALID_MODEL", `Unknown model ID ${JSON.stringify(shown)}.`);
  }
  return value;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw invalidFromZod(parsed.error);
  return parsed.data;
}

/** `?task_id=`: required, one value; an id no task can have is simply not found. */
function taskIdOf(req: Request): string {
  const value = req.query.task_id;
  if (value === undefined || value === "") {
    throw new InvalidRequest("'task_id' is required.", "task_id");
  }
  if (typeof value !== "string") {
    throw new InvalidRequest("'task_id' must be given once, as a string.", "task_id");
  }
  if (value.length > TASK_ID_MAX_CHARS || !isStorableText(value)) {
    throw new TaskNotFound(`${value.slice(0, 64)}…`);
  }
  return value;
}

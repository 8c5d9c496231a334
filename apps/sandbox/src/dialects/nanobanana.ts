import { InvalidRequest, TaskNotFound } from "@ripen/core";
import {
  type CalculateCostData,
  type CostRequest,
  type CreditsData,
  createNanobananaRouter,
  DEFAULT_IMAGE_MODEL,
  DEFAULT_VIDEO_MODEL,
  documentedCost,
  documentedPrices,
  type ImageRequest,
  type ImageStatus,
  type ImageStatusData,
  imageModelIds,
  imageModels,
  type ModelsData,
  type NanobananaBackend,
  rateLimited,
  type VideoRequest,
  type VideoStatus,
  type VideoStatusData,
  videoModelIds,
  videoModels,
  WireError,
} from "@ripen/dialect-nanobanana";
import type { Request, Router } from "express";
import {
  type InjectedFault,
  logUnexpected,
  type SimAccount,
  type TaskState as SimState,
  type SimTask,
  type SimulatorKit,
  type TaskFailure,
} from "../kit";
import { originOf } from "./origin";

/** What this simulator does beyond the kit's faults; read on every call, so tests may change it. */
export interface NanobananaSimulatorSettings {
  /** Requests per key per sliding 60 s window, every endpoint counted (document: 60). */
  requestsPerMinute: number;
  /** The window it counts over (default 60 s; tests shorten it). */
  windowMs: number;
}

export const defaultNanobananaSettings = (): NanobananaSimulatorSettings => ({
  requestsPerMinute: 60,
  windowMs: 60_000,
});

/**
 * API keys. The document says keys look like `nb_sk_…`; anything else is 401 UNAUTHORIZED.
 * Chosen for the simulator (the document gives no way to tell): a key starting
 * `nb_sk_disabled` is a disabled key (403 FORBIDDEN on every call); one starting `nb_sk_free`
 * has no subscription (403 FORBIDDEN on the models whose "Subscription" column says Required).
 * Every other key has the example's plan (pro, VIP).
 */
export const KEY_PREFIX = "nb_sk_";
const isDisabledKey = (key: string) => key.startsWith(`${KEY_PREFIX}disabled`);
const isFreeKey = (key: string) => key.startsWith(`${KEY_PREFIX}free`);

/** Image tasks: pending until generation starts, then processing, then completed or failed. */
const imageStatus = {
  pending: "pending",
  running: "processing",
  succeeded: "completed",
  failed: "failed",
} as const satisfies Record<SimState, ImageStatus>;

/**
 * Video tasks: the create answers `processing` (the document's example), so a poll never goes
 * back to pending: both in-between states read as processing.
 */
const videoStatus = {
  pending: "processing",
  running: "processing",
  succeeded: "succeeded",
  failed: "failed",
} as const satisfies Record<SimState, VideoStatus>;

/** How a failed task reads (the document is silent): the message and one of its codes. */
const failureWording = {
  generation: { error_code: "INTERNAL_ERROR", error: "Generation failed, please retry." },
  content: { error_code: "CONTENT_FILTERED", error: "Content was rejected by safety filters." },
} as const satisfies Record<TaskFailure["reason"], { error_code: string; error: string }>;

/** Who the video create answer names as running the model (the example's "wavespeed"). */
const VIDEO_PROVIDER = "wavespeed";

function wireErrorOf(fault: InjectedFault): WireError {
  switch (fault.type) {
    case "rate_limited":
      return rateLimited(fault.retryAfterSeconds);
    case "server_error":
      // The document has one server error: 500 INTERNAL_ERROR, for a 503 outage too.
      return new WireError("INTERNAL_ERROR");
    case "content_filtered":
      return new WireError("CONTENT_FILTERED");
  }
}

interface KeyInfo {
  /** Credits the account had when first seen: `total_credits`. */
  totalCredits: number;
  /** When its subscription ends (the example's shape), fixed when first seen. */
  subscriptionEnds: string | null;
  /** Times of the requests counted in the current window, oldest first. */
  recent: number[];
}

interface Principal {
  key: string;
  info: KeyInfo;
  account: SimAccount;
  origin: () => string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A simulator of the Nano Banana upstream (document 001): `Authorization: Bearer nb_sk_…`, the
 * `{success, data}` envelope, images and videos on their own endpoints and status vocabularies,
 * the documented prices charged (and refunded when a task fails), credits, calculate-cost (the
 * same figure the create charges), the models list, and 60 requests per minute per key across
 * every endpoint (429 RATE_LIMIT_EXCEEDED with Retry-After, a sliding window on the kit's clock).
 * Polling only: the dialect has no callbacks. Content filtering refuses the create (451).
 */
export function createNanobananaSimulator(
  kit: SimulatorKit,
  settings: NanobananaSimulatorSettings = defaultNanobananaSettings(),
): Router {
  const keys = new Map<string, KeyInfo>();

  function infoOf(key: string, account: SimAccount): KeyInfo {
    let info = keys.get(key);
    if (!info) {
      info = {
        totalCredits: kit.balance(account),
        subscriptionEnds: isFreeKey(key) ? null : iso(kit.now() + 365 * 24 * 3_600_000),
        recent: [],
      };
      keys.set(key, info);
    }
    return info;
  }

  /** Counts one request in the key's window, or refuses it with the wait until a slot frees. */
  function admit(info: KeyInfo): void {
    const now = kit.now();
    const recent = info.recent;
    const windowMs = settings.windowMs;
    while (recent.length > 0 && recent[0]! <= now - windowMs) recent.shift();
    if (recent.length >= settings.requestsPerMinute) {
      kit.noteFault("rate_limit_refused");
      // The oldest counted request leaves the window at oldest + 60 s (a limit of 0: a window).
      const waitMs = (recent[0] ?? now) + windowMs - now;
      throw rateLimited(waitMs / 1000);
    }
    recent.push(now);
  }

  /** Serves one call, or answers the fault the kit drew for it. */
  const served = <T>(call: "submit" | "status" | "other", work: () => T) =>
    kit.serve(call, wireErrorOf, work);

  function findTask(principal: Principal, taskId: string, kind: "image" | "video"): SimTask {
    const task = kit.findTask(taskId, principal.account);
    // An image task is not found at the video status endpoint, and the other way round.
    if (!task || task.media.kind !== kind) throw new TaskNotFound(taskId);
    return task;
  }

  function imageView(task: SimTask): ImageStatusData {
    const state = kit.stateOf(task);
    const base = { task_id: task.id, status: imageStatus[state], progress: kit.progressOf(task) };
    if (state === "succeeded") {
      return {
        ...base,
        image_url: task.urls[0] ?? null,
        // Not in the document (one image_url): every image when more than one was asked for.
        ...(task.urls.length > 1 ? { image_urls: task.urls } : {}),
        completed_at: iso(kit.endedAtMs(task)!),
      };
    }
    if (state === "failed") return { ...base, ...failureWording[task.failure!.reason] };
    return base;
  }

  function videoView(task: SimTask): VideoStatusData {
    const state = kit.stateOf(task);
    const base = { task_id: task.id, status: videoStatus[state], progress: kit.progressOf(task) };
    if (state === "succeeded") {
      return { ...base, video_url: task.urls[0] ?? null, completed_at: iso(kit.endedAtMs(task)!) };
    }
    if (state === "failed") return { ...base, ...failureWording[task.failure!.reason] };
    return base;
  }

  function priceOf(model: string, request: Record<string, unknown>): number {
    const cost = documentedCost(model, request);
    // Every request the router lets through has a figure; this guards a table gap.
    if (cost === undefined) throw new InvalidRequest(`No price for this ${model} request.`);
    return cost;
  }

  const models: ModelsData = {
    image_models: imageModelIds.map((id) => ({
      id,
      name: imageModels[id].name,
      ...(id === DEFAULT_IMAGE_MODEL ? { is_default: true } : {}),
      resolutions: imageModels[id].resolutions,
      aspect_ratios: imageModels[id].aspectRatios,
      base_credits: documentedPrices.image.base[id],
      subscription_required: imageModels[id].subscriptionRequired,
    })),
    video_models: videoModelIds.map((id) => ({
      id,
      name: videoModels[id].name,
      ...(id === DEFAULT_VIDEO_MODEL ? { is_default: true } : {}),
      resolutions: videoModels[id].resolutions,
      aspect_ratios: videoModels[id].aspectRatios,
      durations: videoModels[id].durations,
      audio: videoModels[id].audio,
      image_input: videoModels[id].imageInput,
    })),
  };

  const backend: NanobananaBackend<Principal> = {
    async authenticate(apiKey: string, req: Request) {
      if (!apiKey.startsWith(KEY_PREFIX)) return null;
      if (isDisabledKey(apiKey)) throw new WireError("FORBIDDEN", "This API key is disabled.");
      const account = kit.account(apiKey);
      const info = infoOf(apiKey, account);
      admit(info);
      return { key: apiKey, info, account, origin: () => originOf(req) };
    },

    generateImage: (principal, request: ImageRequest) =>
      served("submit", () => {
        if (imageModels[request.model].subscriptionRequired && isFreeKey(principal.key)) {
          throw new WireError("FORBIDDEN", `${request.model} requires a subscription.`);
        }
        const cost = priceOf(request.model, request);
        const task = kit.createTask({
          account: principal.account,
          model: request.model,
          media: {
            kind: "image",
            format: request.output_format === "jpeg" ? "jpg" : "png",
            resolution: request.resolution ?? "1K",
            aspectRatio: request.aspect_ratio,
            count: request.num_images,
          },
          cost,
          request,
          origin: principal.origin,
        });
        return {
          task_id: task.id,
          status: "pending" as const,
          credits_used: cost,
          credits_remaining: kit.balance(principal.account),
        };
      }),

    imageStatus: (principal, taskId) =>
      served("status", () => imageView(findTask(principal, taskId, "image"))),

    generateVideo: (principal, request: VideoRequest) =>
      served("submit", () => {
        const cost = priceOf(request.model_id, request);
        const task = kit.createTask({
          account: principal.account,
          model: request.model_id,
          media: { kind: "video", aspectRatio: request.aspect_ratio },
          cost,
          request,
          origin: principal.origin,
        });
        return {
          task_id: task.id,
          status: "processing" as const,
          credits_used: cost,
          credits_remaining: kit.balance(principal.account),
          provider: VIDEO_PROVIDER,
        };
      }),

    videoStatus: (principal, taskId) =>
      served("status", () => videoView(findTask(principal, taskId, "video"))),

    credits: (principal) =>
      served("other", (): CreditsData => {
        const { subscriptionEnds } = principal.info;
        return {
          credits: kit.balance(principal.account),
          total_credits: principal.info.totalCredits,
          subscription: subscriptionEnds ? { plan: "pro", end_date: subscriptionEnds } : null,
          is_vip: subscriptionEnds !== null,
        };
      }),

    calculateCost: (_principal, request: CostRequest) =>
      served(
        "other",
        (): CalculateCostData => ({
          type: request.type,
          credits_needed: priceOf(
            request.type === "image" ? request.model : request.model_id,
            request,
          ),
        }),
      ),

    models: () => served("other", () => models),
  };

  return createNanobananaRouter(backend, {
    onUnexpectedError: logUnexpected,
  });
}

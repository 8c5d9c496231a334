import { httpUrl, promptText } from "@ripen/core";
import { z } from "zod";
import {
  imageAspectRatios,
  imageModes,
  imageOutputFormats,
  imageQualities,
  imageResolutions,
  MAX_IMAGES,
  videoAspectRatios,
  videoResolutions,
} from "./models";

/**
 * Wire formats of the Nano Banana dialect (document 001), written once for both sides. Requests
 * are strict (the document lists their fields); responses tolerate fields the document does not
 * show. The request schemas here accept what any model accepts; `models.ts` holds the per-model
 * checks the router applies.
 */

/** The request body of POST /api/v1/images/generate, for any model. */
export const imageGenerateRequest = z.strictObject({
  prompt: promptText(),
  mode: z.enum(imageModes).optional(),
  model: z.string().optional(),
  image_url: httpUrl().optional(),
  aspect_ratio: z.enum(imageAspectRatios).optional(),
  resolution: z.enum(imageResolutions).optional(),
  num_images: z.number().int().min(1).max(MAX_IMAGES).optional(),
  quality: z.enum(imageQualities).optional(),
  output_format: z.enum(imageOutputFormats).optional(),
});
export type ImageGenerateRequest = z.infer<typeof imageGenerateRequest>;

/** The request body of POST /api/v1/videos/generate, for any model. */
export const videoGenerateRequest = z.strictObject({
  prompt: promptText(),
  model_id: z.string().optional(),
  aspect_ratio: z.enum(videoAspectRatios).optional(),
  duration: z.number().int().positive().optional(),
  resolution: z.enum(videoResolutions).optional(),
  image_url: httpUrl().optional(),
  generate_audio: z.boolean().optional(),
  negative_prompt: z.string().optional(),
});
export type VideoGenerateRequest = z.infer<typeof videoGenerateRequest>;

/**
 * The request body of POST /api/v1/account/calculate-cost: `type` and the fields of the matching
 * generate request that its price depends on (the document's example is an image one; a video one
 * names its model `model_id`, as its generate request does). Prompt and image may be left out.
 */
export const calculateCostRequest = z.discriminatedUnion("type", [
  imageGenerateRequest.extend({ type: z.literal("image"), prompt: promptText().optional() }),
  videoGenerateRequest.extend({ type: z.literal("video"), prompt: promptText().optional() }),
]);
export type CalculateCostRequest = z.infer<typeof calculateCostRequest>;

export const errorBody = z.object({ code: z.string(), message: z.string() });

/** `{"success": false, "error": {code, message}}`. */
export const errorEnvelope = z.object({ success: z.literal(false), error: errorBody });
export type ErrorEnvelope = z.infer<typeof errorEnvelope>;

/** `{"success": true, "data": …}`. */
export const successEnvelope = <T extends z.ZodType>(data: T) =>
  z.object({ success: z.literal(true), data });

/** Image tasks end `completed`. Chosen (the document names only completed and failed): a task
 * reads `pending` until generation starts, then `processing`. */
export const imageStatuses = ["pending", "processing", "completed", "failed"] as const;
export type ImageStatus = (typeof imageStatuses)[number];

/** Video tasks end `succeeded` (create answers `processing`); same in-between states. */
export const videoStatuses = ["pending", "processing", "succeeded", "failed"] as const;
export type VideoStatus = (typeof videoStatuses)[number];

export const imageGenerateData = z.object({
  task_id: z.string(),
  status: z.enum(imageStatuses),
  credits_used: z.number(),
  credits_remaining: z.number(),
});
export type ImageGenerateData = z.infer<typeof imageGenerateData>;
export const imageGenerateResponse = successEnvelope(imageGenerateData);

export const videoGenerateData = z.object({
  task_id: z.string(),
  status: z.enum(videoStatuses),
  credits_used: z.number(),
  credits_remaining: z.number(),
  /** Who runs the model behind the API, e.g. "wavespeed". */
  provider: z.string().optional(),
});
export type VideoGenerateData = z.infer<typeof videoGenerateData>;
export const videoGenerateResponse = successEnvelope(videoGenerateData);

/**
 * Why a task failed. The document is silent; chosen: `error` is a human-readable message and
 * `error_code` one of the documented codes (CONTENT_FILTERED when the safety filter refused the
 * result, INTERNAL_ERROR when generation failed). An object `{code, message}` is read too.
 */
const taskError = z
  .union([z.string(), z.object({ code: z.string().optional(), message: z.string().optional() })])
  .nullish();

/** Fields of both status answers. Nulls are read as absent (an unfinished task has no URL). */
const statusFields = {
  task_id: z.string(),
  progress: z.number().nullish(),
  completed_at: z.string().nullish(),
  error: taskError,
  error_code: z.string().nullish(),
};

export const imageStatusData = z.object({
  ...statusFields,
  status: z.enum(imageStatuses),
  image_url: z.string().nullish(),
  /** Not in the document, which shows one `image_url`: every image when num_images > 1. */
  image_urls: z.array(z.string()).nullish(),
});
export type ImageStatusData = z.infer<typeof imageStatusData>;
export const imageStatusResponse = successEnvelope(imageStatusData);

export const videoStatusData = z.object({
  ...statusFields,
  status: z.enum(videoStatuses),
  video_url: z.string().nullish(),
});
export type VideoStatusData = z.infer<typeof videoStatusData>;
export const videoStatusResponse = successEnvelope(videoStatusData);

export const creditsData = z.object({
  credits: z.number(),
  total_credits: z.number(),
  /** Null without a subscription (not shown by the document). */
  subscription: z.object({ plan: z.string(), end_date: z.string().nullish() }).nullable(),
  is_vip: z.boolean(),
});
export type CreditsData = z.infer<typeof creditsData>;
export const creditsResponse = successEnvelope(creditsData);

export const calculateCostData = z.object({
  type: z.enum(["image", "video"]),
  credits_needed: z.number(),
});
export type CalculateCostData = z.infer<typeof calculateCostData>;
export const calculateCostResponse = successEnvelope(calculateCostData);

/** The document shows `id`, `name` and `is_default` and elides the rest ("..."). */
const modelEntry = z.looseObject({
  id: z.string(),
  name: z.string(),
  is_default: z.boolean().optional(),
});
export const modelsData = z.object({
  image_models: z.array(modelEntry),
  video_models: z.array(modelEntry),
});
export type ModelsData = z.infer<typeof modelsData>;
export const modelsResponse = successEnvelope(modelsData);

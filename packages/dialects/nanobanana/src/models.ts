import { httpUrl, oneOf, PROMPT_MAX_CHARS, promptText, storableString } from "@ripen/core";
import { z } from "zod";

/**
 * Document 001's model tables ("Image Models", "Video Models") as data, and the per-model request
 * schemas built from them once. The router validates every request with these, so Ripen's front
 * door and the sandbox refuse exactly what the document says the upstream refuses.
 */

export const imageModes = ["text", "image"] as const;
export type ImageMode = (typeof imageModes)[number];

export const imageResolutions = ["1K", "2K", "4K"] as const;
export type ImageResolution = (typeof imageResolutions)[number];

export const imageQualities = ["standard", "hd"] as const;
export type ImageQuality = (typeof imageQualities)[number];

export const imageOutputFormats = ["png", "jpeg"] as const;
export type ImageOutputFormat = (typeof imageOutputFormats)[number];

/** nano-banana and seedream4; also the request body's comment in the document. */
const basicAspectRatios = ["1:1", "3:4", "4:3", "9:16", "16:9"] as const;
/** nano-banana-pro and nano-banana-2. */
const extendedAspectRatios = [
  "1:1",
  "3:2",
  "2:3",
  "3:4",
  "4:3",
  "4:5",
  "5:4",
  "9:16",
  "16:9",
  "21:9",
] as const;
export const imageAspectRatios = extendedAspectRatios;
export type ImageAspectRatio = (typeof imageAspectRatios)[number];

export const MAX_IMAGES = 4;

export interface ImageModelSpec {
  name: string;
  /** Empty: the model takes no `resolution` (the table's "-"). */
  resolutions: readonly ImageResolution[];
  aspectRatios: readonly [ImageAspectRatio, ...ImageAspectRatio[]];
  /** The table's "Subscription" column. */
  subscriptionRequired: boolean;
}

export const imageModelIds = [
  "nano-banana",
  "nano-banana-pro",
  "nano-banana-2",
  "seedream4",
] as const;
export type ImageModel = (typeof imageModelIds)[number];
/** `model` is optional; the models list marks nano-banana `is_default`. */
export const DEFAULT_IMAGE_MODEL: ImageModel = "nano-banana";

export const imageModels = {
  "nano-banana": {
    name: "Nano Banana",
    resolutions: [],
    aspectRatios: basicAspectRatios,
    subscriptionRequired: false,
  },
  "nano-banana-pro": {
    name: "Nano Banana Pro",
    resolutions: imageResolutions,
    aspectRatios: extendedAspectRatios,
    subscriptionRequired: false,
  },
  "nano-banana-2": {
    name: "Nano Banana 2",
    resolutions: imageResolutions,
    aspectRatios: extendedAspectRatios,
    subscriptionRequired: true,
  },
  seedream4: {
    name: "SeeDream 4",
    resolutions: [],
    aspectRatios: basicAspectRatios,
    subscriptionRequired: true,
  },
} as const satisfies Record<ImageModel, ImageModelSpec>;

export const videoResolutions = ["480p", "720p", "1080p"] as const;
export type VideoResolution = (typeof videoResolutions)[number];

export const videoAspectRatios = ["16:9", "9:16", "1:1", "4:3"] as const;
export type VideoAspectRatio = (typeof videoAspectRatios)[number];

/** The table's Audio column: "Yes" (on request), "No", "Always on". */
export const videoAudioModes = ["optional", "none", "always"] as const;
export type VideoAudioMode = (typeof videoAudioModes)[number];

export interface VideoModelSpec {
  name: string;
  resolutions: readonly [VideoResolution, ...VideoResolution[]];
  aspectRatios: readonly [VideoAspectRatio, ...VideoAspectRatio[]];
  /** Seconds. */
  durations: readonly [number, ...number[]];
  audio: VideoAudioMode;
  /** The table's "Image Input" column (Yes for every model). */
  imageInput: boolean;
}

export const videoModelIds = [
  "veo-3.1-fast",
  "veo-3.1",
  "seedance-1.5-fast",
  "seedance-1.5",
  "seedance-2.0",
  "wan-2.5",
  "sora-2",
  "sora-2-pro",
  "kling-o3-std",
  "kling-o3-pro",
  "grok-video",
] as const;
export type VideoModel = (typeof videoModelIds)[number];
/** "VEO 3.1 Fast (default)" in the Video Credits section. */
export const DEFAULT_VIDEO_MODEL: VideoModel = "veo-3.1-fast";

const veoLimits = {
  resolutions: ["720p", "1080p"],
  aspectRatios: ["16:9", "9:16"],
  durations: [4, 6, 8],
  audio: "optional",
  imageInput: true,
} as const;
const seedance15Limits = {
  resolutions: ["720p", "1080p"],
  aspectRatios: ["16:9", "9:16", "1:1"],
  durations: [4, 8, 12],
  audio: "optional",
  imageInput: true,
} as const;
const klingLimits = {
  resolutions: ["720p"],
  aspectRatios: ["16:9", "9:16", "1:1"],
  durations: [5, 10],
  audio: "optional",
  imageInput: true,
} as const;

export const videoModels = {
  "veo-3.1-fast": { name: "VEO 3.1 Fast", ...veoLimits },
  "veo-3.1": { name: "VEO 3.1", ...veoLimits },
  "seedance-1.5-fast": { name: "Seedance 1.5 Fast", ...seedance15Limits },
  "seedance-1.5": { name: "Seedance 1.5 Pro", ...seedance15Limits },
  "seedance-2.0": {
    name: "Seedance 2.0",
    resolutions: ["480p", "720p"],
    aspectRatios: ["16:9", "9:16", "1:1", "4:3"],
    durations: [5, 10, 15],
    audio: "optional",
    imageInput: true,
  },
  "wan-2.5": {
    name: "Wan 2.5",
    resolutions: ["480p", "720p", "1080p"],
    aspectRatios: ["16:9", "9:16"],
    durations: [5, 10],
    audio: "none",
    imageInput: true,
  },
  "sora-2": {
    name: "Sora 2",
    resolutions: ["720p"],
    aspectRatios: ["16:9", "9:16"],
    durations: [4, 8, 12],
    audio: "always",
    imageInput: true,
  },
  "sora-2-pro": {
    name: "Sora 2 Pro",
    resolutions: ["720p", "1080p"],
    aspectRatios: ["16:9", "9:16"],
    durations: [4, 8, 12],
    audio: "always",
    imageInput: true,
  },
  "kling-o3-std": { name: "Kling O3", ...klingLimits },
  "kling-o3-pro": { name: "Kling O3 Pro", ...klingLimits },
  "grok-video": {
    name: "Grok Video",
    resolutions: ["480p", "720p"],
    aspectRatios: ["16:9", "9:16", "1:1"],
    durations: [6, 10],
    audio: "none",
    imageInput: true,
  },
} as const satisfies Record<VideoModel, VideoModelSpec>;

export const isImageModel = (model: string): model is ImageModel =>
  Object.hasOwn(imageModels, model);
export const isVideoModel = (model: string): model is VideoModel =>
  Object.hasOwn(videoModels, model);

/**
 * A request of POST /api/v1/images/generate once checked against its model, defaults filled in.
 * Not documented, so chosen: `mode` text, `aspect_ratio` 1:1, `resolution` 1K for the models
 * that take one (the others accept only "1K", as the document's example sends it), `num_images`
 * 1, `quality` standard, `output_format` png; prompts (and negative prompts) of at most 20,000
 * characters.
 */
export type ImageGenerateInput = {
  prompt: string;
  mode: ImageMode;
  model?: string;
  image_url?: string;
  aspect_ratio: ImageAspectRatio;
  resolution?: ImageResolution;
  num_images: number;
  quality: ImageQuality;
  output_format: ImageOutputFormat;
};

/**
 * A request of POST /api/v1/videos/generate once checked against its model, defaults filled in.
 * Not documented, so chosen: `aspect_ratio` 16:9 (every model has it), `resolution` 720p (every
 * model has it), `duration` the model's shortest, `generate_audio` false (the example's comment,
 * "enable audio generation", reads as opt-in); an "Always on" model answers with audio whatever
 * `generate_audio` says, and is priced with it.
 */
export type VideoGenerateInput = {
  prompt: string;
  model_id?: string;
  aspect_ratio: VideoAspectRatio;
  duration: number;
  resolution: VideoResolution;
  image_url?: string;
  generate_audio: boolean;
  negative_prompt?: string;
};

/** POST /api/v1/account/calculate-cost: the generate request without what a price ignores. */
export type ImageCostInput = Omit<ImageGenerateInput, "prompt"> & {
  type?: "image";
  prompt?: string;
};
export type VideoCostInput = Omit<VideoGenerateInput, "prompt"> & {
  type?: "video";
  prompt?: string;
};

const NEGATIVE_PROMPT_MAX_CHARS = PROMPT_MAX_CHARS;

/** The fields of an image request other than `prompt`, checked against the model. */
function imageFields(model: ImageModel) {
  const spec: ImageModelSpec = imageModels[model];
  const [firstResolution, ...otherResolutions] = spec.resolutions;
  return {
    mode: oneOf(imageModes).default("text"),
    model: z.literal(model).optional(),
    image_url: httpUrl().optional(),
    aspect_ratio: oneOf(spec.aspectRatios, ` for ${model}`).default("1:1"),
    resolution:
      firstResolution === undefined
        ? // The table's "-": the model makes 1K images only. The document's example sends
          // `resolution: "1K"` to nano-banana, so that one value is accepted.
          oneOf(["1K"], ` for ${model} (it has no resolution option)`).optional()
        : oneOf([firstResolution, ...otherResolutions], ` for ${model}`).default("1K"),
    num_images: z
      .number({ error: "must be a number" })
      .int("must be an integer")
      .min(1, `must be between 1 and ${MAX_IMAGES}`)
      .max(MAX_IMAGES, `must be between 1 and ${MAX_IMAGES}`)
      .default(1),
    quality: oneOf(imageQualities).default("standard"),
    output_format: oneOf(imageOutputFormats).default("png"),
  };
}

/**
 * `image_url` is required in image mode. In text mode it is accepted and ignored: the document's
 * own request example sends one with `mode: "text"`.
 */
function checkImageMode(
  value: { mode: ImageMode; image_url?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (value.mode === "image" && value.image_url === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["image_url"],
      message: "is required when mode is image",
    });
  }
}

const imageGenerateSchema = (model: ImageModel) =>
  z
    .strictObject({ prompt: promptText(PROMPT_MAX_CHARS), ...imageFields(model) })
    .superRefine(checkImageMode);

/** A price needs neither the prompt nor the image itself. */
const imageCostSchema = (model: ImageModel) =>
  z.strictObject({
    type: z.literal("image").optional(),
    prompt: promptText(PROMPT_MAX_CHARS).optional(),
    ...imageFields(model),
  });

/** The fields of a video request other than `prompt`, checked against the model. */
function videoFields(model: VideoModel) {
  const spec: VideoModelSpec = videoModels[model];
  const durations = spec.durations;
  return {
    model_id: z.literal(model).optional(),
    aspect_ratio: oneOf(spec.aspectRatios, ` for ${model}`).default("16:9"),
    duration: z
      .number({ error: "must be a number" })
      .refine((d) => durations.includes(d), `must be one of ${durations.join(", ")} for ${model}`)
      .default(durations[0]),
    resolution: oneOf(spec.resolutions, ` for ${model}`).default("720p"),
    image_url: spec.imageInput
      ? httpUrl().optional()
      : z.never({ error: `is not supported by ${model}` }).optional(),
    generate_audio: (spec.audio === "none"
      ? z.literal(false, { error: `must be false: ${model} does not generate audio` })
      : z.boolean({ error: "must be a boolean" })
    ).default(false),
    negative_prompt: storableString()
      .refine(
        (s) => [...s].length <= NEGATIVE_PROMPT_MAX_CHARS,
        `must be at most ${NEGATIVE_PROMPT_MAX_CHARS} characters`,
      )
      .optional(),
  };
}

/** An "Always on" model answers with audio whatever was asked, and is priced with it. */
const withAudioOf =
  (model: VideoModel) =>
  <T extends { generate_audio: boolean }>(value: T): T =>
    videoModels[model].audio === "always" ? { ...value, generate_audio: true } : value;

const videoGenerateSchema = (model: VideoModel) =>
  z
    .strictObject({ prompt: promptText(PROMPT_MAX_CHARS), ...videoFields(model) })
    .transform(withAudioOf(model));

const videoCostSchema = (model: VideoModel) =>
  z
    .strictObject({
      type: z.literal("video").optional(),
      prompt: promptText(PROMPT_MAX_CHARS).optional(),
      ...videoFields(model),
    })
    .transform(withAudioOf(model));

function buildAll<M extends string, T>(ids: readonly M[], build: (id: M) => T): Record<M, T> {
  return Object.fromEntries(ids.map((id) => [id, build(id)])) as Record<M, T>;
}

/** Per image model: the checks of a generate request, built once. */
export const imageGenerateInputs: Record<ImageModel, z.ZodType<ImageGenerateInput>> = buildAll(
  imageModelIds,
  imageGenerateSchema,
);
/** Per image model: the checks of a calculate-cost request (prompt and image not needed). */
export const imageCostInputs: Record<ImageModel, z.ZodType<ImageCostInput>> = buildAll(
  imageModelIds,
  imageCostSchema,
);
export const videoGenerateInputs: Record<VideoModel, z.ZodType<VideoGenerateInput>> = buildAll(
  videoModelIds,
  videoGenerateSchema,
);
export const videoCostInputs: Record<VideoModel, z.ZodType<VideoCostInput>> = buildAll(
  videoModelIds,
  videoCostSchema,
);

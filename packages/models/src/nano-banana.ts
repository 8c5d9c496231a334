import type { ModelSpec } from "@ripen/core";
import { aspectRatios as revidRatios } from "@ripen/dialect-revid";
import { z } from "zod";
import {
  type ImageFormat,
  imageCount,
  imageFormats,
  imageUrls,
  jpegSpelling,
  oneOf,
  promptText,
  type Quality,
  quality,
  within,
} from "./fields";

/** Document 001's ratios for nano-banana, a subset of revid's (`image_size`, document 004). */
const nanobananaRatios = ["1:1", "3:4", "4:3", "9:16", "16:9"];
/** Document 004: prompts of at most 10,000 characters. */
const REVID_PROMPT_MAX = 10_000;

const baseInput = {
  prompt: promptText(20_000),
  aspect_ratio: oneOf(revidRatios).default("1:1"),
  output_format: oneOf(imageFormats).default("png"),
  num_images: imageCount,
  quality,
};

export interface NanoBananaInput {
  prompt: string;
  aspect_ratio: (typeof revidRatios)[number];
  output_format: ImageFormat;
  num_images: number;
  quality: Quality;
  image_urls?: string[];
}

/** Per image: document 004's 8 credits; `hd` adds document 001's 2 per image. */
export interface PerImagePrices {
  perImage: number;
  hdPerImage: number;
}

export const perImagePrice = (
  input: { num_images: number; quality: Quality },
  prices: PerImagePrices,
) => (prices.perImage + (input.quality === "hd" ? prices.hdPerImage : 0)) * input.num_images;

/** Revid makes one standard image per task: more, or hd, only nanobanana serves. */
const revidServes = (input: NanoBananaInput) =>
  input.num_images === 1 &&
  input.quality === "standard" &&
  [...input.prompt].length <= REVID_PROMPT_MAX;

function nanobananaInput(input: NanoBananaInput, mode: "text" | "image") {
  const ratio = within(input.aspect_ratio, nanobananaRatios);
  if (!ratio) return null;
  return {
    prompt: input.prompt,
    mode,
    ...(mode === "image" ? { image_url: input.image_urls![0] } : {}),
    aspect_ratio: ratio,
    num_images: input.num_images,
    quality: input.quality,
    output_format: jpegSpelling(input.output_format),
  };
}

/** Nano Banana, text to image: revid's `google/nano-banana` and nanobanana's default model. */
export const nanoBanana: ModelSpec<NanoBananaInput, PerImagePrices> = {
  id: "nano-banana",
  kind: "image",
  input: z.strictObject(baseInput),
  prices: { perImage: 8, hdPerImage: 2 },
  price: perImagePrice,
  deadlineMs: 15 * 60_000,
  routes: [
    {
      dialect: "revid",
      upstreamModel: "google/nano-banana",
      translate: (input) =>
        revidServes(input)
          ? {
              prompt: input.prompt,
              image_size: input.aspect_ratio,
              output_format: input.output_format,
            }
          : null,
    },
    {
      dialect: "nanobanana",
      upstreamModel: "nano-banana",
      translate: (input) => nanobananaInput(input, "text"),
    },
  ],
};

/** Revid's edit takes several images (how many is not documented: 8, as its pro model). */
const EDIT_MAX_IMAGES = 8;

/** Nano Banana Edit: revid's `google/nano-banana-edit`; nanobanana's image mode with one image. */
export const nanoBananaEdit: ModelSpec<NanoBananaInput, PerImagePrices> = {
  id: "nano-banana-edit",
  kind: "image",
  input: z.strictObject({
    ...baseInput,
    image_urls: imageUrls(EDIT_MAX_IMAGES, "nano-banana-edit").min(1, "must hold at least one URL"),
  }),
  prices: { perImage: 8, hdPerImage: 2 },
  price: perImagePrice,
  deadlineMs: 15 * 60_000,
  routes: [
    {
      dialect: "revid",
      upstreamModel: "google/nano-banana-edit",
      translate: (input) =>
        revidServes(input)
          ? {
              prompt: input.prompt,
              image_urls: input.image_urls,
              image_size: input.aspect_ratio,
              output_format: input.output_format,
            }
          : null,
    },
    {
      dialect: "nanobanana",
      upstreamModel: "nano-banana",
      translate: (input) =>
        input.image_urls?.length === 1 ? nanobananaInput(input, "image") : null,
    },
  ],
};

import type { ModelSpec } from "@ripen/core";
// Revid's list (document 004); nanobanana's (document 001) is the same less `auto`.
import { aspectRatios as ratios } from "@ripen/dialect-revid";
import { z } from "zod";
import {
  type ImageFormat,
  type ImageResolution,
  imageCount,
  imageFormats,
  imageResolutions,
  imageUrls,
  jpegSpelling,
  oneOf,
  promptText,
  type Quality,
  quality,
  within,
} from "./fields";

/** Document 004: up to 8 input images, prompts of at most 10,000 characters. */
const MAX_IMAGES = 8;
const REVID_PROMPT_MAX = 10_000;

export interface NanoBananaProInput {
  prompt: string;
  aspect_ratio: (typeof ratios)[number];
  resolution: ImageResolution;
  output_format: ImageFormat;
  image_urls?: string[];
  num_images: number;
  quality: Quality;
}

/** Per image by resolution (document 004: 25 at 1K/2K, 35 at 4K); hd adds document 001's 2. */
interface ProPrices {
  perImage: Record<ImageResolution, number>;
  hdPerImage: number;
}

/** Nano Banana Pro: revid's `nano-banana-pro` and nanobanana's. */
export const nanoBananaPro: ModelSpec<NanoBananaProInput, ProPrices> = {
  id: "nano-banana-pro",
  kind: "image",
  input: z.strictObject({
    prompt: promptText(20_000),
    aspect_ratio: oneOf(ratios).default("1:1"),
    resolution: oneOf(imageResolutions).default("1K"),
    output_format: oneOf(imageFormats).default("png"),
    image_urls: imageUrls(MAX_IMAGES, "nano-banana-pro").optional(),
    num_images: imageCount,
    quality,
  }),
  prices: { perImage: { "1K": 25, "2K": 25, "4K": 35 }, hdPerImage: 2 },
  price: (input, prices) =>
    (prices.perImage[input.resolution] + (input.quality === "hd" ? prices.hdPerImage : 0)) *
    input.num_images,
  deadlineMs: 15 * 60_000,
  routes: [
    {
      dialect: "revid",
      upstreamModel: "nano-banana-pro",
      translate: (input) =>
        input.num_images === 1 &&
        input.quality === "standard" &&
        [...input.prompt].length <= REVID_PROMPT_MAX
          ? {
              prompt: input.prompt,
              image_input: input.image_urls ?? [],
              aspect_ratio: input.aspect_ratio,
              resolution: input.resolution,
              output_format: input.output_format,
            }
          : null,
    },
    {
      dialect: "nanobanana",
      upstreamModel: "nano-banana-pro",
      translate: (input) => {
        const images = input.image_urls ?? [];
        const ratio = within(
          input.aspect_ratio,
          ratios.filter((r) => r !== "auto"),
        );
        if (images.length > 1 || !ratio) return null;
        return {
          prompt: input.prompt,
          mode: images.length ? "image" : "text",
          ...(images.length ? { image_url: images[0] } : {}),
          aspect_ratio: ratio,
          resolution: input.resolution,
          num_images: input.num_images,
          quality: input.quality,
          output_format: jpegSpelling(input.output_format),
        };
      },
    },
  ],
};

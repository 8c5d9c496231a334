import type { ModelSpec } from "@ripen/core";
import {
  type AivideoapiInput,
  nanoBanana2Input,
  nanoBanana2LiteInput,
} from "@ripen/dialect-aivideoapi";
import type { z } from "zod";
import { imageCount, jpegSpelling, type Quality, quality, within } from "./fields";

/** Document 001's aspect ratios for nano-banana-2 (no `auto`, no ultra-wide). */
const nanobananaRatios = ["1:1", "3:2", "2:3", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"];

type ByResolution = Record<"1K" | "2K" | "4K", number>;

type NanoBanana2Input = AivideoapiInput & { num_images: number; quality: Quality };

/** Per image by resolution, and what `quality: "hd"` adds per image. */
type NanoBanana2Prices = ByResolution & { hdPerImage: number };

/** One standard image per task, what documents 000 and 003 make: more, or hd, only nanobanana. */
const oneStandardImage = (input: NanoBanana2Input) =>
  input.num_images === 1 && input.quality === "standard";

/**
 * Nano Banana 2: the native API's own model (document 000), so its input is that dialect's, plus
 * document 001's `num_images` and `quality` (served by nanobanana only). Also served by kie
 * (document 003, text to image only) and nanobanana (document 001, one reference image at most,
 * ten aspect ratios).
 */
export const nanoBanana2: ModelSpec<NanoBanana2Input, NanoBanana2Prices> = {
  id: "nano-banana-2",
  kind: "image",
  input: nanoBanana2Input.extend({
    num_images: imageCount,
    quality,
  }) as z.ZodType<NanoBanana2Input>,
  // Document 000: 16 / 24 / 36 credits at 1K / 2K / 4K; hd adds document 001's 2 per image.
  prices: { "1K": 16, "2K": 24, "4K": 36, hdPerImage: 2 },
  price: (input, prices) =>
    (prices[input.resolution] + (input.quality === "hd" ? prices.hdPerImage : 0)) *
    input.num_images,
  deadlineMs: 15 * 60_000,
  routes: [
    {
      dialect: "aivideoapi",
      upstreamModel: "nano-banana-2",
      translate: (input) => {
        if (!oneStandardImage(input)) return null;
        const { num_images: _count, quality: _quality, ...wire } = input;
        return wire;
      },
    },
    {
      dialect: "kie",
      upstreamModel: "nano-banana-2-text-to-image",
      translate: (input) =>
        input.image_urls?.length || !oneStandardImage(input)
          ? null
          : {
              prompt: input.prompt,
              aspect_ratio: input.aspect_ratio,
              resolution: input.resolution,
              output_format: input.output_format,
            },
    },
    {
      dialect: "nanobanana",
      upstreamModel: "nano-banana-2",
      translate: (input) => {
        const images = input.image_urls ?? [];
        const ratio = within(input.aspect_ratio, nanobananaRatios);
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

type LiteInput = Omit<AivideoapiInput, "output_format"> & { output_format?: never };

/** Nano Banana 2 Lite (document 002): 1K only; aivideoapi, and kie ("served through the Kie jobs API"). */
export const nanoBanana2Lite: ModelSpec<LiteInput, { "1K": number }> = {
  id: "nano-banana-2-lite",
  kind: "image",
  input: nanoBanana2LiteInput as unknown as ModelSpec<LiteInput>["input"],
  // Document 002: 10 credits.
  prices: { "1K": 10 },
  price: (_input, prices) => prices["1K"],
  deadlineMs: 10 * 60_000,
  routes: [
    {
      dialect: "aivideoapi",
      upstreamModel: "nano-banana-2-lite",
      translate: ({ output_format: _omitted, ...input }) => input,
    },
    {
      dialect: "kie",
      upstreamModel: "nano-banana-2-lite",
      translate: ({ output_format: _omitted, ...input }) => input,
    },
  ],
};

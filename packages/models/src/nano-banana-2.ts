import type { ModelSpec } from "@ripen/core";
import {
  type AivideoapiInput,
  nanoBanana2Input,
  nanoBanana2LiteInput,
} from "@ripen/dialect-aivideoapi";
import { jpegSpelling, within } from "./fields";

/** Document 001's aspect ratios for nano-banana-2 (no `auto`, no ultra-wide). */
const nanobananaRatios = ["1:1", "3:2", "2:3", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"];

type ByResolution = Record<"1K" | "2K" | "4K", number>;

/**
 * Nano Banana 2: the native API's own model (document 000), so its input is that dialect's.
 * Also served by kie (document 003, text to image only) and nanobanana (document 001, one
 * reference image at most, ten aspect ratios).
 */
export const nanoBanana2: ModelSpec<AivideoapiInput, ByResolution> = {
  id: "nano-banana-2",
  kind: "image",
  input: nanoBanana2Input,
  // Document 000: 16 / 24 / 36 credits at 1K / 2K / 4K.
  prices: { "1K": 16, "2K": 24, "4K": 36 },
  price: (input, prices) => prices[input.resolution],
  deadlineMs: 15 * 60_000,
  routes: [
    { dialect: "aivideoapi", upstreamModel: "nano-banana-2", translate: (input) => ({ ...input }) },
    {
      dialect: "kie",
      upstreamModel: "nano-banana-2-text-to-image",
      translate: (input) =>
        input.image_urls?.length
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
          num_images: 1,
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

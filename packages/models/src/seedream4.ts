import type { ModelSpec } from "@ripen/core";
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
} from "./fields";
import { type PerImagePrices, perImagePrice } from "./nano-banana";

const ratios = ["1:1", "3:4", "4:3", "9:16", "16:9"] as const;

export interface Seedream4Input {
  prompt: string;
  aspect_ratio: (typeof ratios)[number];
  output_format: ImageFormat;
  image_urls?: string[];
  num_images: number;
  quality: Quality;
}

/** SeeDream 4 (document 001 only): 4 credits per image, hd +2, one reference image at most. */
export const seedream4: ModelSpec<Seedream4Input, PerImagePrices> = {
  id: "seedream4",
  kind: "image",
  input: z.strictObject({
    prompt: promptText(20_000),
    aspect_ratio: oneOf(ratios).default("1:1"),
    output_format: oneOf(imageFormats).default("png"),
    image_urls: imageUrls(1, "seedream4").optional(),
    num_images: imageCount,
    quality,
  }),
  prices: { perImage: 4, hdPerImage: 2 },
  price: perImagePrice,
  deadlineMs: 15 * 60_000,
  routes: [
    {
      dialect: "nanobanana",
      upstreamModel: "seedream4",
      translate: (input) => ({
        prompt: input.prompt,
        mode: input.image_urls?.length ? "image" : "text",
        ...(input.image_urls?.length ? { image_url: input.image_urls[0] } : {}),
        aspect_ratio: input.aspect_ratio,
        num_images: input.num_images,
        quality: input.quality,
        output_format: jpegSpelling(input.output_format),
      }),
    },
  ],
};

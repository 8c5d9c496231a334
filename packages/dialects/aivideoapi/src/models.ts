import { httpUrl, oneOf, promptText } from "@ripen/core";
import { z } from "zod";

/** Documents 000 and 002: the aspect ratios both models accept. */
export const aspectRatios = [
  "1:1",
  "2:3",
  "3:2",
  "3:4",
  "4:3",
  "4:5",
  "5:4",
  "9:16",
  "16:9",
  "21:9",
  "1:4",
  "4:1",
  "1:8",
  "8:1",
  "auto",
] as const;
export type AspectRatio = (typeof aspectRatios)[number];

export const resolutions = ["1K", "2K", "4K"] as const;
export type Resolution = (typeof resolutions)[number];

export const outputFormats = ["jpg", "png"] as const;

/** The `input` object of nano-banana-2 (document 000): prompt, resolution, aspect ratio, format, up to 14 images. */
export const nanoBanana2Input = z.strictObject({
  prompt: promptText(20_000),
  resolution: oneOf(resolutions, " for nano-banana-2").default("1K"),
  aspect_ratio: oneOf(aspectRatios).default("auto"),
  output_format: oneOf(outputFormats).default("jpg"),
  image_urls: z
    .array(httpUrl(), { error: "must be an array of URLs" })
    .max(14, "accepts at most 14 URLs for nano-banana-2")
    .optional(),
});

/** nano-banana-2-lite (document 002): 1K only, up to 10 images, no output_format. */
export const nanoBanana2LiteInput = z.strictObject({
  prompt: promptText(20_000),
  resolution: oneOf(["1K"], " for nano-banana-2-lite").default("1K"),
  aspect_ratio: oneOf(aspectRatios).default("auto"),
  output_format: z.never({ error: "is not supported by nano-banana-2-lite" }).optional(),
  image_urls: z
    .array(httpUrl(), { error: "must be an array of URLs" })
    .max(10, "accepts at most 10 URLs for nano-banana-2-lite")
    .optional(),
});

/** The dialect's documented models and their input schemas. */
export const documentedModels = {
  "nano-banana-2": nanoBanana2Input,
  "nano-banana-2-lite": nanoBanana2LiteInput,
} as const;
export type AivideoapiModel = keyof typeof documentedModels;
export type AivideoapiInput = z.infer<typeof nanoBanana2Input>;

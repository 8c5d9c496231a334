import { httpUrl, oneOf, promptText } from "@ripen/core";
import { z } from "zod";

/** Document 003, "Input Parameters": the aspect ratios nano-banana-2-text-to-image accepts. */
export const aspectRatios = [
  "auto",
  "1:1",
  "1:4",
  "1:8",
  "2:3",
  "3:2",
  "3:4",
  "4:1",
  "4:3",
  "4:5",
  "5:4",
  "8:1",
  "9:16",
  "16:9",
  "21:9",
] as const;
export type AspectRatio = (typeof aspectRatios)[number];

export const resolutions = ["1K", "2K", "4K"] as const;
export type Resolution = (typeof resolutions)[number];

export const outputFormats = ["png", "jpg"] as const;
export type OutputFormat = (typeof outputFormats)[number];

/**
 * The `input` of nano-banana-2-text-to-image (document 003), defaults filled in. Strict: the
 * document lists exactly these four fields, and a text-to-image model has no `image_urls`.
 */
export const nanoBanana2TextToImageInput = z.strictObject({
  prompt: promptText(20_000),
  aspect_ratio: oneOf(aspectRatios).default("auto"),
  resolution: oneOf(resolutions).default("1K"),
  output_format: oneOf(outputFormats).default("png"),
});
export type NanoBanana2TextToImageInput = z.infer<typeof nanoBanana2TextToImageInput>;

/**
 * nano-banana-2-lite, which document 002 says is "served through the Kie jobs API": its fields
 * and limits are that document's (1K only, up to 10 image URLs, no output_format).
 */
export const nanoBanana2LiteInput = z.strictObject({
  prompt: promptText(20_000),
  aspect_ratio: oneOf(aspectRatios).default("auto"),
  resolution: oneOf(["1K"], " for nano-banana-2-lite").default("1K"),
  image_urls: z
    .array(httpUrl(), { error: "must be an array of URLs" })
    .max(10, "accepts at most 10 URLs for nano-banana-2-lite")
    .optional(),
});
export type NanoBanana2LiteInput = z.infer<typeof nanoBanana2LiteInput>;

/** The dialect's documented models (documents 003 and 002) and their input schemas. */
export const documentedModels = {
  "nano-banana-2-text-to-image": nanoBanana2TextToImageInput,
  "nano-banana-2-lite": nanoBanana2LiteInput,
} as const;
export type KieModel = keyof typeof documentedModels;
export type KieInput = NanoBanana2TextToImageInput | NanoBanana2LiteInput;

export const isKieModel = (model: string): model is KieModel =>
  Object.hasOwn(documentedModels, model);

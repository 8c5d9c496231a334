import { oneOf, promptText } from "@ripen/core";
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
 * The dialect's documented models and their input schemas. Document 002 says nano-banana-2-lite
 * is "served through the Kie jobs API", but shows it only on aivideoapi's endpoints under that
 * name; the Kie document (003) lists this one model, so this is all a Kie upstream is asked for.
 */
export const documentedModels = {
  "nano-banana-2-text-to-image": nanoBanana2TextToImageInput,
} as const;
export type KieModel = keyof typeof documentedModels;
export type KieInput = NanoBanana2TextToImageInput;

export const isKieModel = (model: string): model is KieModel =>
  Object.hasOwn(documentedModels, model);

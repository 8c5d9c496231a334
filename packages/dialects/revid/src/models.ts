import { httpUrl, invalidFromZod, ModelNotFound, oneOf, promptText } from "@ripen/core";
import { z } from "zod";

/**
 * Document 004's models and limits. The document lists one set of input fields ("prompt",
 * "image_input", "aspect_ratio", "resolution" — "only For nano-banana-pro" — and "output_format")
 * but its request examples show that the two google/* models take other names: the aspect ratio
 * in `image_size` and, for the edit model, the images in `image_urls`. Each model below takes
 * exactly the fields its example sends, with the document's limits and defaults; a field the
 * document names for another model is refused with a message pointing to the right one.
 */

export const revidModels = [
  "google/nano-banana",
  "google/nano-banana-edit",
  "nano-banana-pro",
] as const;
export type RevidModel = (typeof revidModels)[number];

/** "aspect_ratio … Options: 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9, auto". */
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
  "auto",
] as const;
export type AspectRatio = (typeof aspectRatios)[number];

export const resolutions = ["1K", "2K", "4K"] as const;
export type Resolution = (typeof resolutions)[number];

export const outputFormats = ["png", "jpg"] as const;
export type OutputFormat = (typeof outputFormats)[number];

/** "Max Length: 10000 characters". */
export const PROMPT_MAX_CHARS = 10_000;
/** "supports up to 8 images" (image_input); assumed to hold for image_urls too. */
export const MAX_IMAGES = 8;

const imageList = (field: string) =>
  z
    .array(httpUrl(), { error: "must be an array of image URLs" })
    .max(MAX_IMAGES, `accepts at most ${MAX_IMAGES} images (${field})`);

/** A field the document names for another model: refused, saying which field to use. */
const elsewhere = (message: string) => z.never({ error: message }).optional();

/**
 * google/nano-banana (text to image), as its request example: prompt, output_format and the
 * aspect ratio in `image_size`. The document gives `image_size` no option list or default; it
 * holds an aspect ratio ("1:1"), so it takes aspect_ratio's options and default.
 */
export const googleNanoBananaInput = z.strictObject({
  prompt: promptText(PROMPT_MAX_CHARS),
  output_format: oneOf(outputFormats).default("png"),
  image_size: oneOf(aspectRatios).default("1:1"),
  aspect_ratio: elsewhere(
    "is not supported by google/nano-banana; send the aspect ratio as image_size",
  ),
  resolution: elsewhere("is only supported by nano-banana-pro"),
  image_input: elsewhere("is not supported by google/nano-banana (text to image)"),
  image_urls: elsewhere("is not supported by google/nano-banana; use google/nano-banana-edit"),
});

/**
 * google/nano-banana-edit, as its request example: prompt, the images to edit in `image_urls`
 * (required: an edit needs an image; at most 8, image_input's documented limit), output_format
 * and `image_size`.
 */
export const googleNanoBananaEditInput = z.strictObject({
  prompt: promptText(PROMPT_MAX_CHARS),
  image_urls: imageList("image_urls").min(1, "must hold at least one image URL"),
  output_format: oneOf(outputFormats).default("png"),
  image_size: oneOf(aspectRatios).default("1:1"),
  aspect_ratio: elsewhere(
    "is not supported by google/nano-banana-edit; send the aspect ratio as image_size",
  ),
  resolution: elsewhere("is only supported by nano-banana-pro"),
  image_input: elsewhere(
    "is not supported by google/nano-banana-edit; send the images as image_urls",
  ),
});

/**
 * nano-banana-pro, as the document's field list and its example (and the `param` of the query
 * example, which shows every default filled in, `image_input: []` included).
 */
export const nanoBananaProInput = z.strictObject({
  prompt: promptText(PROMPT_MAX_CHARS),
  image_input: imageList("image_input").default([]),
  aspect_ratio: oneOf(aspectRatios).default("1:1"),
  resolution: oneOf(resolutions, " for nano-banana-pro").default("1K"),
  output_format: oneOf(outputFormats).default("png"),
  image_size: elsewhere(
    "is not supported by nano-banana-pro; send the aspect ratio as aspect_ratio",
  ),
  image_urls: elsewhere("is not supported by nano-banana-pro; send the images as image_input"),
});

/** The dialect's documented models and their input schemas (built once). */
export const documentedModels = {
  "google/nano-banana": googleNanoBananaInput,
  "google/nano-banana-edit": googleNanoBananaEditInput,
  "nano-banana-pro": nanoBananaProInput,
} as const satisfies Record<RevidModel, z.ZodType>;

export type GoogleNanoBananaInput = z.infer<typeof googleNanoBananaInput>;
export type GoogleNanoBananaEditInput = z.infer<typeof googleNanoBananaEditInput>;
export type NanoBananaProInput = z.infer<typeof nanoBananaProInput>;
export type RevidInput = GoogleNanoBananaInput | GoogleNanoBananaEditInput | NanoBananaProInput;

export function isRevidModel(model: string): model is RevidModel {
  return Object.hasOwn(documentedModels, model);
}

/**
 * Checks a create request's `input` against its model and fills in the documented defaults.
 * Throws ModelNotFound for a model the document does not list, InvalidRequest naming the field
 * (`input.…`) otherwise.
 */
export function parseModelInput(model: string, input: unknown): RevidInput {
  if (!isRevidModel(model)) throw new ModelNotFound(model);
  const parsed = documentedModels[model].safeParse(input, { reportInput: true });
  if (!parsed.success) throw invalidFromZod(parsed.error, "input");
  return parsed.data;
}

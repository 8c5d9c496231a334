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

/*
 * The model ids clients of the real Kie jobs API send, beyond documents 003 and 002. Their fields
 * are the Kie family's (document 004 shows `image_input`, `image_urls` and `image_size` on the
 * same endpoint shape). Ripen's kie door serves them; the sandbox, a simulator of document 003,
 * accepts only `documentedModels`.
 */

/** What clients send as `output_format`: Kie's own models spell JPEG both ways. */
export const clientOutputFormats = ["png", "jpg", "jpeg"] as const;
export type ClientOutputFormat = (typeof clientOutputFormats)[number];
const clientOutputFormat = oneOf(clientOutputFormats).default("png");

/**
 * Document 004's ratios (nano-banana-pro's `aspect_ratio`, nano-banana's `image_size`): document
 * 003's list without nano-banana-2's extreme ones.
 */
const extremeRatios: readonly string[] = ["1:4", "4:1", "1:8", "8:1"];
export const familyAspectRatios = aspectRatios.filter(
  (ratio) => !extremeRatios.includes(ratio),
) as unknown as readonly [AspectRatio, ...AspectRatio[]];

const imageList = (max: number, model: string) =>
  z
    .array(httpUrl(), { error: "must be an array of URLs" })
    .max(max, `accepts at most ${max} URLs for ${model}`);

/**
 * `nano-banana-2` as Kie's clients send it: reference images in `image_input` (empty means text
 * to image), up to 14 as document 000 allows the same model; `google_search` asks for search
 * grounding. `image_urls` is taken as the same list, for clients of document 000's spelling.
 */
export const nanoBanana2Input = z
  .strictObject({
    prompt: promptText(20_000),
    image_input: imageList(14, "nano-banana-2").optional(),
    image_urls: imageList(14, "nano-banana-2").optional(),
    aspect_ratio: oneOf(aspectRatios).default("auto"),
    resolution: oneOf(resolutions).default("1K"),
    output_format: clientOutputFormat,
    google_search: z.boolean({ error: "must be true or false" }).optional(),
  })
  .refine((input) => !(input.image_input?.length && input.image_urls?.length), {
    message: "must be left out when image_input is given: send the images in one list",
    path: ["image_urls"],
  });
export type NanoBanana2Input = z.infer<typeof nanoBanana2Input>;

/** `nano-banana-pro` (document 004): up to 8 images in `image_input`, 10,000-character prompts. */
export const nanoBananaProInput = z.strictObject({
  prompt: promptText(10_000),
  image_input: imageList(8, "nano-banana-pro").optional(),
  aspect_ratio: oneOf(familyAspectRatios).default("1:1"),
  resolution: oneOf(resolutions).default("1K"),
  output_format: clientOutputFormat,
});
export type NanoBananaProInput = z.infer<typeof nanoBananaProInput>;

/** `google/nano-banana` (document 004): text to image, its ratio named `image_size`. */
export const googleNanoBananaInput = z.strictObject({
  prompt: promptText(10_000),
  image_size: oneOf(familyAspectRatios).default("1:1"),
  output_format: clientOutputFormat,
});
export type GoogleNanoBananaInput = z.infer<typeof googleNanoBananaInput>;

/**
 * `google/nano-banana-edit` (document 004): one or more images in `image_urls`. Document 004
 * gives no maximum; 8, as its pro model.
 */
export const googleNanoBananaEditInput = z.strictObject({
  prompt: promptText(10_000),
  image_urls: imageList(8, "google/nano-banana-edit").min(1, "must hold at least one URL"),
  image_size: oneOf(familyAspectRatios).default("1:1"),
  output_format: clientOutputFormat,
});
export type GoogleNanoBananaEditInput = z.infer<typeof googleNanoBananaEditInput>;

/** The Kie jobs API's model ids its clients send beyond the documented ones, with their inputs. */
export const clientModels = {
  "nano-banana-2": nanoBanana2Input,
  "nano-banana-pro": nanoBananaProInput,
  "google/nano-banana": googleNanoBananaInput,
  "google/nano-banana-edit": googleNanoBananaEditInput,
} as const;
export type KieClientModel = keyof typeof clientModels;

export const isKieClientModel = (model: string): model is KieClientModel =>
  Object.hasOwn(clientModels, model);

import { httpUrl, oneOf, promptText, storableString } from "@ripen/core";
import { z } from "zod";

/** Input fields shared by Ripen's models, each built from the same rules. */

export const imageCount = z
  .number({ error: "must be a whole number from 1 to 4" })
  .int("must be a whole number from 1 to 4")
  .min(1, "must be a whole number from 1 to 4")
  .max(4, "must be a whole number from 1 to 4")
  .default(1);

export const qualities = ["standard", "hd"] as const;
export type Quality = (typeof qualities)[number];
export const quality = oneOf(qualities).default("standard");

export const imageFormats = ["png", "jpg"] as const;
export type ImageFormat = (typeof imageFormats)[number];

export const imageResolutions = ["1K", "2K", "4K"] as const;
export type ImageResolution = (typeof imageResolutions)[number];

export const imageUrls = (max: number, model: string) =>
  z
    .array(httpUrl(), { error: "must be an array of URLs" })
    .max(max, `accepts at most ${max} URLs for ${model}`);

export { httpUrl, oneOf, promptText };

/** `jpg` as Ripen and most documents spell it; document 001 says `jpeg`. */
export const jpegSpelling = (format: ImageFormat) => (format === "jpg" ? "jpeg" : "png");

/** The value when it is one of `allowed`, else null (the route cannot serve it). */
export function within<T extends string>(value: T, allowed: readonly string[]): T | null {
  return allowed.includes(value) ? value : null;
}

/** Optional free text of at most `max` characters that Postgres can store. */
export function storableText(max: number) {
  return storableString().refine((s) => [...s].length <= max, `must be at most ${max} characters`);
}

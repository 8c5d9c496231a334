import type { ModelSpec } from "@ripen/core";
import {
  documentedCost,
  videoModels as nanobananaVideoModels,
  type VideoModelSpec,
} from "@ripen/dialect-nanobanana";
import { z } from "zod";
import { httpUrl, oneOf, promptText, storableText } from "./fields";

/**
 * Document 001's "Video Models" table, as the nanobanana package encodes it: resolutions, aspect
 * ratios, durations and audio (optional, none, always) per model. Every model takes an image.
 */
export const videoModelLimits = nanobananaVideoModels;
export type VideoModelId = keyof typeof videoModelLimits;
type VideoModelLimits = VideoModelSpec;

export interface VideoInput {
  prompt: string;
  duration: number;
  resolution: string;
  aspect_ratio: string;
  generate_audio: boolean;
  image_url?: string;
  negative_prompt?: string;
}

/** Credits by `resolution/duration/audio|silent`, e.g. `720p/8/audio`. */
export type VideoPrices = Record<string, number>;

export const videoPriceKey = (
  input: Pick<VideoInput, "resolution" | "duration" | "generate_audio">,
) => `${input.resolution}/${input.duration}/${input.generate_audio ? "audio" : "silent"}`;

/**
 * The document's figures for every combination the model offers: veo-3.1-fast's table as printed,
 * the others as the nanobanana package prices them (its stated defaults where document 001 says
 * only "use calculate-cost").
 */
function documentedVideoPrices(id: VideoModelId, limits: VideoModelLimits): VideoPrices {
  const prices: VideoPrices = {};
  const audioChoices = limits.audio === "optional" ? [false, true] : [limits.audio === "always"];
  for (const resolution of limits.resolutions) {
    for (const duration of limits.durations) {
      for (const generate_audio of audioChoices) {
        const cost = documentedCost(id, { model_id: id, resolution, duration, generate_audio });
        if (cost === undefined)
          throw new Error(`no documented price for ${id} ${resolution} ${duration}s`);
        prices[videoPriceKey({ resolution, duration, generate_audio })] = cost;
      }
    }
  }
  return prices;
}

function videoInputSchema(id: string, limits: VideoModelLimits) {
  const audio =
    limits.audio === "optional"
      ? z.boolean({ error: "must be true or false" }).default(false)
      : limits.audio === "always"
        ? z
            .literal(true, { error: `cannot be turned off: ${id} always generates audio` })
            .default(true)
        : z.literal(false, { error: `is not supported: ${id} generates no audio` }).default(false);
  return z.strictObject({
    prompt: promptText(20_000),
    duration: z
      .number({ error: `must be one of ${limits.durations.join(", ")} (seconds)` })
      .refine((d) => (limits.durations as readonly number[]).includes(d), {
        error: `must be one of ${limits.durations.join(", ")} (seconds) for ${id}`,
      })
      // A refinement is invisible to JSON Schema: the allowed values are stated for it.
      .meta({ enum: [...limits.durations] })
      .default(limits.durations[0]),
    resolution: oneOf(limits.resolutions, ` for ${id}`).default(
      (limits.resolutions as readonly string[]).includes("720p") ? "720p" : limits.resolutions[0],
    ),
    aspect_ratio: oneOf(limits.aspectRatios, ` for ${id}`).default(limits.aspectRatios[0]),
    generate_audio: audio,
    image_url: httpUrl().optional(),
    negative_prompt: storableText(2_000).optional(),
  });
}

function videoModel(id: VideoModelId): ModelSpec<VideoInput, VideoPrices> {
  const limits: VideoModelLimits = videoModelLimits[id];
  return {
    id,
    kind: "video",
    input: videoInputSchema(id, limits) as unknown as z.ZodType<VideoInput>,
    prices: documentedVideoPrices(id, limits),
    price: (input, prices) => prices[videoPriceKey(input)] ?? Number.NaN,
    deadlineMs: 30 * 60_000,
    routes: [
      {
        dialect: "nanobanana",
        upstreamModel: id,
        translate: (input) => ({
          prompt: input.prompt,
          aspect_ratio: input.aspect_ratio,
          duration: input.duration,
          resolution: input.resolution,
          generate_audio: input.generate_audio,
          ...(input.image_url ? { image_url: input.image_url } : {}),
          ...(input.negative_prompt ? { negative_prompt: input.negative_prompt } : {}),
        }),
      },
    ],
  };
}

export const videoModels = Object.fromEntries(
  (Object.keys(videoModelLimits) as VideoModelId[]).map((id) => [id, videoModel(id)]),
) as Record<VideoModelId, ModelSpec<VideoInput, VideoPrices>>;

import type { DocumentedCost } from "@ripen/core";
import {
  type ImageCostInput,
  type ImageModel,
  imageCostInputs,
  isImageModel,
  isVideoModel,
  type VideoCostInput,
  type VideoModel,
  type VideoResolution,
  videoCostInputs,
} from "./models";

/*
 * What the Nano Banana upstream charges, in its credits (document 001, "Image Models" and
 * "Video Credits").
 *
 * ASSUMED (the document gives no figure, or two figures that disagree):
 * - Image prices follow the "Image Models" table. Its own calculate-cost example (nano-banana-pro,
 *   2 images, 2K → 16) disagrees with the table (6 per image, +14 only for 4K → 12); the table
 *   wins. The create example's `credits_used: 2` is likewise only illustrative.
 * - "+4 for 2K" / "+14 for 4K" and "hd +2" are per image, before multiplying by num_images.
 * - The veo-3.1-fast table is exact. The video create example (veo-3.1-fast, 720p, 8 s, audio →
 *   `credits_used: 15`, the table says 30) is only illustrative; the table wins.
 * - veo-3.1: twice the veo-3.1-fast table.
 * - Every other video model: credits per second by resolution, plus 1 credit per second with
 *   audio on a model whose audio is optional; an "Always on" model's rate includes its audio.
 *   Rates put 1 credit near $0.04, the scale the veo-3.1-fast table implies ($0.10/s at 720p
 *   silent = 2.5 credits/s), near each model's public list price:
 *     seedance-1.5-fast 720p 1, 1080p 2 (+1 audio)   seedance-1.5 720p 2, 1080p 4 (+1 audio)
 *     seedance-2.0 480p 2, 720p 3 (+1 audio)          wan-2.5 480p 1, 720p 2, 1080p 3 (no audio)
 *     sora-2 720p 3 (audio always on)                 sora-2-pro 720p 8, 1080p 12 (audio always)
 *     kling-o3-std 720p 2 (+1 audio)                  kling-o3-pro 720p 3 (+1 audio)
 *     grok-video 480p 1, 720p 2 (no audio)
 */

type DurationTable = Record<number, number>;
type AudioTable = { silent: DurationTable; audio: DurationTable };
type VideoPerSecondModel = Exclude<VideoModel, "veo-3.1-fast" | "veo-3.1">;

/**
 * A price list in the dialect's credits, plain nested numbers: the upstream's (`documentedPrices`)
 * and Ripen's nanobanana door (its own copy, configurable) share the shape and the functions
 * below. Every figure is an entry, so configuration can change any of them and add none.
 */
export interface NanobananaPrices {
  image: {
    /** Per image, by mode (nano-banana and nano-banana-2 differ, the others do not). */
    base: Record<ImageModel, { text: number; image: number }>;
    /** Per image, added for a resolution; empty for a model without the option. */
    resolution: Record<ImageModel, { "1K"?: number; "2K"?: number; "4K"?: number }>;
    /** Per image, added for `quality: "hd"`. */
    hd: number;
  };
  video: {
    /** VEO 3.1 Fast (default), credits per generation, by resolution, audio and seconds. */
    "veo-3.1-fast": Partial<Record<VideoResolution, AudioTable>>;
    /** veo-3.1: this many times veo-3.1-fast. */
    veo31Multiplier: number;
    /** Credits per second by resolution, plus `audioPerSecond` per second with audio. */
    perSecond: Record<
      VideoPerSecondModel,
      { resolution: Partial<Record<VideoResolution, number>>; audioPerSecond: number }
    >;
  };
}

const perSecond = (
  resolution: Partial<Record<VideoResolution, number>>,
  audioPerSecond: number,
) => ({ resolution, audioPerSecond });

/** Document 001's figures (and the assumptions above where it has none). */
export const documentedPrices: NanobananaPrices = deepFreeze({
  image: {
    base: {
      "nano-banana": { text: 1, image: 2 },
      "nano-banana-pro": { text: 6, image: 6 },
      "nano-banana-2": { text: 4, image: 8 },
      seedream4: { text: 4, image: 4 },
    },
    resolution: {
      "nano-banana": {},
      "nano-banana-pro": { "1K": 0, "2K": 0, "4K": 14 },
      "nano-banana-2": { "1K": 0, "2K": 4, "4K": 14 },
      seedream4: {},
    },
    hd: 2,
  },
  video: {
    "veo-3.1-fast": {
      "720p": { silent: { 4: 10, 6: 15, 8: 20 }, audio: { 4: 15, 6: 20, 8: 30 } },
      "1080p": { silent: { 4: 15, 6: 20, 8: 25 }, audio: { 4: 20, 6: 25, 8: 35 } },
    },
    veo31Multiplier: 2,
    perSecond: {
      "seedance-1.5-fast": perSecond({ "720p": 1, "1080p": 2 }, 1),
      "seedance-1.5": perSecond({ "720p": 2, "1080p": 4 }, 1),
      "seedance-2.0": perSecond({ "480p": 2, "720p": 3 }, 1),
      "wan-2.5": perSecond({ "480p": 1, "720p": 2, "1080p": 3 }, 0),
      "sora-2": perSecond({ "720p": 3 }, 0),
      "sora-2-pro": perSecond({ "720p": 8, "1080p": 12 }, 0),
      "kling-o3-std": perSecond({ "720p": 2 }, 1),
      "kling-o3-pro": perSecond({ "720p": 3 }, 1),
      "grok-video": perSecond({ "480p": 1, "720p": 2 }, 0),
    },
  },
});

/** A copy of the documented prices to change (a door's configurable list). */
export const copyOfDocumentedPrices = (): NanobananaPrices => structuredClone(documentedPrices);

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Total credits of an image request already checked against its model. */
export function imageCredits(
  model: ImageModel,
  input: Pick<ImageCostInput, "mode" | "resolution" | "quality" | "num_images">,
  prices: NanobananaPrices = documentedPrices,
): number {
  const base = prices.image.base[model][input.mode];
  const surcharges = prices.image.resolution[model];
  const resolutionExtra =
    input.resolution !== undefined && Object.hasOwn(surcharges, input.resolution)
      ? (surcharges[input.resolution] ?? 0)
      : 0;
  const hdExtra = input.quality === "hd" ? prices.image.hd : 0;
  return (base + resolutionExtra + hdExtra) * input.num_images;
}

/**
 * Total credits of a video request already checked against its model (which guarantees its
 * resolution and duration are offered); undefined if a table has no figure for it.
 */
export function videoCredits(
  model: VideoModel,
  input: Pick<VideoCostInput, "resolution" | "duration" | "generate_audio">,
  prices: NanobananaPrices = documentedPrices,
): number | undefined {
  const audio = input.generate_audio;
  if (model === "veo-3.1-fast" || model === "veo-3.1") {
    const table = prices.video["veo-3.1-fast"][input.resolution]?.[audio ? "audio" : "silent"];
    const fast = table && Object.hasOwn(table, input.duration) ? table[input.duration] : undefined;
    if (fast === undefined) return undefined;
    return model === "veo-3.1" ? fast * prices.video.veo31Multiplier : fast;
  }
  const rates = prices.video.perSecond[model];
  const rate = rates.resolution[input.resolution];
  if (rate === undefined) return undefined;
  return (rate + (audio ? rates.audioPerSecond : 0)) * input.duration;
}

/**
 * The price of a request in the dialect's fields (the generate body without `model`/`model_id`,
 * which `upstreamModel` names). The input is checked with the model's calculate-cost schema, so
 * defaults are the ones the upstream applies; undefined for an unknown model or an input the
 * model refuses.
 */
export function documentedCost(
  upstreamModel: string,
  input: Record<string, unknown>,
  prices: NanobananaPrices = documentedPrices,
): number | undefined {
  if (isImageModel(upstreamModel)) {
    const parsed = imageCostInputs[upstreamModel].safeParse(input);
    return parsed.success ? imageCredits(upstreamModel, parsed.data, prices) : undefined;
  }
  if (isVideoModel(upstreamModel)) {
    const parsed = videoCostInputs[upstreamModel].safeParse(input);
    return parsed.success ? videoCredits(upstreamModel, parsed.data, prices) : undefined;
  }
  return undefined;
}
documentedCost satisfies DocumentedCost;

import { InvalidRequest } from "@ripen/core";
import {
  type CostRequest,
  copyOfDocumentedPrices,
  costRequestOf,
  type ImageModel,
  type ImageRequest,
  imageCredits,
  imageModels,
  type NanobananaPrices,
  type VideoRequest,
  videoCredits,
  videoModelIds,
  videoModels,
} from "@ripen/dialect-nanobanana";

/**
 * What the nanobanana door charges, in Ripen credits: document 001's tables (the dialect's
 * `documentedPrices`) by default. Mutable: configuration (`RIPEN_DOOR_PRICES={"nanobanana": …}`)
 * overrides entries in place, and every create and calculate-cost reads it per request.
 */
export const nanobananaDoorPrices: NanobananaPrices = copyOfDocumentedPrices();

/**
 * The door's price of a request checked against its model: the one function both the creates
 * (the hold) and calculate-cost answer with, so the two cannot differ.
 */
export function nanobananaCredits(request: CostRequest): number {
  const credits =
    request.type === "image"
      ? imageCredits(request.model, request, nanobananaDoorPrices)
      : videoCredits(request.model_id, request, nanobananaDoorPrices);
  // Every offered option has a figure in the documented tables; configuration cannot remove one.
  if (credits === undefined) {
    throw new InvalidRequest("No price is set for this request; it cannot be served.");
  }
  return credits;
}

/**
 * A calculate-cost body priced as the endpoint prices it (the dialect router's own parsing, then
 * `nanobananaCredits`); throws the DomainErrors and WireErrors the endpoint answers with.
 */
export function priceNanobananaRequest(body: unknown): {
  type: "image" | "video";
  model: string;
  credits: number;
} {
  const request = costRequestOf(body);
  return {
    type: request.type,
    model: request.type === "image" ? request.model : request.model_id,
    credits: nanobananaCredits(request),
  };
}

/** A create as Ripen runs it: the Ripen model and its input in that model's native fields. */
export interface RipenCreate {
  model: string;
  input: Record<string, unknown>;
}

/** Ripen spells jpeg as most documents do. */
const ripenFormat = (format: ImageRequest["output_format"]) => (format === "jpeg" ? "jpg" : "png");

/**
 * The Ripen model serving each image model of the document, and the request in its fields. In
 * text mode a sent `image_url` is ignored, as the dialect reads it (the document's own example
 * sends one). nano-banana and seedream4 take no resolution (the table's "-").
 */
const imageCreates: Record<ImageModel, (request: ImageRequest, common: object) => RipenCreate> = {
  "nano-banana": (request, common) =>
    request.mode === "image"
      ? { model: "nano-banana-edit", input: { ...common, image_urls: [request.image_url] } }
      : { model: "nano-banana", input: { ...common } },
  "nano-banana-pro": (request, common) => ({
    model: "nano-banana-pro",
    input: { ...common, resolution: request.resolution ?? "1K", ...imagesOf(request) },
  }),
  "nano-banana-2": (request, common) => ({
    model: "nano-banana-2",
    input: { ...common, resolution: request.resolution ?? "1K", ...imagesOf(request) },
  }),
  seedream4: (request, common) => ({
    model: "seedream4",
    input: { ...common, ...imagesOf(request) },
  }),
};

const imagesOf = (request: ImageRequest) =>
  request.mode === "image" && request.image_url ? { image_urls: [request.image_url] } : {};

export function ripenImageCreate(request: ImageRequest): RipenCreate {
  const common = {
    prompt: request.prompt,
    aspect_ratio: request.aspect_ratio,
    output_format: ripenFormat(request.output_format),
    num_images: request.num_images,
    quality: request.quality,
  };
  return imageCreates[request.model](request, common);
}

/** Ripen's video models carry the document's ids and fields. */
export function ripenVideoCreate(request: VideoRequest): RipenCreate {
  return {
    model: request.model_id,
    input: {
      prompt: request.prompt,
      duration: request.duration,
      resolution: request.resolution,
      aspect_ratio: request.aspect_ratio,
      generate_audio: request.generate_audio,
      ...(request.image_url === undefined ? {} : { image_url: request.image_url }),
      ...(request.negative_prompt === undefined
        ? {}
        : { negative_prompt: request.negative_prompt }),
    },
  };
}

/** The image table's entries for one model and mode(s), per image. */
function imagePrices(model: ImageModel, modes: readonly ("text" | "image")[]) {
  const prices = nanobananaDoorPrices.image;
  const base = prices.base[model];
  return {
    per_image: Object.fromEntries(modes.map((mode) => [mode, base[mode]])),
    resolution_surcharge: structuredClone(prices.resolution[model]),
    hd_surcharge: prices.hd,
    total: "per-image credits × num_images",
    // Document 001's "Subscription: Required": this door's mark, not the model's everywhere.
    subscription_required: imageModels[model].subscriptionRequired,
  };
}

/** Every combination a video model offers, priced: `resolution/duration/audio|silent`. */
function videoPrices(model: VideoRequest["model_id"]) {
  const spec = videoModels[model];
  const audioChoices = spec.audio === "optional" ? [false, true] : [spec.audio === "always"];
  const table: Record<string, number> = {};
  for (const resolution of spec.resolutions) {
    for (const duration of spec.durations) {
      for (const generate_audio of audioChoices) {
        const credits = videoCredits(
          model,
          { resolution, duration, generate_audio },
          nanobananaDoorPrices,
        );
        if (credits !== undefined) {
          table[`${resolution}/${duration}/${generate_audio ? "audio" : "silent"}`] = credits;
        }
      }
    }
  }
  return table;
}

/**
 * The door's prices for a Ripen model, keyed by the document's model id serving it (for
 * `GET /v1/models`); undefined when the door does not serve it. nano-banana's text mode is
 * Ripen's nano-banana, its image mode Ripen's nano-banana-edit.
 */
export function nanobananaPricesOf(ripenModelId: string): object | undefined {
  switch (ripenModelId) {
    case "nano-banana":
      return { "nano-banana": imagePrices("nano-banana", ["text"]) };
    case "nano-banana-edit":
      return { "nano-banana": imagePrices("nano-banana", ["image"]) };
    case "nano-banana-pro":
    case "nano-banana-2":
    case "seedream4":
      return { [ripenModelId]: imagePrices(ripenModelId, ["text", "image"]) };
  }
  const video = videoModelIds.find((id) => id === ripenModelId);
  return video ? { [video]: videoPrices(video) } : undefined;
}

/** The models list's entries: the document's tables, the door's prices. */
export function nanobananaModelsList(defaults: { image: string; video: string }) {
  return {
    image_models: Object.entries(imageModels).map(([id, spec]) => ({
      id,
      name: spec.name,
      ...(id === defaults.image ? { is_default: true } : {}),
      resolutions: spec.resolutions,
      aspect_ratios: spec.aspectRatios,
      base_credits: structuredClone(nanobananaDoorPrices.image.base[id as ImageModel]),
      // Document 001's mark: this door refuses these models to an account without a subscription.
      subscription_required: spec.subscriptionRequired,
    })),
    video_models: videoModelIds.map((id) => ({
      id,
      name: videoModels[id].name,
      ...(id === defaults.video ? { is_default: true } : {}),
      resolutions: videoModels[id].resolutions,
      aspect_ratios: videoModels[id].aspectRatios,
      durations: videoModels[id].durations,
      audio: videoModels[id].audio,
      image_input: videoModels[id].imageInput,
    })),
  };
}

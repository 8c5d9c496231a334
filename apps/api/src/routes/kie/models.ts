import { type AnyModelSpec, InvalidRequest, ModelNotFound, parseInput } from "@ripen/core";
import {
  type ClientOutputFormat,
  type CreateTaskRequest,
  clientModelPrices,
  clientModels,
  documentedModels,
  documentedPrices,
  type KieClientModel,
  type KieModel,
  parseCreateTaskRequest,
} from "@ripen/dialect-kie";
import { getModel } from "@ripen/models";
import type { z } from "zod";

/** How the door serves one kie model id: the Ripen model and its input in that model's fields. */
interface ServedModel<I> {
  /** The kie input schema (the dialect's), defaults filled in. */
  input: z.ZodType<I>;
  ripenModel: string;
  toRipen(input: I): Record<string, unknown>;
}

const serve = <I>(served: ServedModel<I>) => served as ServedModel<unknown>;

/** Ripen spells JPEG `jpg`; Kie's own models also take `jpeg`. */
const jpg = (format: ClientOutputFormat) => (format === "jpeg" ? "jpg" : format);

/**
 * Every kie model id the door accepts, documented (003, 002) or sent by clients of the real Kie
 * jobs API, with its Ripen model. A Record over both id lists: an id without a mapping does not
 * compile. Reference images go to the Ripen model's `image_urls`; an empty list is text to image.
 * `google_search` (nano-banana-2) is accepted and echoed in `param` but not acted on: no upstream
 * Ripen routes to offers search grounding, and refusing it would break clients that always send it.
 */
const servedModels: Record<KieModel | KieClientModel, ServedModel<unknown>> = {
  "nano-banana-2-text-to-image": serve({
    input: documentedModels["nano-banana-2-text-to-image"],
    ripenModel: "nano-banana-2",
    toRipen: (input) => ({ ...input }),
  }),
  "nano-banana-2-lite": serve({
    input: documentedModels["nano-banana-2-lite"],
    ripenModel: "nano-banana-2-lite",
    // Document 002's fields are the Ripen model's own.
    toRipen: (input) => ({ ...input }),
  }),
  "nano-banana-2": serve({
    input: clientModels["nano-banana-2"],
    ripenModel: "nano-banana-2",
    toRipen: ({ image_input, image_urls, google_search: _ignored, output_format, ...rest }) => {
      const images = image_input?.length ? image_input : image_urls;
      return {
        ...rest,
        output_format: jpg(output_format),
        ...(images?.length ? { image_urls: images } : {}),
      };
    },
  }),
  "nano-banana-pro": serve({
    input: clientModels["nano-banana-pro"],
    ripenModel: "nano-banana-pro",
    toRipen: ({ image_input, output_format, ...rest }) => ({
      ...rest,
      output_format: jpg(output_format),
      ...(image_input?.length ? { image_urls: image_input } : {}),
    }),
  }),
  "google/nano-banana": serve({
    input: clientModels["google/nano-banana"],
    ripenModel: "nano-banana",
    toRipen: ({ prompt, image_size, output_format }) => ({
      prompt,
      aspect_ratio: image_size,
      output_format: jpg(output_format),
    }),
  }),
  "google/nano-banana-edit": serve({
    input: clientModels["google/nano-banana-edit"],
    ripenModel: "nano-banana-edit",
    toRipen: ({ prompt, image_urls, image_size, output_format }) => ({
      prompt,
      image_urls,
      aspect_ratio: image_size,
      output_format: jpg(output_format),
    }),
  }),
};

/**
 * The kie door's price list, by kie model id and resolution (models without a resolution field
 * price at 1K, their one size): the dialect's documented and assumed figures
 * (`@ripen/dialect-kie` prices.ts says where each comes from). A copy, mutable, so configuration
 * (`RIPEN_DOOR_PRICES.kie`) changes what the door charges without touching what the dialect
 * says a kie upstream bills.
 */
export const kieDoorPrices: Record<string, Record<string, number>> = structuredClone({
  ...documentedPrices,
  ...clientModelPrices,
}) as Record<string, Record<string, number>>;

/** A kie create as Ripen takes it: the Ripen model, its native input and the door's price. */
export interface KieCreate {
  /** The model id as the client sent it. */
  model: string;
  spec: AnyModelSpec;
  input: Record<string, unknown>;
  credits: number;
}

/** Checks a parsed createTask request against its model and prices it from `kieDoorPrices`. */
export function kieCreateOf(request: CreateTaskRequest): KieCreate {
  if (!Object.hasOwn(servedModels, request.model)) throw new ModelNotFound(request.model);
  const served = servedModels[request.model as KieModel | KieClientModel];
  const input = parseInput(served.input, request.input) as Record<string, unknown>;
  const resolution = typeof input.resolution === "string" ? input.resolution : "1K";
  const table = kieDoorPrices[request.model];
  const credits = table && Object.hasOwn(table, resolution) ? table[resolution] : undefined;
  if (credits === undefined || !Number.isInteger(credits) || credits < 0) {
    throw new InvalidRequest(`No price is defined for this input of ${request.model}.`);
  }
  const spec = getModel(served.ripenModel);
  // The create checks this again; checked here too so pricing refuses exactly what it refuses.
  const native = parseInput(spec.input, served.toRipen(input)) as Record<string, unknown>;
  return { model: request.model, spec, input: native, credits };
}

/**
 * The credits a createTask body costs at the kie door, by the very function its create charges
 * with; throws what that create would for a bad body (400, 404 model, 422 field). `model` is the
 * kie model id as sent.
 */
export function priceKieRequest(body: unknown): { model: string; credits: number } {
  const { model, credits } = kieCreateOf(parseCreateTaskRequest(body));
  return { model, credits };
}

/**
 * The door's prices for a Ripen model, by the kie model ids that reach it (e.g. nano-banana-2:
 * `nano-banana-2-text-to-image` and `nano-banana-2`); undefined when the door serves it under no id.
 */
export function kiePricesOf(
  ripenModelId: string,
): Record<string, Record<string, number>> | undefined {
  const names = Object.entries(servedModels)
    .filter(([, served]) => served.ripenModel === ripenModelId)
    .map(([name]) => name);
  if (names.length === 0) return undefined;
  return Object.fromEntries(names.map((name) => [name, { ...kieDoorPrices[name] }]));
}

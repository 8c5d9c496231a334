import type { DocumentedCost } from "@ripen/core";

// ASSUMED: document 003 gives no price for nano-banana-2-text-to-image. It is taken to cost what
// the same model (nano-banana-2) costs on document 000: 16 / 24 / 36 credits at 1K / 2K / 4K.

/** What a Kie upstream charges, in its credits, per model and resolution. */
export const documentedPrices: Record<string, Partial<Record<string, number>>> = {
  // not documented: assumed (see ASSUMED above).
  "nano-banana-2-text-to-image": { "1K": 16, "2K": 24, "4K": 36 },
  // Document 002: 10 credits.
  "nano-banana-2-lite": { "1K": 10 },
};

/** The price of a request in the dialect's fields (resolution defaults to 1K, as documented). */
export const documentedCost: DocumentedCost = (model, input) => {
  if (!Object.hasOwn(documentedPrices, model)) return undefined;
  const byResolution = documentedPrices[model]!;
  const resolution = typeof input.resolution === "string" ? input.resolution : "1K";
  return Object.hasOwn(byResolution, resolution) ? byResolution[resolution] : undefined;
};

/*
 * ASSUMED: the model ids of `clientModels` have no price in document 003 either. Each is priced
 * as the same model is on another document:
 * - nano-banana-2: document 000's 16 / 24 / 36 at 1K / 2K / 4K (as text-to-image above);
 * - nano-banana-pro: document 004's 25 at 1K and 2K, 35 at 4K;
 * - google/nano-banana and google/nano-banana-edit: document 004's 8. They take no resolution
 *   (one output size), so their one price sits under 1K, where `documentedCost`'s default reads.
 * Ripen's kie door charges these (its price list, configurable); no upstream bills them.
 */
export const clientModelPrices: Record<string, Partial<Record<string, number>>> = {
  "nano-banana-2": { "1K": 16, "2K": 24, "4K": 36 },
  "nano-banana-pro": { "1K": 25, "2K": 25, "4K": 35 },
  "google/nano-banana": { "1K": 8 },
  "google/nano-banana-edit": { "1K": 8 },
};

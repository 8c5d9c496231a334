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

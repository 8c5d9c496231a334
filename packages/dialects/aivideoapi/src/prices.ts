import type { DocumentedCost } from "@ripen/core";

/**
 * What the aivideoapi upstream charges, in its credits, as documents 000 and 002 list it: per
 * model and resolution (1 credit = $0.005: 16 credits are $0.08).
 */
export const documentedPrices: Record<string, Partial<Record<string, number>>> = {
  "nano-banana-2": { "1K": 16, "2K": 24, "4K": 36 },
  "nano-banana-2-lite": { "1K": 10 },
};

/** The documented price of a request in the dialect's fields (resolution defaults to 1K). */
export const documentedCost: DocumentedCost = (model, input) => {
  if (!Object.hasOwn(documentedPrices, model)) return undefined;
  const byResolution = documentedPrices[model]!;
  const resolution = typeof input.resolution === "string" ? input.resolution : "1K";
  return Object.hasOwn(byResolution, resolution) ? byResolution[resolution] : undefined;
};

import type { DocumentedCost } from "@ripen/core";

// ASSUMED: nothing. Document 004 gives a figure for every model it lists:
//   google/nano-banana 8, google/nano-banana-edit 8 (~$0.02),
//   nano-banana-pro 25 at 1K and 2K (~$0.09), 35 at 4K (~$0.12).
// A resolution left out is the documented default, 1K.

/** What the revid upstream charges, in its credits, as document 004 lists it. */
export const documentedPrices = {
  "google/nano-banana": { "1K": 8 },
  "google/nano-banana-edit": { "1K": 8 },
  "nano-banana-pro": { "1K": 25, "2K": 25, "4K": 35 },
} as const satisfies Record<string, Partial<Record<string, number>>>;

/** Models without a resolution option are priced under this key. */
const FLAT = "1K";

/**
 * The documented price of a request in the dialect's fields; undefined for a model or a
 * resolution the document does not price. Only nano-banana-pro reads `resolution`.
 */
export const documentedCost: DocumentedCost = (model, input) => {
  if (!Object.hasOwn(documentedPrices, model)) return undefined;
  const byResolution: Partial<Record<string, number>> =
    documentedPrices[model as keyof typeof documentedPrices];
  if (model !== "nano-banana-pro") return byResolution[FLAT];
  const resolution = input.resolution ?? "1K";
  return typeof resolution === "string" && Object.hasOwn(byResolution, resolution)
    ? byResolution[resolution]
    : undefined;
};

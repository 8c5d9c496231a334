import type { DocumentedCost } from "@ripen/core";
import type { Resolution } from "./models";

// ASSUMED: nothing. Document 004 gives a figure for every model it lists:
//   google/nano-banana 8, google/nano-banana-edit 8 (~$0.02),
//   nano-banana-pro 25 at 1K and 2K (~$0.09), 35 at 4K (~$0.12).
// A resolution left out is the documented default, 1K.

/**
 * A price list in revid credits: a flat price for the models without a resolution option, one
 * per resolution for nano-banana-pro. The upstream's (`documentedPrices`) and Ripen's revid door
 * (its own copy, configurable) share the shape.
 */
export interface RevidPrices {
  "google/nano-banana": number;
  "google/nano-banana-edit": number;
  "nano-banana-pro": Record<Resolution, number>;
}

/** What the revid upstream charges, in its credits, as document 004 lists it. */
export const documentedPrices: Readonly<RevidPrices> = Object.freeze({
  "google/nano-banana": 8,
  "google/nano-banana-edit": 8,
  "nano-banana-pro": Object.freeze({ "1K": 25, "2K": 25, "4K": 35 }),
});

/**
 * The price of a request in the dialect's fields under `prices` (the document's by default);
 * undefined for a model or a resolution the list does not price. Only nano-banana-pro reads
 * `resolution`.
 */
export function documentedCost(
  model: string,
  input: Record<string, unknown>,
  prices: Readonly<RevidPrices> = documentedPrices,
): number | undefined {
  if (!Object.hasOwn(prices, model)) return undefined;
  const entry: unknown = prices[model as keyof RevidPrices];
  if (typeof entry === "number") return entry;
  if (typeof entry !== "object" || entry === null || model !== "nano-banana-pro") return undefined;
  const resolution = input.resolution ?? "1K";
  if (typeof resolution !== "string" || !Object.hasOwn(entry, resolution)) return undefined;
  const price: unknown = (entry as Record<string, unknown>)[resolution];
  return typeof price === "number" ? price : undefined;
}
documentedCost satisfies DocumentedCost;

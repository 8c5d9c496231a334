/**
 * What the aivideoapi upstream charges, in its credits, as documents 000 and 002 list it: per
 * model and resolution. Ripen records this on each attempt as the upstream cost, apart from the
 * price it charges its own client.
 */
export const documentedPrices: Record<string, Partial<Record<string, number>>> = {
  "nano-banana-2": { "1K": 16, "2K": 24, "4K": 36 },
  "nano-banana-2-lite": { "1K": 10 },
};

/** The documented price of a request, or undefined for a model or resolution not listed. */
export function documentedPrice(model: string, resolution: string): number | undefined {
  if (!Object.hasOwn(documentedPrices, model)) return undefined;
  const byResolution = documentedPrices[model]!;
  return Object.hasOwn(byResolution, resolution) ? byResolution[resolution] : undefined;
}

import { DomainError, InvalidRequest, ModelNotFound } from "@ripen/core";
import type { DoorName } from "@ripen/db";
import * as kie from "@ripen/dialect-kie";
import * as nanobanana from "@ripen/dialect-nanobanana";
import * as revid from "@ripen/dialect-revid";
import { applyPriceOverrides } from "@ripen/models";
import { kieDoorPrices, kiePricesOf, priceKieRequest } from "../routes/kie";
import {
  nanobananaDoorPrices,
  nanobananaPricesOf,
  priceNanobananaRequest,
} from "../routes/nanobanana";
import { priceRevidRequest, revidDoorPrices, revidPricesOf } from "../routes/revid";

/** A door's price for one of its create bodies, in Ripen credits, and the model it names. */
export interface DoorQuote {
  model: string;
  credits: number;
  [field: string]: unknown;
}

/** What a door with its own price list offers `/v1/cost` and `/v1/models`. */
export interface DoorPricing {
  /** Prices the door's create body (nanobanana: a calculate-cost body, with `type`). */
  price(body: unknown): DoorQuote;
  /** The door's price table for a Ripen model, or undefined when the door does not serve it. */
  pricesOf(ripenModelId: string): unknown;
  /**
   * How the door's own errors read natively: `null` for an error that is not the door's (ours,
   * a 500), else whether it names an unknown model (404) or another bad field (400).
   */
  refusalOf(error: unknown): "unknown_model" | "invalid" | null;
}

export const pricedDoors = ["nanobanana", "kie", "revid"] as const satisfies readonly DoorName[];
export type PricedDoor = (typeof pricedDoors)[number];

/**
 * Each door's pricing, from its module (`routes/{door}`): the functions its create and its
 * calculate-cost (nanobanana) charge with. A door added to `pricedDoors` must be listed here.
 */
export const doorPricing: Readonly<Record<PricedDoor, DoorPricing>> = Object.freeze({
  nanobanana: {
    price: priceNanobananaRequest,
    pricesOf: nanobananaPricesOf,
    refusalOf: (error) =>
      error instanceof nanobanana.WireError
        ? error.code === "INVALID_MODEL"
          ? "unknown_model"
          : "invalid"
        : null,
  },
  // Kie's and revid's unknown models are core's ModelNotFound; their WireErrors are bad input.
  kie: {
    price: priceKieRequest,
    pricesOf: kiePricesOf,
    refusalOf: (error) => (error instanceof kie.WireError ? "invalid" : null),
  },
  revid: {
    price: priceRevidRequest,
    pricesOf: revidPricesOf,
    refusalOf: (error) => (error instanceof revid.WireError ? "invalid" : null),
  },
});

/**
 * Applies `RIPEN_DOOR_PRICES` (JSON `{door: partial price list}`, each list in its door's own
 * shape) over the documents' figures; throws naming the problem, changing nothing.
 */
export function configureDoorPrices(json: string | undefined): void {
  applyPriceOverrides(
    { nanobanana: nanobananaDoorPrices, kie: kieDoorPrices, revid: revidDoorPrices },
    json,
    "RIPEN_DOOR_PRICES",
    "door",
  );
}

/**
 * A door's quote, its validation errors in the native vocabulary: each door throws its own
 * WireError class, which the native error renderer does not know (it would read as a 500).
 */
export function priceThroughDoor(pricing: DoorPricing, body: unknown): DoorQuote {
  try {
    return pricing.price(body);
  } catch (error) {
    if (error instanceof DomainError) throw error;
    const refusal = pricing.refusalOf(error);
    if (refusal === null) throw error;
    const message = (error as Error).message;
    if (refusal === "unknown_model") throw new ModelNotFound(modelNameOf(body) ?? message);
    throw new InvalidRequest(message, fieldOf(error as Error));
  }
}

const modelNameOf = (body: unknown): string | undefined => {
  if (typeof body !== "object" || body === null) return undefined;
  const fields = body as Record<string, unknown>;
  const name = fields.model ?? fields.model_id;
  return typeof name === "string" ? name.slice(0, 100) : undefined;
};

const fieldOf = (error: Error): string | undefined => {
  const field = (error as { field?: unknown }).field;
  return typeof field === "string" ? field : undefined;
};

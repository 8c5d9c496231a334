import { afterEach, describe, expect, it } from "vitest";
import { configureDoorPrices, doorPricing } from "./doors/pricing";
import { kieDoorPrices } from "./routes/kie";
import { nanobananaDoorPrices } from "./routes/nanobanana";
import { revidDoorPrices } from "./routes/revid";

// RIPEN_DOOR_PRICES: each door's list, changed by configuration, is what its quote (and so its
// create, which charges with the same function) reads.

const defaults = structuredClone({
  nanobanana: nanobananaDoorPrices,
  kie: kieDoorPrices,
  revid: revidDoorPrices,
});
afterEach(() => {
  Object.assign(nanobananaDoorPrices, structuredClone(defaults.nanobanana));
  Object.assign(kieDoorPrices, structuredClone(defaults.kie));
  Object.assign(revidDoorPrices, structuredClone(defaults.revid));
});

const kie4K = { model: "nano-banana-2", input: { prompt: "p", resolution: "4K" } };
const revidPlain = { model: "google/nano-banana", input: { prompt: "p" } };

describe("RIPEN_DOOR_PRICES", () => {
  it("changes what a door charges, and only that door", () => {
    expect(doorPricing.kie.price(kie4K).credits).toBe(36);
    expect(doorPricing.revid.price(revidPlain).credits).toBe(8);
    configureDoorPrices('{"kie":{"nano-banana-2":{"4K":40}},"revid":{"google/nano-banana":9}}');
    expect(doorPricing.kie.price(kie4K).credits).toBe(40);
    expect(doorPricing.revid.price(revidPlain).credits).toBe(9);
    // The same model at another door keeps its own list.
    expect(
      doorPricing.revid.price({
        model: "nano-banana-pro",
        input: { prompt: "p", resolution: "4K" },
      }).credits,
    ).toBe(35);
  });

  it("refuses a typo or a bad figure, naming it, and then changes nothing", () => {
    for (const [json, message] of [
      ['{"nativ":{}}', "RIPEN_DOOR_PRICES: unknown door 'nativ'"],
      ['{"kie":{"nope":{"4K":1}}}', "RIPEN_DOOR_PRICES.kie: no price 'nope'"],
      [
        '{"revid":{"google/nano-banana":9,"google/nano-banana-edit":-1}}',
        "RIPEN_DOOR_PRICES.revid.google/nano-banana-edit must be a whole number of credits ≥ 0",
      ],
      ["{", "RIPEN_DOOR_PRICES is not valid JSON"],
    ] as const) {
      expect(() => configureDoorPrices(json)).toThrow(message);
    }
    expect(doorPricing.revid.price(revidPlain).credits).toBe(8);
  });
});

import { tasks } from "@ripen/db";
import {
  aspectRatios,
  CREATE_PATH,
  documentedPrices,
  outputFormats,
  resolutions,
  toWireError,
} from "@ripen/dialect-revid";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { priceRevidRequest, revidDoorPrices, revidPricesOf } from "./routes/revid";

let stack: TestStack;
let key: string;

// Prices are settled at create: no worker, so every task stays queued with its hold open.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ apiKey: key } = await stack.createAccount(100_000_000));
});
afterAll(() => stack?.close());
afterEach(() => {
  Object.assign(revidDoorPrices, structuredClone(documentedPrices));
});

async function create(body: unknown) {
  const response = await fetch(`${stack.apiUrl}${CREATE_PATH}`, {
    method: "POST",
    headers: { "x-api-key": key },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as any };
}

async function heldFor(taskId: string) {
  const [row] = await stack.db.db.select().from(tasks).where(eq(tasks.id, taskId));
  return { price: row!.price, model: row!.doorRequest?.model };
}

/** Each value, and the field left out (the documented default applies). */
const orOmitted = <T>(values: readonly T[]) => [...values, undefined];
const defined = (input: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
const images = (n: number) => Array.from({ length: n }, (_, i) => `https://a.example/${i}.png`);

/** Every documented model × every option its input takes (and each left out). */
function everyCombination(): Record<string, unknown>[] {
  const bodies: Record<string, unknown>[] = [];
  for (const output_format of orOmitted(outputFormats)) {
    for (const ratio of orOmitted(aspectRatios)) {
      bodies.push({
        model: "google/nano-banana",
        input: defined({ prompt: "a", output_format, image_size: ratio }),
      });
      for (const count of [1, 8]) {
        bodies.push({
          model: "google/nano-banana-edit",
          input: defined({
            prompt: "a",
            image_urls: images(count),
            output_format,
            image_size: ratio,
          }),
        });
      }
      for (const resolution of orOmitted(resolutions)) {
        for (const image_input of orOmitted([[], images(1), images(8)])) {
          bodies.push({
            model: "nano-banana-pro",
            input: defined({
              prompt: "a",
              aspect_ratio: ratio,
              resolution,
              output_format,
              image_input,
            }),
          });
        }
      }
    }
  }
  // Half of them with a callBackUrl: it changes nothing in the price.
  return bodies.map((body, i) =>
    i % 2 ? { ...body, callBackUrl: "https://client.example/hook" } : body,
  );
}

describe("priceRevidRequest is what create holds", () => {
  it("for every model × option combination", async () => {
    const bodies = everyCombination();
    expect(bodies.length).toBeGreaterThan(600);
    const seenPrices = new Set<number>();
    for (const body of bodies) {
      const priced = priceRevidRequest(body);
      const created = await create(body);
      expect(created.status, JSON.stringify(created.json)).toBe(200);
      const held = await heldFor(created.json.data.taskId);
      expect({ body, ...priced }).toEqual({ body, model: held.model, credits: held.price });
      seenPrices.add(priced.credits);
    }
    expect([...seenPrices].sort((a, b) => a - b)).toEqual([8, 25, 35]);
  }, 120_000);

  it("follows the configured prices", async () => {
    revidDoorPrices["nano-banana-pro"]["4K"] = 50;
    revidDoorPrices["google/nano-banana"] = 3;
    for (const [body, credits] of [
      [{ model: "nano-banana-pro", input: { prompt: "a", resolution: "4K" } }, 50],
      [{ model: "nano-banana-pro", input: { prompt: "a", resolution: "2K" } }, 25],
      [{ model: "google/nano-banana", input: { prompt: "a" } }, 3],
    ] as const) {
      expect(priceRevidRequest(body).credits).toBe(credits);
      const created = await create(body);
      expect((await heldFor(created.json.data.taskId)).price).toBe(credits);
    }
    // The upstream's cost table is the document's still.
    expect(documentedPrices["nano-banana-pro"]["4K"]).toBe(35);
  });

  it("refuses what create refuses, with the same code and message", async () => {
    const refused: unknown[] = [
      null,
      [],
      { input: { prompt: "a" } },
      { model: "nano-banana-pro", input: { prompt: "a" }, extra: 1 },
      { model: "nano-banana-pro", input: { prompt: "a" }, callBackUrl: "nope" },
      { model: "google/veo3", input: { prompt: "a" } },
      { model: "__proto__", input: { prompt: "a" } },
      { model: "nano-banana-pro", input: { prompt: "a", resolution: "8K" } },
      { model: "nano-banana-pro", input: {} },
      { model: "google/nano-banana-edit", input: { prompt: "a" } },
      { model: "google/nano-banana", input: { prompt: "a", image_input: [] } },
    ];
    for (const body of refused) {
      let thrown: unknown;
      expect(() => {
        try {
          priceRevidRequest(body);
        } catch (error) {
          thrown = error;
          throw error;
        }
      }).toThrow();
      const rendered = toWireError(thrown);
      expect(rendered.unexpected).toBe(false);
      const created = await create(body);
      expect({ body, status: created.status, json: created.json }).toEqual({
        body,
        status: rendered.status,
        json: rendered.body,
      });
    }
  });
});

describe("revidPricesOf", () => {
  it("gives the door's prices for the Ripen models it serves, by the door's model name", () => {
    expect(revidPricesOf("nano-banana")).toEqual({ "google/nano-banana": 8 });
    expect(revidPricesOf("nano-banana-edit")).toEqual({ "google/nano-banana-edit": 8 });
    expect(revidPricesOf("nano-banana-pro")).toEqual({
      "nano-banana-pro": { "1K": 25, "2K": 25, "4K": 35 },
    });
    for (const id of ["nano-banana-2", "seedream4", "veo-3.1", "__proto__", ""]) {
      expect(revidPricesOf(id)).toBeUndefined();
    }
  });

  it("reads the configured prices, and its answer cannot change them", () => {
    revidDoorPrices["nano-banana-pro"]["1K"] = 30;
    const prices = revidPricesOf("nano-banana-pro") as Record<string, Record<string, number>>;
    expect(prices["nano-banana-pro"]!["1K"]).toBe(30);
    prices["nano-banana-pro"]!["1K"] = 0;
    expect(revidDoorPrices["nano-banana-pro"]["1K"]).toBe(30);
  });
});

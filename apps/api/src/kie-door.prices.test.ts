import { ledgerEntries } from "@ripen/db";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kieDoorPrices, kiePricesOf, priceKieRequest } from "./routes/kie";

let stack: TestStack;
let key: string;

// What a create holds is what is checked: no worker, so every hold stays open.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ apiKey: key } = await stack.createAccount(10_000_000));
});
afterAll(() => stack?.close());

/** Every combination of the options that could change a price, per kie model id. */
function combinations(): Array<{ model: string; input: Record<string, unknown> }> {
  const images = (n: number) => Array.from({ length: n }, (_, i) => `https://example.com/${i}.png`);
  const product = (options: Record<string, unknown[]>) =>
    Object.entries(options).reduce<Record<string, unknown>[]>(
      (rows, [field, values]) =>
        rows.flatMap((row) =>
          values.map((value) => (value === undefined ? row : { ...row, [field]: value })),
        ),
      [{ prompt: "a price check" }],
    );
  const resolution = [undefined, "1K", "2K", "4K"];
  const bodies = (model: string, options: Record<string, unknown[]>) =>
    product(options).map((input) => ({ model, input }));
  return [
    ...bodies("nano-banana-2-text-to-image", {
      resolution,
      output_format: [undefined, "png", "jpg"],
      aspect_ratio: [undefined, "auto", "21:9"],
    }),
    ...bodies("nano-banana-2", {
      resolution,
      output_format: [undefined, "png", "jpg", "jpeg"],
      image_input: [undefined, [], images(14)],
      google_search: [undefined, true, false],
    }),
    ...bodies("nano-banana-2", { resolution, image_urls: [images(1)] }),
    ...bodies("nano-banana-2-lite", {
      resolution: [undefined, "1K"],
      image_urls: [undefined, images(10)],
    }),
    ...bodies("nano-banana-pro", {
      resolution,
      output_format: [undefined, "jpeg"],
      image_input: [undefined, [], images(8)],
      aspect_ratio: [undefined, "auto", "9:16"],
    }),
    ...bodies("google/nano-banana", {
      image_size: [undefined, "auto", "3:4"],
      output_format: [undefined, "png", "jpg", "jpeg"],
    }),
    ...bodies("google/nano-banana-edit", {
      image_urls: [images(1), images(8)],
      image_size: [undefined, "16:9"],
      output_format: [undefined, "jpeg"],
    }),
  ];
}

async function heldFor(taskId: string): Promise<number> {
  const [hold] = await stack.db.db
    .select({ amount: ledgerEntries.amount })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.taskId, taskId), eq(ledgerEntries.kind, "hold")));
  return hold!.amount;
}

describe("priceKieRequest", () => {
  it("quotes exactly what createTask holds, for every model and option combination", async () => {
    const cases = combinations();
    expect(cases.length).toBeGreaterThan(200);
    for (const body of cases) {
      const quote = priceKieRequest(body);
      const res = await stack.request("POST", "/api/v1/jobs/createTask", { key, body });
      expect(res.status, JSON.stringify({ body, answer: res.body })).toBe(200);
      expect(quote.model).toBe(body.model);
      expect(await heldFor(res.body.data.taskId), JSON.stringify(body)).toBe(quote.credits);
    }
  });

  it("throws for a body createTask refuses, as createTask does", async () => {
    for (const body of [
      "text",
      { model: "nano-banana-9", input: { prompt: "x" } },
      {
        model: "nano-banana-2",
        input: { prompt: "x", image_input: Array(15).fill("https://a.b/c") },
      },
      { model: "google/nano-banana", input: { prompt: "x", resolution: "4K" } },
    ]) {
      const thrown = (() => {
        try {
          priceKieRequest(body);
        } catch (error) {
          return error as Error;
        }
        throw new Error(`priced ${JSON.stringify(body)}`);
      })();
      const res = await stack.request("POST", "/api/v1/jobs/createTask", { key, body });
      expect(res.status).not.toBe(200);
      expect(res.body.msg).toBe(thrown.message);
    }
  });

  it("reads the door's price list as configured", async () => {
    const body = { model: "google/nano-banana", input: { prompt: "configured" } };
    expect(priceKieRequest(body).credits).toBe(8);
    const table = kieDoorPrices["google/nano-banana"]!;
    table["1K"] = 11;
    try {
      expect(priceKieRequest(body).credits).toBe(11);
      const res = await stack.request("POST", "/api/v1/jobs/createTask", { key, body });
      expect(await heldFor(res.body.data.taskId)).toBe(11);
    } finally {
      table["1K"] = 8;
    }
  });
});

describe("kiePricesOf", () => {
  it("gives the door's prices by the kie ids that reach each Ripen model", () => {
    expect(kiePricesOf("nano-banana-2")).toEqual({
      "nano-banana-2-text-to-image": { "1K": 16, "2K": 24, "4K": 36 },
      "nano-banana-2": { "1K": 16, "2K": 24, "4K": 36 },
    });
    expect(kiePricesOf("nano-banana-2-lite")).toEqual({ "nano-banana-2-lite": { "1K": 10 } });
    expect(kiePricesOf("nano-banana-pro")).toEqual({
      "nano-banana-pro": { "1K": 25, "2K": 25, "4K": 35 },
    });
    expect(kiePricesOf("nano-banana")).toEqual({ "google/nano-banana": { "1K": 8 } });
    expect(kiePricesOf("nano-banana-edit")).toEqual({ "google/nano-banana-edit": { "1K": 8 } });
    expect(kiePricesOf("seedream4")).toBeUndefined();
    expect(kiePricesOf("__proto__")).toBeUndefined();
  });
});

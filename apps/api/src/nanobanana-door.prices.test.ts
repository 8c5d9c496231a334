import { createPlan, getCredits, startSubscription } from "@ripen/core";
import { imageModels, videoModels } from "@ripen/dialect-nanobanana";
import { applyPriceOverrides } from "@ripen/models";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  nanobananaDoorPrices,
  nanobananaPricesOf,
  priceNanobananaRequest,
} from "./routes/nanobanana";

// calculate-cost and the creates are one function: for every combination the door accepts, the
// credits calculate-cost names are the credits a create with the same fields holds. The worker
// is off, so every hold stays open and the account's held credits grow by exactly the price.

let stack: TestStack;
let apiKey: string;
let accountId: string;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ apiKey, accountId } = await stack.createAccount(1_000_000));
  // nano-banana-2 and seedream4 are "Subscription: Required" on this door: a plan granting
  // nothing, so the held credits below are the prices alone.
  const plan = await createPlan(stack.db.db, { name: "price-tests", monthlyCredits: 0 });
  await startSubscription(stack.db.db, {
    accountId,
    plan: plan.id,
    months: 12,
    now: stack.clock.now(),
  });
});
afterAll(() => stack?.close());

async function post(path: string, body: unknown) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** calculate-cost's figure, and what the matching create held (the account's and the task's). */
async function quoteAndHold(type: "image" | "video", fields: Record<string, unknown>) {
  const quote = await post("/api/v1/account/calculate-cost", { type, ...fields });
  expect(quote.status, JSON.stringify(fields)).toBe(200);
  const before = await getCredits(stack.db.db, accountId);
  const created = await post(`/api/v1/${type}s/generate`, { prompt: "priced", ...fields });
  expect(created.status, JSON.stringify({ fields, body: created.body })).toBe(200);
  const after = await getCredits(stack.db.db, accountId);
  const row = await stack.db.pool.query("select price, door from tasks where id = $1", [
    created.body.data.task_id,
  ]);
  return {
    quoted: quote.body.data.credits_needed as number,
    used: created.body.data.credits_used as number,
    held: after.held - before.held,
    taskPrice: row.rows[0].price as number,
    door: row.rows[0].door as string,
  };
}

/** Document 001, "Image Models", as printed: base by mode, +resolution surcharges, per image. */
const documentImage = {
  "nano-banana": { text: 1, image: 2, "2K": 0, "4K": 0 },
  "nano-banana-pro": { text: 6, image: 6, "2K": 0, "4K": 14 },
  "nano-banana-2": { text: 4, image: 8, "2K": 4, "4K": 14 },
  seedream4: { text: 4, image: 4, "2K": 0, "4K": 0 },
} as const;

/** "VEO 3.1 Fast (default) — Credits per generation", every cell. */
const documentVeoFast: Record<string, Record<number, number>> = {
  "720p/silent": { 4: 10, 6: 15, 8: 20 },
  "720p/audio": { 4: 15, 6: 20, 8: 30 },
  "1080p/silent": { 4: 15, 6: 20, 8: 25 },
  "1080p/audio": { 4: 20, 6: 25, 8: 35 },
};

describe("calculate-cost == the create's hold, for everything the door accepts", () => {
  it("every image model × mode × resolution × quality × num_images", async () => {
    let checked = 0;
    for (const [model, spec] of Object.entries(imageModels)) {
      const resolutions: (string | undefined)[] = spec.resolutions.length
        ? [...spec.resolutions]
        : [undefined];
      for (const mode of ["text", "image"] as const) {
        for (const resolution of resolutions) {
          for (const quality of ["standard", "hd"] as const) {
            for (const num_images of [1, 2, 3, 4]) {
              const fields = {
                model,
                mode,
                ...(mode === "image" ? { image_url: "https://example.com/ref.png" } : {}),
                ...(resolution ? { resolution } : {}),
                quality,
                num_images,
              };
              const got = await quoteAndHold("image", fields);
              const table = documentImage[model as keyof typeof documentImage];
              const perImage =
                table[mode] +
                (resolution === "2K" || resolution === "4K" ? table[resolution] : 0) +
                (quality === "hd" ? 2 : 0);
              expect(got, JSON.stringify(fields)).toEqual({
                quoted: perImage * num_images,
                used: perImage * num_images,
                held: perImage * num_images,
                taskPrice: perImage * num_images,
                door: "nanobanana",
              });
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBe(2 * 2 * 4 * (1 + 3 + 3 + 1));
  }, 120_000);

  it("every video model × resolution × duration × audio", async () => {
    let checked = 0;
    for (const [model_id, spec] of Object.entries(videoModels)) {
      const audios = spec.audio === "optional" ? [false, true] : [spec.audio === "always"];
      for (const resolution of spec.resolutions) {
        for (const duration of spec.durations) {
          for (const generate_audio of audios) {
            const fields = { model_id, resolution, duration, generate_audio };
            const got = await quoteAndHold("video", fields);
            expect(got.quoted, JSON.stringify(fields)).toBeGreaterThan(0);
            expect(got, JSON.stringify(fields)).toEqual({
              quoted: got.quoted,
              used: got.quoted,
              held: got.quoted,
              taskPrice: got.quoted,
              door: "nanobanana",
            });
            const veo = documentVeoFast[`${resolution}/${generate_audio ? "audio" : "silent"}`];
            if (model_id === "veo-3.1-fast") expect(got.quoted).toBe(veo?.[duration]);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(87);
  }, 120_000);
});

describe("the door's price list is configuration", () => {
  it("an override changes calculate-cost and the hold alike; the export prices the same", async () => {
    const saved = structuredClone(nanobananaDoorPrices);
    try {
      applyPriceOverrides(
        { nanobanana: nanobananaDoorPrices },
        JSON.stringify({
          nanobanana: {
            image: { hd: 5, base: { seedream4: { text: 7 } } },
            video: { "veo-3.1-fast": { "720p": { audio: { 8: 33 } } } },
          },
        }),
        "RIPEN_DOOR_PRICES",
        "door",
      );
      const image = { model: "seedream4", quality: "hd", num_images: 2 };
      expect(await quoteAndHold("image", image)).toMatchObject({ quoted: 24, held: 24 });
      expect(priceNanobananaRequest({ type: "image", ...image })).toEqual({
        type: "image",
        model: "seedream4",
        credits: 24,
      });
      const video = { model_id: "veo-3.1-fast", duration: 8, generate_audio: true };
      expect(await quoteAndHold("video", video)).toMatchObject({ quoted: 33, held: 33 });
      expect(nanobananaPricesOf("veo-3.1-fast")).toMatchObject({
        "veo-3.1-fast": { "720p/8/audio": 33 },
      });
      // A figure the table does not have cannot be added.
      expect(() =>
        applyPriceOverrides(
          { nanobanana: nanobananaDoorPrices },
          JSON.stringify({ nanobanana: { image: { ultra: 1 } } }),
          "RIPEN_DOOR_PRICES",
          "door",
        ),
      ).toThrow(/no price 'ultra'/);
    } finally {
      Object.assign(nanobananaDoorPrices, saved);
    }
    expect(priceNanobananaRequest({ type: "image", model: "seedream4" }).credits).toBe(4);
  });

  it("prices of each Ripen model the door serves, and none for one it does not", () => {
    expect(nanobananaPricesOf("nano-banana")).toEqual({
      "nano-banana": {
        per_image: { text: 1 },
        resolution_surcharge: {},
        hd_surcharge: 2,
        total: "per-image credits × num_images",
        subscription_required: false,
      },
    });
    expect(nanobananaPricesOf("nano-banana-edit")).toMatchObject({
      "nano-banana": { per_image: { image: 2 } },
    });
    expect(nanobananaPricesOf("nano-banana-2")).toMatchObject({
      "nano-banana-2": { per_image: { text: 4, image: 8 }, resolution_surcharge: { "2K": 4 } },
    });
    expect(nanobananaPricesOf("veo-3.1")).toMatchObject({ "veo-3.1": { "1080p/8/audio": 70 } });
    expect(nanobananaPricesOf("nano-banana-2-lite")).toBeUndefined();
    expect(nanobananaPricesOf("__proto__")).toBeUndefined();
  });

  it("priceNanobananaRequest refuses what calculate-cost refuses", () => {
    expect(() => priceNanobananaRequest({ type: "image", model: "nano-apple" })).toThrow(
      expect.objectContaining({ code: "INVALID_MODEL" }),
    );
    expect(() => priceNanobananaRequest({ type: "image", resolution: "2K" })).toThrow(
      expect.objectContaining({ code: "invalid_request" }),
    );
    expect(() => priceNanobananaRequest({ model: "nano-banana" })).toThrow(/'type' is required/);
    expect(() => priceNanobananaRequest([])).toThrow(/JSON object/);
  });
});

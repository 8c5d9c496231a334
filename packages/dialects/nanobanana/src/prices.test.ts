import { describe, expect, it } from "vitest";
import { documentedCost } from "./prices";

describe("documented image prices (Image Models table)", () => {
  it.each([
    ["nano-banana", {}, 1],
    ["nano-banana", { mode: "image", image_url: "https://x.example/a.png" }, 2],
    ["nano-banana", { mode: "image" }, 2],
    ["nano-banana-pro", {}, 6],
    ["nano-banana-pro", { resolution: "2K" }, 6],
    ["nano-banana-pro", { resolution: "4K" }, 20],
    ["nano-banana-pro", { mode: "image", resolution: "4K" }, 20],
    ["nano-banana-2", {}, 4],
    ["nano-banana-2", { mode: "image" }, 8],
    ["nano-banana-2", { resolution: "2K" }, 8],
    ["nano-banana-2", { resolution: "4K" }, 18],
    ["nano-banana-2", { mode: "image", resolution: "4K" }, 22],
    ["seedream4", {}, 4],
    ["seedream4", { mode: "image" }, 4],
  ] as const)("%s %j → %i", (model, input, credits) => {
    expect(documentedCost(model, input)).toBe(credits);
  });

  it("multiplies the per-image price, hd included, by num_images", () => {
    expect(documentedCost("nano-banana", { num_images: 4 })).toBe(4);
    expect(documentedCost("nano-banana", { num_images: 4, quality: "hd" })).toBe(12);
    expect(
      documentedCost("nano-banana-2", { num_images: 3, resolution: "2K", quality: "hd" }),
    ).toBe(30);
    expect(documentedCost("nano-banana-pro", { num_images: 2, resolution: "2K" })).toBe(12);
  });

  it("has no figure for what the model refuses", () => {
    expect(documentedCost("nano-banana", { resolution: "2K" })).toBeUndefined();
    expect(documentedCost("seedream4", { aspect_ratio: "21:9" })).toBeUndefined();
    expect(documentedCost("nano-banana", { num_images: 5 })).toBeUndefined();
    expect(documentedCost("nano-apple", {})).toBeUndefined();
    expect(documentedCost("constructor", {})).toBeUndefined();
  });
});

describe("documented video prices", () => {
  /** "VEO 3.1 Fast (default) — Credits per generation", every cell. */
  const veoFast = {
    "720p": { silent: [10, 15, 20], audio: [15, 20, 30] },
    "1080p": { silent: [15, 20, 25], audio: [20, 25, 35] },
  } as const;

  for (const [resolution, rows] of Object.entries(veoFast)) {
    for (const [audio, credits] of Object.entries(rows)) {
      it(`veo-3.1-fast ${resolution} ${audio}: ${credits.join(" / ")} for 4 / 6 / 8 s`, () => {
        const priced = [4, 6, 8].map((duration) =>
          documentedCost("veo-3.1-fast", {
            resolution,
            duration,
            generate_audio: audio === "audio",
          }),
        );
        expect(priced).toEqual(credits);
      });
    }
  }

  it("veo-3.1 is twice veo-3.1-fast (assumed)", () => {
    expect(
      documentedCost("veo-3.1", { resolution: "1080p", duration: 8, generate_audio: true }),
    ).toBe(70);
  });

  it("defaults: 720p, the shortest duration, no audio", () => {
    expect(documentedCost("veo-3.1-fast", {})).toBe(10);
  });

  it("an Always-on model is priced with its audio; a silent model refuses audio", () => {
    expect(documentedCost("sora-2", { duration: 8 })).toBe(24);
    expect(documentedCost("sora-2", { duration: 8, generate_audio: false })).toBe(24);
    expect(documentedCost("wan-2.5", { duration: 10, resolution: "1080p" })).toBe(30);
    expect(documentedCost("wan-2.5", { generate_audio: true })).toBeUndefined();
  });

  it("per-second models add 1 credit per second with audio (assumed)", () => {
    expect(documentedCost("kling-o3-pro", { duration: 10 })).toBe(30);
    expect(documentedCost("kling-o3-pro", { duration: 10, generate_audio: true })).toBe(40);
    expect(documentedCost("seedance-2.0", { duration: 15, resolution: "480p" })).toBe(30);
  });

  it("has no figure for a duration or resolution the model does not offer", () => {
    expect(documentedCost("veo-3.1-fast", { duration: 5 })).toBeUndefined();
    expect(documentedCost("sora-2", { resolution: "1080p" })).toBeUndefined();
  });
});

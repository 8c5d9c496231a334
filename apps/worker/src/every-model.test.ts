import { execFileSync } from "node:child_process";
import { terminalTaskStatuses } from "@ripen/db";
import { getModel, models } from "@ripen/models";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let key: string;

beforeAll(async () => {
  stack = await startTestStack({ sandbox: { generationMs: 30 } });
  ({ apiKey: key } = await stack.createAccount(100_000));
});
afterAll(() => stack?.close());

const hasFfprobe = (() => {
  try {
    execFileSync("ffprobe", ["-version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** A request of each model that a user would send: its defaults, plus what it requires. */
const inputOf = (id: string): Record<string, unknown> =>
  id === "nano-banana-edit"
    ? { prompt: "make it a watercolour", image_urls: ["https://example.com/photo.png"] }
    : { prompt: `a lighthouse at dusk, by ${id}` };

describe("every model of the catalog, through the native API and the sandbox", () => {
  it("has the six image models and eleven video models the documents list", () => {
    const byKind = (kind: string) =>
      Object.values(models)
        .filter((m) => m.kind === kind)
        .map((m) => m.id)
        .sort();
    expect(byKind("image")).toEqual([
      "nano-banana",
      "nano-banana-2",
      "nano-banana-2-lite",
      "nano-banana-edit",
      "nano-banana-pro",
      "seedream4",
    ]);
    expect(byKind("video")).toEqual([
      "grok-video",
      "kling-o3-pro",
      "kling-o3-std",
      "seedance-1.5",
      "seedance-1.5-fast",
      "seedance-2.0",
      "sora-2",
      "sora-2-pro",
      "veo-3.1",
      "veo-3.1-fast",
      "wan-2.5",
    ]);
  });

  it("completes a task of each, charged its price, with a real result file", async () => {
    const created = await Promise.all(
      Object.values(models).map(async (spec) => {
        const path = spec.kind === "video" ? "/v1/videos/generations" : "/v1/images/generations";
        const res = await stack.request("POST", path, {
          key,
          body: { model: spec.id, input: inputOf(spec.id) },
        });
        expect(res, spec.id).toMatchObject({ status: 200, body: { code: 200 } });
        return { spec, taskId: res.body.data.taskId as string };
      }),
    );
    for (const { spec, taskId } of created) {
      expect(await stack.waitForTask(taskId, terminalTaskStatuses, 20_000), spec.id).toBe(
        "succeeded",
      );
      const task = (await stack.request("GET", `/v1/tasks/${taskId}`, { key })).body;
      expect(task).toMatchObject({ id: taskId, status: "completed", model: spec.id });
      const history = (await stack.request("GET", `/v1/tasks/${taskId}/history`, { key })).body;
      const input = spec.input.parse(inputOf(spec.id));
      expect(history.price, spec.id).toBe(spec.price(input, spec.prices));
      expect(history.attempts, spec.id).toMatchObject([{ number: 1, state: "succeeded" }]);

      const file = await fetch(task.output.urls[0]);
      expect(file.status, spec.id).toBe(200);
      const bytes = Buffer.from(await file.arrayBuffer());
      if (spec.kind === "video") {
        expect(file.headers.get("content-type")).toBe("video/mp4");
        expect(bytes.subarray(4, 8).toString("latin1")).toBe("ftyp");
        if (hasFfprobe) {
          const probe = execFileSync(
            "ffprobe",
            ["-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", "-"],
            { input: bytes },
          );
          expect(probe.toString().trim()).toBe("h264");
        }
      } else {
        expect(file.headers.get("content-type")).toMatch(/^image\/(png|jpeg)$/);
      }
    }
  });

  it("prices as the documents do", () => {
    const priceOf = (id: string, input: Record<string, unknown>) => {
      const spec = getModel(id);
      return spec.price(spec.input.parse(input), spec.prices);
    };
    const prompt = "p";
    // Document 000: per resolution.
    expect(priceOf("nano-banana-2", { prompt, resolution: "4K" })).toBe(36);
    expect(priceOf("nano-banana-2-lite", { prompt })).toBe(10);
    // Document 004: 8 per image, pro 25 at 1K/2K and 35 at 4K; document 001: hd +2, × images.
    expect(priceOf("nano-banana", { prompt })).toBe(8);
    expect(priceOf("nano-banana", { prompt, num_images: 3, quality: "hd" })).toBe(30);
    expect(priceOf("nano-banana-pro", { prompt, resolution: "2K" })).toBe(25);
    expect(priceOf("nano-banana-pro", { prompt, resolution: "4K", num_images: 2 })).toBe(70);
    expect(priceOf("seedream4", { prompt, num_images: 4 })).toBe(16);
    // Document 001's VEO 3.1 Fast table.
    expect(priceOf("veo-3.1-fast", { prompt, duration: 4 })).toBe(10);
    expect(priceOf("veo-3.1-fast", { prompt, duration: 8, generate_audio: true })).toBe(30);
    expect(
      priceOf("veo-3.1-fast", { prompt, duration: 6, resolution: "1080p", generate_audio: true }),
    ).toBe(25);
  });
});

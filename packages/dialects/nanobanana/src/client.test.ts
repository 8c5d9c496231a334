import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type FailureKind,
  InvalidRequest,
  ProviderError,
  TaskNotFound,
  type UpstreamRequest,
} from "@ripen/core";
import express, { type Request, type Response } from "express";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createNanobananaClient, failureKindOf } from "./client";
import { errorReference, rateLimited, WireError, type WireErrorCode } from "./errors";
import type { ImageRequest, NanobananaBackend, VideoRequest } from "./router";
import { createNanobananaRouter } from "./router";
import type { ImageStatusData, VideoStatusData } from "./schemas";

/**
 * The client against the dialect's own router over real HTTP. The backend answers what each test
 * sets; `raw` answers bypass the router for what a router never sends (unreadable bodies,
 * silence, a 200 carrying an error).
 */
interface Scenario {
  raw?: { status: number; body: string; headers?: Record<string, string> } | "hang";
  authenticate?: () => void;
  generate?: () => void;
  imageStatus?: ImageStatusData;
  videoStatus?: VideoStatusData;
}
let scenario: Scenario = {};
const seen: { path: string; body: unknown }[] = [];

const backend: NanobananaBackend<{ key: string }> = {
  async authenticate(apiKey) {
    scenario.authenticate?.();
    return apiKey.startsWith("nb_sk_") ? { key: apiKey } : null;
  },
  async generateImage(_principal, request: ImageRequest) {
    scenario.generate?.();
    seen.push({ path: "images/generate", body: request });
    return { task_id: "clx_image", status: "pending", credits_used: 1, credits_remaining: 99 };
  },
  async imageStatus(_principal, taskId) {
    seen.push({ path: "images/status", body: taskId });
    if (!scenario.imageStatus) throw new TaskNotFound(taskId);
    return scenario.imageStatus;
  },
  async generateVideo(_principal, request: VideoRequest) {
    scenario.generate?.();
    seen.push({ path: "videos/generate", body: request });
    return {
      task_id: "clx_video",
      status: "processing",
      credits_used: 10,
      credits_remaining: 90,
      provider: "wavespeed",
    };
  },
  async videoStatus(_principal, taskId) {
    seen.push({ path: "videos/status", body: taskId });
    if (!scenario.videoStatus) throw new TaskNotFound(taskId);
    return scenario.videoStatus;
  },
  async credits() {
    return { credits: 99, total_credits: 100, subscription: null, is_vip: false };
  },
  async calculateCost(_principal, request) {
    return { type: request.type, credits_needed: 1 };
  },
  async models() {
    return { image_models: [], video_models: [] };
  },
};

let server: Server;
let baseUrl: string;

beforeAll(async () => {
  const app = express();
  app.use((req: Request, res: Response, next) => {
    const raw = scenario.raw;
    if (!raw) return next();
    req.resume();
    if (raw === "hang") return;
    res.writeHead(raw.status, { "content-type": "application/json", ...raw.headers });
    res.end(raw.body);
  });
  app.use(createNanobananaRouter(backend));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  scenario = {};
  seen.length = 0;
});

const client = (url = baseUrl, timeoutMs = 2_000, apiKey = "nb_sk_test") =>
  createNanobananaClient({ baseUrl: url, apiKey, timeoutMs });

const imageRequest: UpstreamRequest = {
  taskId: "task_1",
  upstreamModel: "nano-banana-pro",
  input: { prompt: "A sunset over mountains", resolution: "2K", num_images: 2 },
  callbackUrl: null,
};
const videoRequest: UpstreamRequest = {
  taskId: "task_2",
  upstreamModel: "veo-3.1-fast",
  input: { prompt: "A cat walking in a garden", duration: 8, generate_audio: true },
  callbackUrl: null,
};
const submit = (request = imageRequest, c = client()) => c.submit(request);

async function failureOf(call: Promise<unknown>): Promise<ProviderError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/** Document 001, "Error Codes" (and the four codes errors.ts adds), as Ripen handles each. */
const expectedKind: Record<WireErrorCode, FailureKind> = {
  UNAUTHORIZED: "circuit",
  INSUFFICIENT_CREDITS: "circuit",
  FORBIDDEN: "circuit",
  RATE_LIMIT_EXCEEDED: "retry",
  INVALID_PROMPT: "fail",
  INVALID_MODEL: "failover",
  TASK_NOT_FOUND: "fail",
  CONTENT_FILTERED: "fail",
  INTERNAL_ERROR: "retry",
  INVALID_REQUEST: "fail",
  NOT_FOUND: "circuit",
  SERVICE_UNAVAILABLE: "retry",
  IDEMPOTENCY_KEY_REUSED: "failover",
};

describe("every error code of a generate, classified", () => {
  it("the table covers every code", () => {
    expect(Object.keys(failureKindOf).sort()).toEqual(Object.keys(errorReference).sort());
    expect(failureKindOf).toEqual(expectedKind);
  });

  for (const [code, { status }] of Object.entries(errorReference)) {
    const kind = expectedKind[code as WireErrorCode];
    it(`${status} ${code} → ${kind}`, async () => {
      scenario.generate = () => {
        throw new WireError(code as WireErrorCode);
      };
      const error = await failureOf(submit());
      expect(error.kind).toBe(kind);
      expect(error.options).toMatchObject({ status, code });
    });
  }

  it("the router's own refusals carry the same codes", async () => {
    const wrongKey = await failureOf(submit(imageRequest, client(baseUrl, 2_000, "sk-other")));
    expect(wrongKey.options).toMatchObject({ kind: "circuit", status: 401, code: "UNAUTHORIZED" });
    const model = await failureOf(submit({ ...imageRequest, upstreamModel: "nano-apple" }));
    expect(model.options).toMatchObject({ kind: "failover", status: 400, code: "INVALID_MODEL" });
    const prompt = await failureOf(submit({ ...imageRequest, input: { prompt: "  " } }));
    expect(prompt.options).toMatchObject({ kind: "fail", status: 400, code: "INVALID_PROMPT" });
    const ratio = await failureOf(submit({ ...videoRequest, input: { prompt: "x", duration: 5 } }));
    expect(ratio.options).toMatchObject({ kind: "fail", status: 400, code: "INVALID_REQUEST" });
    const wrongBase = await failureOf(submit(imageRequest, client(`${baseUrl}/v2`)));
    expect(wrongBase.options).toMatchObject({ kind: "circuit", status: 404, code: "NOT_FOUND" });
  });

  it("honours Retry-After", async () => {
    scenario.authenticate = () => {
      throw rateLimited(7);
    };
    const error = await failureOf(submit());
    expect(error.options).toMatchObject({ kind: "retry", status: 429, retryAfterMs: 7_000 });
  });

  it("a 200 carrying a documented error code is classified as that code", async () => {
    scenario.raw = {
      status: 200,
      body: JSON.stringify({
        success: false,
        error: { code: "INSUFFICIENT_CREDITS", message: "Not enough credits" },
      }),
    };
    const error = await failureOf(submit());
    expect(error.options).toMatchObject({
      kind: "circuit",
      status: 402,
      code: "INSUFFICIENT_CREDITS",
    });
  });

  it("classifies answers without a documented code by their status", async () => {
    for (const [status, kind] of [
      [502, "retry"],
      [401, "circuit"],
      [422, "fail"],
    ] as const) {
      scenario.raw = { status, body: "<html>proxy error</html>" };
      expect((await failureOf(submit())).kind).toBe(kind);
    }
  });

  it("an unreadable 2xx, a timeout after sending: unknown outcome, never a plain retry", async () => {
    scenario.raw = { status: 200, body: JSON.stringify({ unexpected: true }) };
    expect((await failureOf(submit())).kind).toBe("unknown");
    scenario.raw = { status: 200, body: "{not json" };
    expect((await failureOf(submit())).kind).toBe("unknown");
    scenario.raw = {
      status: 200,
      body: JSON.stringify({ success: false, error: { code: "SOMETHING_NEW", message: "?" } }),
    };
    expect((await failureOf(submit())).kind).toBe("unknown");
    scenario.raw = "hang";
    expect((await failureOf(submit(imageRequest, client(baseUrl, 100)))).kind).toBe("unknown");
  });

  it("nothing listening: the request never left, so a retry is safe", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    expect((await failureOf(submit(imageRequest, client(`http://127.0.0.1:${port}`)))).kind).toBe(
      "retry",
    );
  });
});

describe("submit", () => {
  it("sends an image model to the image endpoint as `model`, its input checked", async () => {
    expect(await submit()).toEqual({ providerTaskId: "clx_image" });
    expect(seen).toEqual([
      {
        path: "images/generate",
        body: {
          model: "nano-banana-pro",
          prompt: "A sunset over mountains",
          mode: "text",
          aspect_ratio: "1:1",
          resolution: "2K",
          num_images: 2,
          quality: "standard",
          output_format: "png",
        },
      },
    ]);
  });

  it("sends a video model to the video endpoint as `model_id`", async () => {
    expect(await submit(videoRequest)).toEqual({ providerTaskId: "clx_video" });
    expect(seen).toEqual([
      {
        path: "videos/generate",
        body: {
          model_id: "veo-3.1-fast",
          prompt: "A cat walking in a garden",
          aspect_ratio: "16:9",
          duration: 8,
          resolution: "720p",
          generate_audio: true,
        },
      },
    ]);
  });
});

describe("status queries", () => {
  const image = (fields: Partial<ImageStatusData>): ImageStatusData => ({
    task_id: "clx_image",
    status: "pending",
    progress: 0,
    ...fields,
  });
  const video = (fields: Partial<VideoStatusData>): VideoStatusData => ({
    task_id: "clx_video",
    status: "processing",
    progress: 40,
    ...fields,
  });

  it("reads TASK_NOT_FOUND as the upstream having lost the task", async () => {
    expect(await client().status("clx_gone", "nano-banana")).toEqual({ state: "not_found" });
    expect(await client().status("clx_gone", "sora-2")).toEqual({ state: "not_found" });
    expect(seen.map((s) => s.path)).toEqual(["images/status", "videos/status"]);
  });

  it("does not take a 404 without that code (a proxy, a wrong path) for a lost task", async () => {
    scenario.raw = { status: 404, body: "not here" };
    expect((await failureOf(client().status("clx_1", "nano-banana"))).kind).toBe("retry");
    scenario.raw = undefined;
    const wrongBase = await failureOf(client(`${baseUrl}/v2`).status("clx_1", "nano-banana"));
    expect(wrongBase.options).toMatchObject({ kind: "retry", status: 404 });
  });

  it("maps the image vocabulary: pending, processing, completed, failed", async () => {
    scenario.imageStatus = image({ status: "pending" });
    expect(await client().status("clx_image", "nano-banana")).toEqual({ state: "pending" });
    scenario.imageStatus = image({ status: "processing", progress: 50 });
    expect(await client().status("clx_image", "nano-banana")).toEqual({ state: "running" });
    scenario.imageStatus = image({
      status: "completed",
      progress: 100,
      image_url: "https://cdn.example/a.png",
      completed_at: "2024-01-01T00:00:00Z",
    });
    expect(await client().status("clx_image", "nano-banana")).toEqual({
      state: "succeeded",
      output: {
        urls: ["https://cdn.example/a.png"],
        metadata: {
          model: "nano-banana",
          taskId: "clx_image",
          completedAt: "2024-01-01T00:00:00Z",
        },
      },
    });
    scenario.imageStatus = image({
      status: "completed",
      image_url: "https://cdn.example/a.png",
      image_urls: ["https://cdn.example/a.png", "https://cdn.example/b.png"],
    });
    const many = await client().status("clx_image", "nano-banana");
    expect(many.state === "succeeded" && many.output.urls).toHaveLength(2);
  });

  it("maps the video vocabulary: processing, succeeded", async () => {
    scenario.videoStatus = video({});
    expect(await client().status("clx_video", "veo-3.1")).toEqual({ state: "running" });
    scenario.videoStatus = video({
      status: "succeeded",
      progress: 100,
      video_url: "https://cdn.example/v.mp4",
      completed_at: "2024-01-01T00:00:00Z",
    });
    const done = await client().status("clx_video", "veo-3.1");
    expect(done).toMatchObject({
      state: "succeeded",
      output: { urls: ["https://cdn.example/v.mp4"] },
    });
  });

  it("fails over a failed generation, fails a filtered one", async () => {
    scenario.imageStatus = image({ status: "failed", error: "Generation failed" });
    expect(await client().status("clx_image", "nano-banana")).toEqual({
      state: "failed",
      errorCode: "INTERNAL_ERROR",
      errorMessage: "Generation failed",
      kind: "failover",
    });
    scenario.videoStatus = video({
      status: "failed",
      error: "Content was rejected by safety filters",
      error_code: "CONTENT_FILTERED",
    });
    expect(await client().status("clx_video", "kling-o3-pro")).toEqual({
      state: "failed",
      errorCode: "CONTENT_FILTERED",
      errorMessage: "Content was rejected by safety filters",
      kind: "fail",
    });
    scenario.imageStatus = image({
      status: "failed",
      error: { code: "INVALID_PROMPT", message: "Prompt refused" },
    });
    expect(await client().status("clx_image", "nano-banana")).toMatchObject({
      errorCode: "INVALID_PROMPT",
      errorMessage: "Prompt refused",
      kind: "fail",
    });
  });

  it("a finished task without its URL, or a status in another vocabulary, is asked again", async () => {
    scenario.imageStatus = image({ status: "completed", image_url: null });
    expect((await failureOf(client().status("clx_image", "nano-banana"))).kind).toBe("retry");
    scenario.raw = {
      status: 200,
      body: JSON.stringify({ success: true, data: { task_id: "clx_image", status: "succeeded" } }),
    };
    expect((await failureOf(client().status("clx_image", "nano-banana"))).kind).toBe("retry");
  });

  it("status errors are classified like any other call", async () => {
    scenario.authenticate = () => {
      throw rateLimited(3);
    };
    const error = await failureOf(client().status("clx_image", "nano-banana"));
    expect(error.options).toMatchObject({ kind: "retry", status: 429, retryAfterMs: 3_000 });
  });
});

describe("callbacks", () => {
  it("the dialect has none: tasks complete by polling", () => {
    const c = client();
    expect(c.sendsCallbacks).toBe(false);
    expect(() => c.parseCallback({ task_id: "clx", status: "completed" })).toThrow(InvalidRequest);
  });
});

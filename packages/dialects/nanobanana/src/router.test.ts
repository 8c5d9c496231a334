import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ServiceUnavailable, TaskNotFound } from "@ripen/core";
import express from "express";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CostRequest, createNanobananaRouter, type NanobananaBackend } from "./router";
import { errorEnvelope } from "./schemas";

/** The router's own checks: every bad input is a 4xx in the dialect's envelope, never a 500. */
const received: unknown[] = [];
const unexpected: unknown[] = [];
let failWith: Error | undefined;

const backend: NanobananaBackend<string> = {
  async authenticate(apiKey) {
    return apiKey.startsWith("nb_sk_") ? apiKey : null;
  },
  async generateImage(_p, request) {
    if (failWith) throw failWith;
    received.push(request);
    return { task_id: "clx1", status: "pending", credits_used: 1, credits_remaining: 1 };
  },
  async imageStatus(_p, taskId) {
    throw new TaskNotFound(taskId);
  },
  async generateVideo(_p, request) {
    received.push(request);
    return { task_id: "clx2", status: "processing", credits_used: 1, credits_remaining: 1 };
  },
  async videoStatus(_p, taskId) {
    received.push(taskId);
    return { task_id: taskId, status: "processing", progress: 10 };
  },
  async credits() {
    return { credits: 1, total_credits: 1, subscription: null, is_vip: false };
  },
  async calculateCost(_p, request: CostRequest) {
    received.push(request);
    return { type: request.type, credits_needed: 1 };
  },
  async models() {
    return { image_models: [], video_models: [] };
  },
};

let server: Server;
let base: string;
beforeAll(async () => {
  const app = express();
  app.use("/nb", createNanobananaRouter(backend, { onUnexpectedError: (e) => unexpected.push(e) }));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/nb`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  received.length = 0;
  unexpected.length = 0;
  failWith = undefined;
});

const auth = { authorization: "Bearer nb_sk_test" };

async function call(
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { ...auth, "content-type": "application/json", ...init.headers },
    body: init.body,
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}
const post = (path: string, body: unknown) => call(path, { body: JSON.stringify(body) });

async function refused(
  answer: Promise<{ status: number; json: unknown }>,
  status: number,
  code: string,
) {
  const { status: got, json } = await answer;
  expect({ status: got, json }).toMatchObject({
    status,
    json: { success: false, error: { code } },
  });
  expect(errorEnvelope.safeParse(json).success).toBe(true);
  return (json as { error: { message: string } }).error.message;
}

describe("authentication", () => {
  it("refuses a missing or foreign key with 401 UNAUTHORIZED, on every path", async () => {
    await refused(call("/api/v1/models", { headers: { authorization: "" } }), 401, "UNAUTHORIZED");
    await refused(
      call("/api/v1/models", { headers: { authorization: "Bearer sk-123" } }),
      401,
      "UNAUTHORIZED",
    );
    await refused(
      call("/nowhere", { headers: { authorization: "Basic abc" } }),
      401,
      "UNAUTHORIZED",
    );
  });
});

describe("bad input is a 4xx in the envelope", () => {
  it("unreadable bodies", async () => {
    await refused(call("/api/v1/images/generate", { body: "{not json" }), 400, "INVALID_REQUEST");
    await refused(post("/api/v1/images/generate", ["a"]), 400, "INVALID_REQUEST");
    await refused(post("/api/v1/images/generate", "a"), 400, "INVALID_REQUEST");
    await refused(call("/api/v1/images/generate", { body: "null" }), 400, "INVALID_REQUEST");
    await refused(
      post("/api/v1/images/generate", { prompt: "x".repeat(1_100_000) }),
      400,
      "INVALID_REQUEST",
    );
    await refused(
      call("/api/v1/images/generate", { body: "{}", headers: { "content-encoding": "gzip" } }),
      400,
      "INVALID_REQUEST",
    );
  });

  it("prompts: missing, empty, wrong type, NUL, lone surrogate → INVALID_PROMPT", async () => {
    for (const body of [
      "{}",
      '{"prompt":""}',
      '{"prompt":"   "}',
      '{"prompt":42}',
      '{"prompt":"a\\u0000b"}',
      '{"prompt":"a\\ud800b"}',
      JSON.stringify({ prompt: "x".repeat(20_001) }),
    ]) {
      await refused(call("/api/v1/images/generate", { body }), 400, "INVALID_PROMPT");
    }
    await refused(
      call("/api/v1/videos/generate", { body: '{"prompt":"\\udc00"}' }),
      400,
      "INVALID_PROMPT",
    );
  });

  it("models: unknown, wrong type, prototype names → INVALID_MODEL", async () => {
    for (const model of ["nano-apple", 42, "constructor", "__proto__", "x".repeat(10_000)]) {
      await refused(post("/api/v1/images/generate", { prompt: "p", model }), 400, "INVALID_MODEL");
      await refused(
        post("/api/v1/videos/generate", { prompt: "p", model_id: model }),
        400,
        "INVALID_MODEL",
      );
    }
    // A video model is not an image model.
    await refused(
      post("/api/v1/images/generate", { prompt: "p", model: "veo-3.1" }),
      400,
      "INVALID_MODEL",
    );
  });

  it("other fields → INVALID_REQUEST naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ prompt: "p", aspectRatio: "1:1" }, "aspectRatio"],
      [JSON.parse('{"prompt":"p","__proto__":{"admin":true}}'), "__proto__"],
      [{ prompt: "p", num_images: "2" }, "num_images"],
      [{ prompt: "p", num_images: 5 }, "num_images"],
      [{ prompt: "p", num_images: 1.5 }, "num_images"],
      [{ prompt: "p", num_images: 1e308 }, "num_images"],
      [{ prompt: "p", aspect_ratio: "21:9" }, "aspect_ratio"],
      [{ prompt: "p", resolution: "2K" }, "resolution"],
      [{ prompt: "p", model: "seedream4", resolution: "2K" }, "resolution"],
      [{ prompt: "p", model: "nano-banana-pro", resolution: "8K" }, "resolution"],
      [{ prompt: "p", quality: "ultra" }, "quality"],
      [{ prompt: "p", output_format: "jpg" }, "output_format"],
      [{ prompt: "p", mode: "video" }, "mode"],
      [{ prompt: "p", mode: "image" }, "image_url"],
      [{ prompt: "p", mode: "image", image_url: "ftp://x.example/a.png" }, "image_url"],
      [{ prompt: "p", mode: "image", image_url: "https://x.example/\u0000" }, "image_url"],
      [
        { prompt: "p", mode: "image", image_url: `https://x.example/${"a".repeat(2_100)}` },
        "image_url",
      ],
    ];
    for (const [body, field] of cases) {
      const message = await refused(post("/api/v1/images/generate", body), 400, "INVALID_REQUEST");
      expect(message).toContain(`'${field}'`);
    }
    expect(received).toEqual([]);
  });

  it("video fields follow the model's row of the table", async () => {
    const cases: [unknown, string][] = [
      [{ prompt: "p", duration: 5 }, "duration"],
      [{ prompt: "p", duration: "8" }, "duration"],
      [{ prompt: "p", resolution: "480p" }, "resolution"],
      [{ prompt: "p", aspect_ratio: "1:1" }, "aspect_ratio"],
      [{ prompt: "p", generate_audio: "yes" }, "generate_audio"],
      [{ prompt: "p", model_id: "wan-2.5", generate_audio: true }, "generate_audio"],
      [{ prompt: "p", model_id: "grok-video", generate_audio: true }, "generate_audio"],
      [{ prompt: "p", model_id: "seedance-2.0", resolution: "1080p" }, "resolution"],
      [{ prompt: "p", negative_prompt: "\u0000" }, "negative_prompt"],
      [{ prompt: "p", image_url: "not a url" }, "image_url"],
    ];
    for (const [body, field] of cases) {
      const message = await refused(post("/api/v1/videos/generate", body), 400, "INVALID_REQUEST");
      expect(message).toContain(`'${field}'`);
    }
    expect(received).toEqual([]);
  });

  it("task ids: missing or repeated → 400; one no task can have → TASK_NOT_FOUND", async () => {
    await refused(call("/api/v1/images/status"), 400, "INVALID_REQUEST");
    await refused(call("/api/v1/images/status?task_id="), 400, "INVALID_REQUEST");
    await refused(call("/api/v1/images/status?task_id=a&task_id=b"), 400, "INVALID_REQUEST");
    await refused(call("/api/v1/videos/status?task_id[x]=a"), 400, "INVALID_REQUEST");
    await refused(call("/api/v1/videos/status?task_id=a%00b"), 404, "TASK_NOT_FOUND");
    await refused(call(`/api/v1/videos/status?task_id=${"a".repeat(300)}`), 404, "TASK_NOT_FOUND");
    await refused(call("/api/v1/images/status?task_id=clx9"), 404, "TASK_NOT_FOUND");
    expect(received).toEqual([]);
  });

  it("calculate-cost needs a type, then checks like the generate request", async () => {
    await refused(post("/api/v1/account/calculate-cost", {}), 400, "INVALID_REQUEST");
    await refused(
      post("/api/v1/account/calculate-cost", { type: "audio" }),
      400,
      "INVALID_REQUEST",
    );
    await refused(
      post("/api/v1/account/calculate-cost", { type: "image", model: "nano-apple" }),
      400,
      "INVALID_MODEL",
    );
    await refused(
      post("/api/v1/account/calculate-cost", { type: "image", resolution: "2K" }),
      400,
      "INVALID_REQUEST",
    );
    await refused(
      post("/api/v1/account/calculate-cost", { type: "video", model: "veo-3.1" }),
      400,
      "INVALID_REQUEST",
    );
    await refused(
      post("/api/v1/images/generate", { prompt: "p", model_id: "nano-banana" }),
      400,
      "INVALID_REQUEST",
    );
  });

  it("unknown paths and methods → 404 NOT_FOUND; a bad percent-encoding → 4xx", async () => {
    await refused(call("/api/v1/images"), 404, "NOT_FOUND");
    await refused(call("/api/v1/images/generate"), 404, "NOT_FOUND");
    await refused(post("/api/v1/models", {}), 404, "NOT_FOUND");
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/api/v1/%E0%A4%A`, { headers: auth }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
  });
});

describe("what passes, and what the backend's errors become", () => {
  it("hands the backend a request checked against its model, defaults filled in", async () => {
    const answer = await post("/api/v1/images/generate", {
      prompt: "A sunset over mountains",
      mode: "image",
      model: "nano-banana-2",
      image_url: "https://x.example/a.png",
      aspect_ratio: "21:9",
      resolution: "4K",
      num_images: 4,
      quality: "hd",
      output_format: "jpeg",
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      success: true,
      data: { task_id: "clx1", status: "pending", credits_used: 1, credits_remaining: 1 },
    });
    await post("/api/v1/images/generate", { prompt: "p" });
    await post("/api/v1/videos/generate", {
      prompt: "p",
      model_id: "sora-2",
      generate_audio: false,
    });
    expect(received).toEqual([
      {
        prompt: "A sunset over mountains",
        mode: "image",
        model: "nano-banana-2",
        image_url: "https://x.example/a.png",
        aspect_ratio: "21:9",
        resolution: "4K",
        num_images: 4,
        quality: "hd",
        output_format: "jpeg",
      },
      {
        prompt: "p",
        mode: "text",
        model: "nano-banana",
        aspect_ratio: "1:1",
        num_images: 1,
        quality: "standard",
        output_format: "png",
      },
      // Sora 2's audio is "Always on".
      {
        prompt: "p",
        model_id: "sora-2",
        aspect_ratio: "16:9",
        duration: 4,
        resolution: "720p",
        generate_audio: true,
      },
    ]);
  });

  it("reads any content type as JSON", async () => {
    const answer = await call("/api/v1/images/generate", {
      body: '{"prompt":"p"}',
      headers: { "content-type": "text/plain" },
    });
    expect(answer.status).toBe(200);
  });

  it("an unexpected error is a 500 INTERNAL_ERROR, reported; a database outage a 503", async () => {
    failWith = new Error("boom");
    const message = await refused(
      post("/api/v1/images/generate", { prompt: "p" }),
      500,
      "INTERNAL_ERROR",
    );
    expect(message).not.toContain("boom");
    expect(unexpected).toHaveLength(1);
    failWith = new ServiceUnavailable("database down");
    const answer = await post("/api/v1/images/generate", { prompt: "p" });
    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toBe("5");
  });
});

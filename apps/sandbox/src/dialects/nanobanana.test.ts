import { ProviderError, type ProviderTaskState } from "@ripen/core";
import {
  calculateCostResponse,
  createNanobananaClient,
  creditsResponse,
  errorEnvelope,
  imageGenerateResponse,
  imageModelIds,
  imageStatusResponse,
  modelsResponse,
  videoGenerateResponse,
  videoModelIds,
  videoStatusResponse,
} from "@ripen/dialect-nanobanana";
import { afterEach, describe, expect, it } from "vitest";
import { sandboxForTests } from "../testing/harness";

/**
 * Contract tests of the Nano Banana simulator (document 001) over real HTTP, mounted in the
 * sandbox as it runs (its /files route serves the results): every request example answered in
 * the documented shape, the client driving it end to end, and the dialect's own behaviour (60
 * requests per minute per key, calculate-cost = what the create charges, the models list, MP4
 * results). Time is a clock the tests move: no test waits.
 */
const GENERATION_MS = 10_000;
const INITIAL_CREDITS = 1_000;
let clockMs = Date.parse("2025-06-01T00:00:00Z");
const nanobanana = sandboxForTests("nanobanana", {
  now: () => clockMs,
  generationMs: GENERATION_MS,
  initialCredits: INITIAL_CREDITS,
  // Nothing random is drawn unless a test asks for a fault.
  random: () => 0.5,
});
afterEach(() => {
  // Every test's tasks end, and every key's rate window empties, before the next test.
  clockMs += 2 * 60_000;
});

let keys = 0;
/** A fresh API key: its own account, credits and rate window. */
const newKey = (kind = "") => `nb_sk_${kind}test_${++keys}`;

async function call(method: "GET" | "POST", path: string, key: string | null, body?: unknown) {
  const response = await fetch(`${nanobanana.apiUrl}${path}`, {
    method,
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}
const get = (path: string, key: string | null) => call("GET", path, key);
const post = (path: string, key: string | null, body: unknown) => call("POST", path, key, body);

function expectError(answer: { status: number; json: unknown }, status: number, code: string) {
  expect(answer.status).toBe(status);
  const parsed = errorEnvelope.parse(answer.json);
  expect(parsed.error.code).toBe(code);
}

/** Document 001's request examples, as written (less their `//` comments). */
const imageExample = {
  prompt: "A sunset over mountains",
  mode: "text",
  model: "nano-banana",
  image_url: "https://...",
  aspect_ratio: "16:9",
  resolution: "1K",
  num_images: 1,
  quality: "standard",
  output_format: "png",
};
const videoExample = {
  prompt: "A cat walking in a garden",
  model_id: "veo-3.1-fast",
  aspect_ratio: "16:9",
  duration: 8,
  resolution: "720p",
  image_url: "https://...",
  generate_audio: true,
  negative_prompt: "...",
};
const costExample = {
  type: "image",
  mode: "text",
  model: "nano-banana-pro",
  num_images: 2,
  resolution: "2K",
};

describe("the document's examples, answered in the documented shape", () => {
  it("POST /api/v1/images/generate, then GET /api/v1/images/status until completed", async () => {
    const key = newKey();
    const created = await post("/api/v1/images/generate", key, imageExample);
    expect(created.status).toBe(200);
    const { data } = imageGenerateResponse.parse(created.json);
    expect(data).toMatchObject({ status: "pending", credits_used: 1, credits_remaining: 999 });

    const statusOf = async () => {
      const answer = await get(`/api/v1/images/status?task_id=${data.task_id}`, key);
      expect(answer.status).toBe(200);
      return imageStatusResponse.parse(answer.json).data;
    };
    expect(await statusOf()).toEqual({ task_id: data.task_id, status: "pending", progress: 0 });
    clockMs += GENERATION_MS / 2;
    expect(await statusOf()).toEqual({ task_id: data.task_id, status: "processing", progress: 50 });
    clockMs += GENERATION_MS;
    const done = await statusOf();
    expect(done).toEqual({
      task_id: data.task_id,
      status: "completed",
      progress: 100,
      image_url: `${nanobanana.baseUrl}/files/${data.task_id}.png`,
      completed_at: new Date(clockMs - GENERATION_MS / 2).toISOString(),
    });
  });

  it("POST /api/v1/videos/generate, then GET /api/v1/videos/status until succeeded", async () => {
    const key = newKey();
    const created = await post("/api/v1/videos/generate", key, videoExample);
    expect(created.status).toBe(200);
    const { data } = videoGenerateResponse.parse(created.json);
    // The VEO 3.1 Fast table: 720p with audio, 8 s = 30 (the example's 15 is illustrative).
    expect(data).toMatchObject({
      status: "processing",
      credits_used: 30,
      credits_remaining: 970,
      provider: "wavespeed",
    });

    const statusOf = async () => {
      const answer = await get(`/api/v1/videos/status?task_id=${data.task_id}`, key);
      expect(answer.status).toBe(200);
      return videoStatusResponse.parse(answer.json).data;
    };
    expect(await statusOf()).toMatchObject({ status: "processing", progress: 0 });
    clockMs += GENERATION_MS;
    expect(await statusOf()).toEqual({
      task_id: data.task_id,
      status: "succeeded",
      progress: 100,
      video_url: `${nanobanana.baseUrl}/files/${data.task_id}.mp4`,
      completed_at: new Date(clockMs).toISOString(),
    });
  });

  it("GET /api/v1/account/credits", async () => {
    const key = newKey();
    await post("/api/v1/images/generate", key, imageExample);
    const answer = await get("/api/v1/account/credits", key);
    expect(answer.status).toBe(200);
    const { data } = creditsResponse.parse(answer.json);
    expect(data).toEqual({
      credits: 999,
      total_credits: INITIAL_CREDITS,
      subscription: { plan: "pro", end_date: expect.any(String) },
      is_vip: true,
    });
    const free = creditsResponse.parse((await get("/api/v1/account/credits", newKey("free"))).json);
    expect(free.data).toMatchObject({ subscription: null, is_vip: false });
  });

  it("POST /api/v1/account/calculate-cost", async () => {
    const answer = await post("/api/v1/account/calculate-cost", newKey(), costExample);
    expect(answer.status).toBe(200);
    // The Image Models table: nano-banana-pro is 6 per image below 4K (the example's 16 is not).
    expect(calculateCostResponse.parse(answer.json).data).toEqual({
      type: "image",
      credits_needed: 12,
    });
  });

  it("GET /api/v1/models lists every documented model", async () => {
    const answer = await get("/api/v1/models", newKey());
    expect(answer.status).toBe(200);
    const { data } = modelsResponse.parse(answer.json);
    expect(data.image_models.map((m) => m.id)).toEqual([...imageModelIds]);
    expect(data.video_models.map((m) => m.id)).toEqual([...videoModelIds]);
    expect(data.image_models[0]).toMatchObject({
      id: "nano-banana",
      name: "Nano Banana",
      is_default: true,
    });
    expect(data.image_models[1]).toEqual(
      expect.not.objectContaining({ is_default: expect.anything() }),
    );
    expect(data.video_models.find((m) => m.is_default)?.id).toBe("veo-3.1-fast");
    expect(data.video_models.map((m) => m.name)).toEqual([
      "VEO 3.1 Fast",
      "VEO 3.1",
      "Seedance 1.5 Fast",
      "Seedance 1.5 Pro",
      "Seedance 2.0",
      "Wan 2.5",
      "Sora 2",
      "Sora 2 Pro",
      "Kling O3",
      "Kling O3 Pro",
      "Grok Video",
    ]);
    expect(data.video_models.find((m) => m.id === "sora-2")).toMatchObject({
      resolutions: ["720p"],
      aspect_ratios: ["16:9", "9:16"],
      durations: [4, 8, 12],
      audio: "always",
      image_input: true,
    });
  });
});

describe("calculate-cost equals what the matching create charges", () => {
  const images: Record<string, unknown>[] = [
    { model: "nano-banana" },
    { model: "nano-banana", mode: "image", image_url: "https://x.example/a.png", num_images: 3 },
    { model: "nano-banana-pro", resolution: "4K", quality: "hd", num_images: 2 },
    {
      model: "nano-banana-2",
      mode: "image",
      image_url: "https://x.example/a.png",
      resolution: "2K",
    },
    { model: "nano-banana-2", resolution: "4K", num_images: 4, output_format: "jpeg" },
    { model: "seedream4", quality: "hd", aspect_ratio: "9:16" },
  ];
  const videos: Record<string, unknown>[] = [
    { model_id: "veo-3.1-fast", resolution: "1080p", duration: 6, generate_audio: true },
    { model_id: "veo-3.1", resolution: "1080p", duration: 8, generate_audio: true },
    { model_id: "seedance-1.5-fast", resolution: "1080p", duration: 12 },
    { model_id: "seedance-1.5", duration: 8, generate_audio: true },
    { model_id: "seedance-2.0", resolution: "480p", duration: 15, aspect_ratio: "4:3" },
    { model_id: "wan-2.5", resolution: "1080p", duration: 10 },
    { model_id: "sora-2", duration: 12, generate_audio: false },
    { model_id: "sora-2-pro", resolution: "1080p", duration: 4 },
    { model_id: "kling-o3-std", duration: 10, generate_audio: true, aspect_ratio: "1:1" },
    { model_id: "kling-o3-pro", duration: 5 },
    { model_id: "grok-video", resolution: "480p", duration: 6 },
  ];
  const expected: Record<string, number> = {
    "nano-banana": 1,
    "nano-banana/image×3": 6,
    "nano-banana-pro": 44,
    "nano-banana-2/image": 12,
    "nano-banana-2": 72,
    seedream4: 6,
    "veo-3.1-fast": 25,
    "veo-3.1": 70,
    "seedance-1.5-fast": 24,
    "seedance-1.5": 24,
    "seedance-2.0": 30,
    "wan-2.5": 30,
    "sora-2": 36,
    "sora-2-pro": 48,
    "kling-o3-std": 30,
    "kling-o3-pro": 15,
    "grok-video": 6,
  };
  const nameOf = (request: Record<string, unknown>) =>
    `${request.model ?? request.model_id}${request.mode === "image" ? "/image" : ""}${
      request.num_images === 3 ? "×3" : ""
    }`;

  for (const [type, requests] of [
    ["image", images],
    ["video", videos],
  ] as const) {
    for (const request of requests) {
      it(`${type} ${nameOf(request)} → ${expected[nameOf(request)]}`, async () => {
        const key = newKey();
        const quoted = await post("/api/v1/account/calculate-cost", key, { type, ...request });
        expect(quoted.status).toBe(200);
        const needed = calculateCostResponse.parse(quoted.json).data.credits_needed;
        expect(needed).toBe(expected[nameOf(request)]);
        const created = await post(`/api/v1/${type}s/generate`, key, { prompt: "p", ...request });
        expect(created.status).toBe(200);
        const data = (type === "image" ? imageGenerateResponse : videoGenerateResponse).parse(
          created.json,
        ).data;
        expect(data.credits_used).toBe(needed);
        expect(data.credits_remaining).toBe(INITIAL_CREDITS - needed);
      });
    }
  }
});

describe("60 requests per minute per API key", () => {
  it("refuses the 61st request within a minute with 429 and Retry-After; other keys go on", async () => {
    const key = newKey();
    const other = newKey();
    // Every endpoint counts, status polls included.
    const created = imageGenerateResponse.parse(
      (await post("/api/v1/images/generate", key, { prompt: "p" })).json,
    );
    for (let i = 1; i < 60; i++) {
      clockMs += 500;
      const path =
        i % 3 === 0
          ? `/api/v1/images/status?task_id=${created.data.task_id}`
          : i % 3 === 1
            ? "/api/v1/account/credits"
            : "/api/v1/models";
      expect((await get(path, key)).status).toBe(200);
    }
    // The first request was 29.5 s ago: its slot frees in 30.5 s.
    const refused = await get(`/api/v1/images/status?task_id=${created.data.task_id}`, key);
    expectError(refused, 429, "RATE_LIMIT_EXCEEDED");
    expect(refused.headers.get("retry-after")).toBe("31");
    expectError(
      await post("/api/v1/images/generate", key, { prompt: "p" }),
      429,
      "RATE_LIMIT_EXCEEDED",
    );

    expect((await get("/api/v1/models", other)).status).toBe(200);

    clockMs += 30_000;
    expectError(await get("/api/v1/models", key), 429, "RATE_LIMIT_EXCEEDED");
    clockMs += 500;
    // The first request has left the window; the refused ones were never counted.
    expect((await get("/api/v1/models", key)).status).toBe(200);
    const full = await get("/api/v1/models", key);
    expectError(full, 429, "RATE_LIMIT_EXCEEDED");
    expect(full.headers.get("retry-after")).toBe("1");
  });

  it("the client reads the 429 as retry after the asked delay", async () => {
    const key = newKey();
    nanobanana.settings.requestsPerMinute = 1;
    const client = createNanobananaClient({ baseUrl: nanobanana.apiUrl, apiKey: key });
    const { providerTaskId } = await client.submit({
      taskId: "task_1",
      upstreamModel: "nano-banana",
      input: { prompt: "p" },
      callbackUrl: null,
    });
    clockMs += 20_000;
    const error = await client.status(providerTaskId, "nano-banana").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).options).toMatchObject({
      kind: "retry",
      status: 429,
      code: "RATE_LIMIT_EXCEEDED",
      retryAfterMs: 40_000,
    });
  });
});

describe("the client, driving the simulator end to end", () => {
  async function pollUntilDone(
    client: ReturnType<typeof createNanobananaClient>,
    providerTaskId: string,
    model: string,
  ): Promise<ProviderTaskState[]> {
    const seen: ProviderTaskState[] = [];
    for (let i = 0; i < 10; i++) {
      const state = await client.status(providerTaskId, model);
      seen.push(state);
      if (state.state === "succeeded" || state.state === "failed") return seen;
      clockMs += GENERATION_MS / 4;
    }
    throw new Error("the task never ended");
  }

  it("an image task: submit, pending → running → succeeded, every image fetchable", async () => {
    const client = createNanobananaClient({ baseUrl: nanobanana.apiUrl, apiKey: newKey() });
    const { providerTaskId } = await client.submit({
      taskId: "task_1",
      upstreamModel: "nano-banana-pro",
      input: { prompt: "A cute cat", resolution: "2K", num_images: 2, output_format: "jpeg" },
      callbackUrl: null,
    });
    const states = await pollUntilDone(client, providerTaskId, "nano-banana-pro");
    expect(states.map((s) => s.state)).toEqual([
      "pending",
      "pending",
      "running",
      "running",
      "succeeded",
    ]);
    const done = states.at(-1)!;
    if (done.state !== "succeeded") throw new Error("not succeeded");
    expect(done.output.urls).toHaveLength(2);
    expect(done.output.metadata).toMatchObject({
      model: "nano-banana-pro",
      taskId: providerTaskId,
    });
    for (const url of done.output.urls) {
      const file = await fetch(url);
      expect(file.status).toBe(200);
      expect(file.headers.get("content-type")).toBe("image/jpeg");
      expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
  });

  it("a video task: its result is an MP4 served as video/mp4", async () => {
    const client = createNanobananaClient({ baseUrl: nanobanana.apiUrl, apiKey: newKey() });
    const { providerTaskId } = await client.submit({
      taskId: "task_2",
      upstreamModel: "seedance-2.0",
      input: { prompt: "A cat walking in a garden", aspect_ratio: "4:3", duration: 5 },
      callbackUrl: null,
    });
    const states = await pollUntilDone(client, providerTaskId, "seedance-2.0");
    expect(states.map((s) => s.state)).toEqual([
      "running",
      "running",
      "running",
      "running",
      "succeeded",
    ]);
    const done = states.at(-1)!;
    if (done.state !== "succeeded") throw new Error("not succeeded");
    const [url] = done.output.urls;
    expect(url).toBe(`${nanobanana.baseUrl}/files/${providerTaskId}.mp4`);
    const file = await fetch(url!);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("video/mp4");
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(bytes.subarray(4, 8).toString("latin1")).toBe("ftyp");
  });

  it("a failed task reads failed with a message, fails over, and is refunded", async () => {
    nanobanana.setFaults({ failureRate: 1 });
    const key = newKey();
    const client = createNanobananaClient({ baseUrl: nanobanana.apiUrl, apiKey: key });
    const { providerTaskId } = await client.submit({
      taskId: "task_3",
      upstreamModel: "kling-o3-pro",
      input: { prompt: "p", duration: 10 },
      callbackUrl: null,
    });
    expect(
      creditsResponse.parse((await get("/api/v1/account/credits", key)).json).data.credits,
    ).toBe(970);
    const states = await pollUntilDone(client, providerTaskId, "kling-o3-pro");
    expect(states.at(-1)).toEqual({
      state: "failed",
      errorCode: "INTERNAL_ERROR",
      errorMessage: "Generation failed, please retry.",
      kind: "failover",
    });
    const answer = await get(`/api/v1/videos/status?task_id=${providerTaskId}`, key);
    expect(videoStatusResponse.parse(answer.json).data).toMatchObject({
      status: "failed",
      progress: 100,
      error: "Generation failed, please retry.",
      error_code: "INTERNAL_ERROR",
    });
    expect(
      creditsResponse.parse((await get("/api/v1/account/credits", key)).json).data.credits,
    ).toBe(INITIAL_CREDITS);
  });

  it("a task the upstream does not know, or asked at the other endpoint, is not_found", async () => {
    const client = createNanobananaClient({ baseUrl: nanobanana.apiUrl, apiKey: newKey() });
    expect(await client.status("clx_nothing", "nano-banana")).toEqual({ state: "not_found" });
    const { providerTaskId } = await client.submit({
      taskId: "task_4",
      upstreamModel: "nano-banana",
      input: { prompt: "p" },
      callbackUrl: null,
    });
    expect(await client.status(providerTaskId, "veo-3.1")).toEqual({ state: "not_found" });
    // Another key's task is not found either.
    const stranger = createNanobananaClient({ baseUrl: nanobanana.apiUrl, apiKey: newKey() });
    expect(await stranger.status(providerTaskId, "nano-banana")).toEqual({ state: "not_found" });
  });
});

describe("faults and refusals, in the dialect's envelope", () => {
  const submitWith = (key: string, upstreamModel = "nano-banana") =>
    createNanobananaClient({ baseUrl: nanobanana.apiUrl, apiKey: key })
      .submit({ taskId: "t", upstreamModel, input: { prompt: "p" }, callbackUrl: null })
      .catch((e: unknown) => e as ProviderError);

  it("content filtered: 451 CONTENT_FILTERED, nothing charged, the task fails", async () => {
    nanobanana.setFaults({ contentFilterRate: 1 });
    const key = newKey();
    const answer = await post("/api/v1/images/generate", key, { prompt: "p" });
    expectError(answer, 451, "CONTENT_FILTERED");
    const error = await submitWith(key);
    expect((error as ProviderError).options).toMatchObject({
      kind: "fail",
      status: 451,
      code: "CONTENT_FILTERED",
    });
    nanobanana.setFaults({});
    expect(
      creditsResponse.parse((await get("/api/v1/account/credits", key)).json).data.credits,
    ).toBe(INITIAL_CREDITS);
  });

  it("an injected 429 carries Retry-After; an injected 5xx is the documented 500", async () => {
    nanobanana.setFaults({ rate429: 1, retryAfterSeconds: 9 });
    const limited = await submitWith(newKey());
    expect((limited as ProviderError).options).toMatchObject({
      kind: "retry",
      status: 429,
      code: "RATE_LIMIT_EXCEEDED",
      retryAfterMs: 9_000,
    });
    nanobanana.setFaults({ submitFailureRate: 1 });
    const failed = await submitWith(newKey());
    expect((failed as ProviderError).options).toMatchObject({
      kind: "retry",
      status: 500,
      code: "INTERNAL_ERROR",
    });
  });

  it("insufficient credits: 402, the circuit opens", async () => {
    nanobanana.sandbox.configure({ initialCredits: 3 });
    const key = newKey();
    expectError(
      await post("/api/v1/videos/generate", key, { prompt: "p" }),
      402,
      "INSUFFICIENT_CREDITS",
    );
    expect(((await submitWith(key, "seedream4")) as ProviderError).kind).toBe("circuit");
    expect((await post("/api/v1/images/generate", key, { prompt: "p" })).status).toBe(200);
  });

  it("keys: foreign 401, disabled 403, no subscription 403 on the models that require one", async () => {
    expectError(await get("/api/v1/models", null), 401, "UNAUTHORIZED");
    expectError(await get("/api/v1/models", "sk-not-ours"), 401, "UNAUTHORIZED");
    expectError(await get("/api/v1/models", newKey("disabled")), 403, "FORBIDDEN");
    const free = newKey("free");
    for (const model of ["nano-banana-2", "seedream4"]) {
      expectError(
        await post("/api/v1/images/generate", free, { prompt: "p", model }),
        403,
        "FORBIDDEN",
      );
    }
    expect((await post("/api/v1/images/generate", free, { prompt: "p" })).status).toBe(200);
    expect(((await submitWith(free, "seedream4")) as ProviderError).kind).toBe("circuit");
  });

  it("bad input: the documented codes, nothing charged", async () => {
    const key = newKey();
    expectError(await post("/api/v1/images/generate", key, { prompt: "" }), 400, "INVALID_PROMPT");
    expectError(
      await post("/api/v1/videos/generate", key, { prompt: "p", model_id: "veo-4" }),
      400,
      "INVALID_MODEL",
    );
    expectError(
      await post("/api/v1/videos/generate", key, {
        prompt: "p",
        model_id: "wan-2.5",
        generate_audio: true,
      }),
      400,
      "INVALID_REQUEST",
    );
    expectError(await get("/api/v1/videos/status?task_id=nope", key), 404, "TASK_NOT_FOUND");
    expectError(await get("/api/v1/tasks", key), 404, "NOT_FOUND");
    expect(
      creditsResponse.parse((await get("/api/v1/account/credits", key)).json).data.credits,
    ).toBe(INITIAL_CREDITS);
  });
});

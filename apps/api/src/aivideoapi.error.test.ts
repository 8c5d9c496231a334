import { gzipSync } from "node:zlib";
import { DomainError } from "@ripen/core";
import { tasks } from "@ripen/db";
import { toWireError } from "@ripen/dialect-aivideoapi";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let key: string;

// Validation needs no upstream work: the worker stays off, so nothing changes under the test.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ apiKey: key } = await stack.createAccount(100_000));
});
afterAll(() => stack?.close());

const create = (body: unknown) => stack.request("POST", "/v1/images/generations", { key, body });
const url = (i: number) => `https://example.com/photo-${i}.jpg`;
const urls = (n: number) => Array.from({ length: n }, (_, i) => url(i));
const taskCount = async () => (await stack.db.db.select({ n: count() }).from(tasks))[0]!.n;

function expectError(
  res: { status: number; body: any },
  status: number,
  code: string,
  type: string,
) {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String), type } });
  expect(res.body.error.message.length).toBeGreaterThan(5);
}

describe("documented validation limits", () => {
  const invalid: Array<[string, unknown, RegExp]> = [
    ["model missing", { input: { prompt: "x" } }, /'model' is required/],
    ["model not a string", { model: 7, input: { prompt: "x" } }, /'model'/],
    ["input missing", { model: "nano-banana-2" }, /'input' is required/],
    ["input not an object", { model: "nano-banana-2", input: "a cat" }, /'input'/],
    ["prompt missing", { model: "nano-banana-2", input: {} }, /'input.prompt' is required/],
    ["prompt empty", { model: "nano-banana-2", input: { prompt: "   " } }, /'input.prompt'/],
    ["prompt not a string", { model: "nano-banana-2", input: { prompt: 42 } }, /'input.prompt'/],
    [
      "prompt over 20,000 characters",
      { model: "nano-banana-2", input: { prompt: "a".repeat(20_001) } },
      /20000/,
    ],
    [
      "resolution 8K",
      { model: "nano-banana-2", input: { prompt: "x", resolution: "8K" } },
      /'input.resolution'/,
    ],
    [
      "resolution lower-case",
      { model: "nano-banana-2", input: { prompt: "x", resolution: "1k" } },
      /'input.resolution'/,
    ],
    ["lite at 2K", { model: "nano-banana-2-lite", input: { prompt: "x", resolution: "2K" } }, /1K/],
    ["lite at 4K", { model: "nano-banana-2-lite", input: { prompt: "x", resolution: "4K" } }, /1K/],
    [
      "aspect ratio 7:5",
      { model: "nano-banana-2", input: { prompt: "x", aspect_ratio: "7:5" } },
      /'input.aspect_ratio'/,
    ],
    [
      "output_format webp",
      { model: "nano-banana-2", input: { prompt: "x", output_format: "webp" } },
      /jpg, png/,
    ],
    [
      "output_format on lite",
      { model: "nano-banana-2-lite", input: { prompt: "x", output_format: "png" } },
      /not supported/,
    ],
    [
      "15 image_urls",
      { model: "nano-banana-2", input: { prompt: "x", image_urls: urls(15) } },
      /at most 14/,
    ],
    [
      "11 image_urls on lite",
      { model: "nano-banana-2-lite", input: { prompt: "x", image_urls: urls(11) } },
      /at most 10/,
    ],
    [
      "image_urls not an array",
      { model: "nano-banana-2", input: { prompt: "x", image_urls: url(1) } },
      /'input.image_urls'/,
    ],
    [
      "image_url not a URL",
      { model: "nano-banana-2", input: { prompt: "x", image_urls: ["photo.jpg"] } },
      /'input.image_urls.0'/,
    ],
    [
      "image_url not http",
      { model: "nano-banana-2", input: { prompt: "x", image_urls: ["file:///etc/passwd"] } },
      /http/,
    ],
    [
      "unknown input field",
      { model: "nano-banana-2", input: { prompt: "x", seed: 3 } },
      /'input.seed' is not a recognized field/,
    ],
    [
      "unknown top-level field",
      { model: "nano-banana-2", input: { prompt: "x" }, webhook: "x" },
      /'webhook'/,
    ],
    [
      "callback_url not a URL",
      { model: "nano-banana-2", input: { prompt: "x" }, callback_url: "nope" },
      /'callback_url'/,
    ],
    ["body is an array", [{ model: "nano-banana-2" }], /JSON object/],
    ["body is null", null, /JSON object/],
  ];

  it.each(invalid)("400 invalid_request: %s", async (_name, body, message) => {
    const before = await taskCount();
    const res = await create(body);
    expectError(res, 400, "invalid_request", "invalid_request_error");
    expect(res.body.error.message).toMatch(message);
    expect(await taskCount()).toBe(before);
  });

  it("404 model_not_found for an unknown model", async () => {
    const res = await create({ model: "nano-banana-3", input: { prompt: "x" } });
    expectError(res, 404, "model_not_found", "invalid_request_error");
    expect(res.body.error.message).toContain("nano-banana-3");
  });

  it("400 for a malformed JSON body", async () => {
    const res = await stack.request("POST", "/v1/images/generations", {
      key,
      rawBody: '{"model": "nano-banana-2", ',
    });
    expectError(res, 400, "invalid_request", "invalid_request_error");
    expect(res.body.error.message).toMatch(/not valid JSON/);
  });

  it("400 for an oversized body, not a 500", async () => {
    const res = await create({
      model: "nano-banana-2",
      input: { prompt: "x".repeat(2 * 1024 * 1024) },
    });
    expectError(res, 400, "invalid_request", "invalid_request_error");
    expect(res.body.error.message).toMatch(/larger than/);
  });

  it("accepts each documented boundary", async () => {
    const ok = [
      { model: "nano-banana-2", input: { prompt: "a".repeat(20_000) } },
      {
        model: "nano-banana-2",
        input: { prompt: "x", image_urls: urls(14), resolution: "4K", output_format: "png" },
      },
      {
        model: "nano-banana-2-lite",
        input: { prompt: "x", image_urls: urls(10), resolution: "1K" },
      },
      {
        model: "nano-banana-2",
        input: { prompt: "x" },
        callback_url: "https://client.example/hook",
      },
      // 20,000 characters, not UTF-16 units: astral characters count once.
      { model: "nano-banana-2", input: { prompt: "😀".repeat(20_000) } },
    ];
    for (const body of ok) {
      const res = await create(body);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual({
        code: 200,
        msg: "success",
        data: { taskId: expect.stringMatching(/^task_/) },
      });
    }
  });

  it("accepts all 15 documented aspect ratios", async () => {
    const ratios = [
      "1:1",
      "2:3",
      "3:2",
      "3:4",
      "4:3",
      "4:5",
      "5:4",
      "9:16",
      "16:9",
      "21:9",
      "1:4",
      "4:1",
      "1:8",
      "8:1",
      "auto",
    ];
    for (const aspect_ratio of ratios) {
      const res = await create({
        model: "nano-banana-2-lite",
        input: { prompt: "x", aspect_ratio },
      });
      expect(res.status, aspect_ratio).toBe(200);
    }
  });

  it("fills the documented defaults: 1K, auto, jpg (and one standard image)", async () => {
    const res = await create({ model: "nano-banana-2", input: { prompt: "defaults" } });
    const [task] = await stack.db.db.select().from(tasks).where(eq(tasks.id, res.body.data.taskId));
    expect(task?.input).toEqual({
      prompt: "defaults",
      resolution: "1K",
      aspect_ratio: "auto",
      output_format: "jpg",
      num_images: 1,
      quality: "standard",
    });
    expect(task?.price).toBe(16);
  });
});

describe("the other models' inputs, and the video endpoint", () => {
  const createVideo = (body: unknown) =>
    stack.request("POST", "/v1/videos/generations", { key, body });
  const video = (model: string, input: Record<string, unknown>) => ({
    model,
    input: { prompt: "a cat running", ...input },
  });
  const invalidVideos: Array<[string, unknown, RegExp]> = [
    ["a duration veo does not offer", video("veo-3.1", { duration: 7 }), /4, 6, 8/],
    ["a resolution sora-2 does not offer", video("sora-2", { resolution: "1080p" }), /720p/],
    ["an aspect ratio wan-2.5 does not offer", video("wan-2.5", { aspect_ratio: "1:1" }), /16:9/],
    ["audio on a silent model", video("grok-video", { generate_audio: true }), /no audio/],
    [
      "audio off on an always-audio model",
      video("sora-2-pro", { generate_audio: false }),
      /always/,
    ],
    ["a duration as text", video("veo-3.1-fast", { duration: "8" }), /'input.duration'/],
    ["an image model", { model: "nano-banana-2", input: { prompt: "x" } }, /POST \/v1\/images/],
    ["an unknown field", video("kling-o3-pro", { fps: 24 }), /'input.fps' is not a recognized/],
  ];
  it.each(invalidVideos)("400 invalid_request: %s", async (_name, body, message) => {
    const before = await taskCount();
    const res = await createVideo(body);
    expectError(res, 400, "invalid_request", "invalid_request_error");
    expect(res.body.error.message).toMatch(message);
    expect(await taskCount()).toBe(before);
  });

  it("400 for a video model sent to the image endpoint, naming the right one", async () => {
    const res = await create({ model: "veo-3.1", input: { prompt: "x" } });
    expectError(res, 400, "invalid_request", "invalid_request_error");
    expect(res.body.error.message).toContain("POST /v1/videos/generations");
  });

  it("404 model_not_found for an unknown video model", async () => {
    expectError(
      await createVideo(video("veo-4", {})),
      404,
      "model_not_found",
      "invalid_request_error",
    );
  });

  it.each([
    ["nano-banana", { num_images: 5 }, /1 to 4/],
    ["nano-banana", { quality: "ultra" }, /standard, hd/],
    ["nano-banana-edit", {}, /'input.image_urls' is required/],
    ["nano-banana-pro", { image_urls: urls(9) }, /at most 8/],
    ["seedream4", { aspect_ratio: "21:9" }, /'input.aspect_ratio'/],
  ])("400 invalid_request: %s with %j", async (model, input, message) => {
    const res = await create({ model, input: { prompt: "x", ...input } });
    expectError(res, 400, "invalid_request", "invalid_request_error");
    expect(res.body.error.message).toMatch(message);
  });

  it("prices a video as document 001 does, and holds it", async () => {
    const res = await createVideo(video("veo-3.1-fast", { duration: 8, generate_audio: true }));
    expect(res.status).toBe(200);
    const [task] = await stack.db.db.select().from(tasks).where(eq(tasks.id, res.body.data.taskId));
    expect(task).toMatchObject({ model: "veo-3.1-fast", price: 30, status: "queued" });
    expect(task!.input).toEqual({
      prompt: "a cat running",
      duration: 8,
      resolution: "720p",
      aspect_ratio: "16:9",
      generate_audio: true,
    });
  });
});

describe("authentication and ownership", () => {
  it("401 invalid_api_key without a key, with a malformed one, or an unknown one", async () => {
    for (const presented of [undefined, "not-a-key", "sk-unknown0000000000000000"]) {
      const res = await stack.request("POST", "/v1/images/generations", {
        key: presented,
        body: { model: "nano-banana-2", input: { prompt: "x" } },
      });
      expectError(res, 401, "invalid_api_key", "authentication_error");
    }
    expectError(
      await stack.request("GET", "/v1/credits"),
      401,
      "invalid_api_key",
      "authentication_error",
    );
  });

  it("404 task_not_found for a missing task and for another account's task", async () => {
    expectError(
      await stack.request("GET", "/v1/tasks/task_nope", { key }),
      404,
      "task_not_found",
      "invalid_request_error",
    );
    const mine = await create({ model: "nano-banana-2", input: { prompt: "mine" } });
    const other = await stack.createAccount(10);
    const res = await stack.request("GET", `/v1/tasks/${mine.body.data.taskId}`, {
      key: other.apiKey,
    });
    expectError(res, 404, "task_not_found", "invalid_request_error");
  });

  it("402 insufficient_credits holds nothing and writes no task", async () => {
    const poor = await stack.createAccount(15);
    const before = await taskCount();
    const res = await stack.request("POST", "/v1/images/generations", {
      key: poor.apiKey,
      body: { model: "nano-banana-2", input: { prompt: "x" } },
    });
    expectError(res, 402, "insufficient_credits", "billing_error");
    expect(await taskCount()).toBe(before);
    const credits = await stack.request("GET", "/v1/credits", { key: poor.apiKey });
    expect(credits.body).toEqual({
      code: 200,
      msg: "success",
      data: { credits: 15, balance: 15, held: 0 },
    });
    // The cheaper lite model still fits.
    const lite = await stack.request("POST", "/v1/images/generations", {
      key: poor.apiKey,
      body: { model: "nano-banana-2-lite", input: { prompt: "x" } },
    });
    expect(lite.status).toBe(200);
  });

  it("answers unknown routes in the dialect's envelope", async () => {
    const res = await stack.request("GET", "/v1/nothing-here", { key });
    expectError(res, 404, "invalid_request", "invalid_request_error");
  });

  it("reads a new task as pending with the documented fields", async () => {
    const created = await create({ model: "nano-banana-2", input: { prompt: "x" } });
    const res = await stack.request("GET", `/v1/tasks/${created.body.data.taskId}`, { key });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: created.body.data.taskId,
      status: "pending",
      model: "nano-banana-2",
      created_at: expect.any(Number),
    });
  });
});

/** A request exactly as given: raw path, raw bytes, any headers. */
async function rawRequest(
  method: string,
  path: string,
  options: { body?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...options.headers },
    body: options.body,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : text,
  };
}

describe("hostile input found by fuzzing", () => {
  it.each(["__proto__", "toString", "constructor", "hasOwnProperty", "valueOf"])(
    "404 model_not_found for the prototype name %s",
    async (model) => {
      const before = await taskCount();
      const res = await create({ model, input: { prompt: "x" } });
      expectError(res, 404, "model_not_found", "invalid_request_error");
      expect(await taskCount()).toBe(before);
    },
  );

  it("maps a domain error whose code is a prototype name to a 500 envelope, not a crash", () => {
    class Odd extends DomainError {
      readonly code = "toString";
    }
    const { status, body, unexpected } = toWireError(new Odd("odd"));
    expect(status).toBe(500);
    expect(body.error.code).toBe("internal_error");
    expect(unexpected).toBe(true);
  });

  const unstorable: Array<[string, unknown, string]> = [
    ["NUL in the prompt", { input: { prompt: "a\u0000b" } }, "input.prompt"],
    ["a lone high surrogate in the prompt", { input: { prompt: "a\ud800" } }, "input.prompt"],
    ["a lone low surrogate in the prompt", { input: { prompt: "\udc00b" } }, "input.prompt"],
    [
      "NUL in an image URL",
      { input: { prompt: "x", image_urls: [url(0), "https://example.com/a\u0000.jpg"] } },
      "input.image_urls.1",
    ],
    [
      "a lone surrogate in an image URL",
      { input: { prompt: "x", image_urls: ["https://example.com/\ud83d.jpg"] } },
      "input.image_urls.0",
    ],
    [
      "NUL in callback_url",
      { input: { prompt: "x" }, callback_url: "https://client.example/\u0000" },
      "callback_url",
    ],
    [
      "a lone surrogate in callback_url",
      { input: { prompt: "x" }, callback_url: "https://client.example/\udfff" },
      "callback_url",
    ],
  ];

  it.each(unstorable)(
    "400 naming the field for %s; nothing written",
    async (_name, body, field) => {
      const before = await taskCount();
      const res = await create({ model: "nano-banana-2", ...(body as object) });
      expectError(res, 400, "invalid_request", "invalid_request_error");
      expect(res.body.error.message).toContain(`'${field}'`);
      expect(await taskCount()).toBe(before);
    },
  );

  it("404 task_not_found for a malformed task id, without a database lookup", async () => {
    let acquired = 0;
    const onAcquire = () => acquired++;
    stack.db.pool.on("acquire", onAcquire);
    try {
      const lookups = async (path: string) => {
        acquired = 0;
        const res = await rawRequest("GET", path);
        return { res, lookups: acquired };
      };
      // Authentication is the only database work an unroutable request does.
      const { lookups: authOnly } = await lookups("/v1/nothing-here");
      const real = (await create({ model: "nano-banana-2", input: { prompt: "x" } })).body.data
        .taskId as string;
      const malformed = [
        "task_nope",
        "%00",
        "task_%00",
        `${real}%00`,
        real.toUpperCase(),
        `${real}0`,
        real.slice(0, -1),
        `task_${"i".repeat(26)}`,
        "__proto__",
        "constructor",
        encodeURIComponent("task_😀"),
      ];
      for (const id of malformed) {
        const { res, lookups: n } = await lookups(`/v1/tasks/${id}`);
        expectError(res, 404, "task_not_found", "invalid_request_error");
        expect(n, id).toBe(authOnly);
      }
      expect((await rawRequest("GET", `/v1/tasks/${real}`)).status).toBe(200);
    } finally {
      stack.db.pool.off("acquire", onAcquire);
    }
  });

  it.each(["%E0%A4%A", "%", "%ZZ", "task_%ED%A0%80", "%C0%80"])(
    "400 for the malformed percent-encoding /v1/tasks/%s",
    async (id) => {
      const res = await rawRequest("GET", `/v1/tasks/${id}`);
      expectError(res, 400, "invalid_request", "invalid_request_error");
    },
  );

  describe("gzip bodies", () => {
    const json = JSON.stringify({ model: "nano-banana-2", input: { prompt: "gzip" } });
    const gzip = { "content-type": "application/json", "content-encoding": "gzip" };

    it("accepts a well-formed gzip body", async () => {
      const res = await rawRequest("POST", "/v1/images/generations", {
        headers: gzip,
        body: gzipSync(json),
      });
      expect(res.status).toBe(200);
    });

    it.each([
      ["bytes that are not gzip", new TextEncoder().encode(json)],
      ["a truncated gzip stream", gzipSync(json).subarray(0, 20)],
      ["a gzip stream with a corrupted body", corrupt(gzipSync(json))],
    ])("400 for %s", async (_name, body) => {
      const before = await taskCount();
      const res = await rawRequest("POST", "/v1/images/generations", { headers: gzip, body });
      expectError(res, 400, "invalid_request", "invalid_request_error");
      expect(await taskCount()).toBe(before);
    });
  });

  it.each(["__proto__", "constructor", "toString"])(
    "400 'input.%s' is not a recognized field",
    async (name) => {
      const before = await taskCount();
      const res = await rawRequest("POST", "/v1/images/generations", {
        headers: { "content-type": "application/json" },
        // Written out: an object literal's __proto__ would set the prototype, not a key.
        body: `{"model":"nano-banana-2","input":{"prompt":"x","${name}":{"seed":1}}}`,
      });
      expectError(res, 400, "invalid_request", "invalid_request_error");
      expect(res.body.error.message).toBe(`'input.${name}' is not a recognized field.`);
      expect(await taskCount()).toBe(before);
    },
  );

  it("400 '__proto__' is not a recognized field at the top level", async () => {
    const res = await rawRequest("POST", "/v1/images/generations", {
      headers: { "content-type": "application/json" },
      body: '{"model":"nano-banana-2","input":{"prompt":"x"},"__proto__":{"a":1}}',
    });
    expectError(res, 400, "invalid_request", "invalid_request_error");
    expect(res.body.error.message).toBe("'__proto__' is not a recognized field.");
  });

  describe("URLs are at most 2,048 characters", () => {
    const longUrl = (length: number) => {
      const base = "https://example.com/";
      return base + "a".repeat(length - base.length);
    };

    it("accepts 2,048", async () => {
      const res = await create({
        model: "nano-banana-2",
        input: { prompt: "x", image_urls: [longUrl(2048)] },
        callback_url: longUrl(2048),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    });

    it.each([
      ["an image URL of 2,049", { input: { prompt: "x", image_urls: [longUrl(2049)] } }],
      ["an image URL of 100,000", { input: { prompt: "x", image_urls: [longUrl(100_000)] } }],
      ["a callback_url of 2,049", { input: { prompt: "x" }, callback_url: longUrl(2049) }],
      ["a callback_url of 100,000", { input: { prompt: "x" }, callback_url: longUrl(100_000) }],
    ])("rejects %s", async (_name, body) => {
      const before = await taskCount();
      const res = await create({ model: "nano-banana-2", ...body });
      expectError(res, 400, "invalid_request", "invalid_request_error");
      expect(res.body.error.message).toMatch(/^'(input\.image_urls\.0|callback_url)' .*2048/);
      expect(await taskCount()).toBe(before);
    });
  });
});

/** Flips bytes in the deflate data, keeping the gzip header intact. */
function corrupt(gzip: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(gzip);
  for (let i = 12; i < copy.length - 8; i += 3) copy[i] = copy[i]! ^ 0xa5;
  return copy;
}

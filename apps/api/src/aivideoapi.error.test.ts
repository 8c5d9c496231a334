import { tasks } from "@ripen/db";
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

  it("fills the documented defaults: 1K, auto, jpg", async () => {
    const res = await create({ model: "nano-banana-2", input: { prompt: "defaults" } });
    const [task] = await stack.db.db.select().from(tasks).where(eq(tasks.id, res.body.data.taskId));
    expect(task?.input).toEqual({
      prompt: "defaults",
      resolution: "1K",
      aspect_ratio: "auto",
      output_format: "jpg",
    });
    expect(task?.price).toBe(16);
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

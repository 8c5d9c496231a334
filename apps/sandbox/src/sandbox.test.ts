import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { decode as decodeJpeg } from "jpeg-js";
import { PNG } from "pngjs";
import { afterEach, describe, expect, it } from "vitest";
import { createSandbox, type SandboxOptions, type StartedSandbox, startSandbox } from "./index";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PNG_SIGNATURE = "89504e470d0a1a0a";
const JPEG_SIGNATURE = "ffd8ff";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function start(options: SandboxOptions = {}): Promise<StartedSandbox> {
  const started = await startSandbox({ port: 0, host: "127.0.0.1", generationMs: 30, ...options });
  cleanups.push(() => started.close());
  return started;
}

/** A clock the test moves by hand; starts on a whole second so unix-second fields are exact. */
function manualClock(startMs = 1_775_383_908_000) {
  let current = startMs;
  return {
    now: () => current,
    advance: (ms: number) => {
      current += ms;
    },
  };
}

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

async function call(
  base: string,
  method: string,
  path: string,
  options: { key?: string | null; body?: unknown } = {},
): Promise<Reply> {
  const key = options.key === undefined ? "sk-test" : options.key;
  const response = await fetch(`${base}/aivideoapi${path}`, {
    method,
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}

async function createTask(
  base: string,
  body: Record<string, unknown>,
  key = "sk-test",
): Promise<string> {
  const res = await call(base, "POST", "/v1/images/generations", { key, body });
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    code: 200,
    msg: "success",
    data: { taskId: expect.stringMatching(UUID) },
  });
  return res.body.data.taskId;
}

/** What a provider that was never called counts. */
const NO_CALLS = {
  created: 0,
  submitCalls: 0,
  statusCalls: 0,
  callbacksSent: 0,
  callbacksLost: 0,
  faults: {},
};

type ProviderId = "aivideoapi" | "nanobanana" | "kie" | "revid";

/** A minimal create at one of the default providers, in its dialect. */
async function createAt(base: string, provider: ProviderId): Promise<Reply> {
  const request = {
    aivideoapi: {
      path: "/v1/images/generations",
      headers: { authorization: "Bearer sk-test" },
      body: { model: "nano-banana-2", input: { prompt: "a" } },
    },
    nanobanana: {
      path: "/api/v1/images/generate",
      headers: { authorization: "Bearer nb_sk_test" },
      body: { prompt: "a" },
    },
    kie: {
      path: "/api/v1/jobs/createTask",
      headers: { authorization: "Bearer kie-test" },
      body: { model: "nano-banana-2-text-to-image", input: { prompt: "a" } },
    },
    revid: {
      path: "/paid/nano/banana/create",
      headers: { "x-api-key": "revid-test" },
      body: { model: "google/nano-banana", input: { prompt: "a" } },
    },
  }[provider];
  const response = await fetch(`${base}/${provider}${request.path}`, {
    method: "POST",
    headers: { ...request.headers, "content-type": "application/json" },
    body: JSON.stringify(request.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}

const credits = async (base: string, key = "sk-test") =>
  (await call(base, "GET", "/v1/credits", { key })).body.data.credits as number;

async function fetchBytes(
  url: string,
): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const response = await fetch(url);
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

interface Delivery {
  /** performance.now() when it arrived. */
  at: number;
  method: string | undefined;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** A callback endpoint; `next(n)` resolves once n deliveries have arrived. */
async function startReceiver() {
  const deliveries: Delivery[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      deliveries.push({
        at: performance.now(),
        method: req.method,
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
      });
      res.end("ok");
      for (const waiter of waiters.filter((w) => deliveries.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    deliveries,
    next(count: number): Promise<Delivery[]> {
      if (deliveries.length >= count) return Promise.resolve(deliveries.slice(0, count));
      return new Promise((resolve) => {
        waiters.push({ count, resolve: () => resolve(deliveries.slice(0, count)) });
      });
    },
  };
}

function expectEnvelope(res: Reply, status: number, code: string, type: string) {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String), type } });
  expect(res.body.error.message.length).toBeGreaterThan(0);
}

describe("task lifecycle", () => {
  it("goes pending → processing → completed and serves a real PNG", async () => {
    const clock = manualClock();
    const { url } = await start({ now: clock.now, generationMs: 1_000 });
    const taskId = await createTask(url, {
      model: "nano-banana-2",
      input: {
        prompt: "A cute cat wearing sunglasses",
        aspect_ratio: "16:9",
        output_format: "png",
      },
    });

    const pending = await call(url, "GET", `/v1/tasks/${taskId}`);
    expect(pending.status).toBe(200);
    expect(pending.body).toEqual({
      id: taskId,
      status: "pending",
      model: "nano-banana-2",
      created_at: 1_775_383_908,
    });
    expect((await fetchBytes(`${url}/files/${taskId}.png`)).status).toBe(404);

    clock.advance(300);
    expect((await call(url, "GET", `/v1/tasks/${taskId}`)).body.status).toBe("processing");
    clock.advance(699);
    expect((await call(url, "GET", `/v1/tasks/${taskId}`)).body.status).toBe("processing");
    clock.advance(1);

    const done = await call(url, "GET", `/v1/tasks/${taskId}`);
    expect(done.body).toEqual({
      id: taskId,
      status: "completed",
      model: "nano-banana-2",
      created_at: 1_775_383_908,
      completed_at: 1_775_383_909,
      output: {
        urls: [`${url}/files/${taskId}.png`],
        metadata: { model: "nano-banana-2", costTime: 1_000 },
      },
    });
    expect(Object.keys(done.body)).toEqual([
      "id",
      "status",
      "model",
      "created_at",
      "completed_at",
      "output",
    ]);

    const file = await fetchBytes(done.body.output.urls[0]);
    expect(file.status).toBe(200);
    expect(file.type).toBe("image/png");
    expect(file.bytes.subarray(0, 8).toString("hex")).toBe(PNG_SIGNATURE);
    const png = PNG.sync.read(file.bytes);
    expect([png.width, png.height]).toEqual([64, 36]);
    // "Image URLs are permanent": the same bytes every time.
    expect((await fetchBytes(done.body.output.urls[0])).bytes.equals(file.bytes)).toBe(true);
  });

  it("serves a real JPEG by default, sized by resolution and aspect ratio", async () => {
    const clock = manualClock();
    const { url } = await start({ now: clock.now, generationMs: 100 });
    const big = await createTask(url, {
      model: "nano-banana-2",
      input: { prompt: "a tall tower", resolution: "2K", aspect_ratio: "9:16" },
    });
    const lite = await createTask(url, { model: "nano-banana-2-lite", input: { prompt: "a dog" } });
    clock.advance(100);

    const expected = [
      { taskId: big, size: [54, 96] },
      { taskId: lite, size: [64, 64] },
    ];
    for (const { taskId, size } of expected) {
      const task = (await call(url, "GET", `/v1/tasks/${taskId}`)).body;
      expect(task.status).toBe("completed");
      expect(task.output.urls).toEqual([`${url}/files/${taskId}.jpg`]);
      const file = await fetchBytes(task.output.urls[0]);
      expect(file.type).toBe("image/jpeg");
      expect(file.bytes.subarray(0, 3).toString("hex")).toBe(JPEG_SIGNATURE);
      const image = decodeJpeg(file.bytes);
      expect([image.width, image.height]).toEqual(size);
    }
    expect((await fetchBytes(`${url}/files/${big}.png`)).status).toBe(404);
    expect((await fetchBytes(`${url}/files/00000000-0000-4000-8000-000000000000.jpg`)).status).toBe(
      404,
    );
    expect((await fetchBytes(`${url}/files/nonsense`)).status).toBe(404);
  });

  it("charges the documented price at create", async () => {
    const { url } = await start({ initialCredits: 1_000 });
    const res = await call(url, "GET", "/v1/credits");
    expect(res.body).toEqual({
      code: 200,
      msg: "success",
      data: { credits: 1_000, balance: 1_000, held: 0 },
    });
    await createTask(url, { model: "nano-banana-2", input: { prompt: "a" } });
    expect(await credits(url)).toBe(1_000 - 16);
    await createTask(url, { model: "nano-banana-2", input: { prompt: "a", resolution: "2K" } });
    expect(await credits(url)).toBe(1_000 - 16 - 24);
    await createTask(url, { model: "nano-banana-2", input: { prompt: "a", resolution: "4K" } });
    expect(await credits(url)).toBe(1_000 - 16 - 24 - 36);
    await createTask(url, {
      model: "nano-banana-2-lite",
      input: { prompt: "a", resolution: "1K" },
    });
    expect(await credits(url)).toBe(1_000 - 16 - 24 - 36 - 10);
  });

  it("fails a task with upstream_error and refunds it once", async () => {
    const clock = manualClock();
    const { url, sandbox } = await start({
      now: clock.now,
      generationMs: 500,
      failureRate: 1,
      initialCredits: 100,
    });
    const taskId = await createTask(url, {
      model: "nano-banana-2",
      input: { prompt: "a", resolution: "4K" },
    });
    expect(await credits(url)).toBe(64);
    expect((await call(url, "GET", `/v1/tasks/${taskId}`)).body.status).toBe("pending");

    clock.advance(500);
    // The refund shows in the balance even before anyone asks about the task.
    expect(await credits(url)).toBe(100);
    const failed = await call(url, "GET", `/v1/tasks/${taskId}`);
    expect(failed.body).toEqual({
      id: taskId,
      status: "failed",
      model: "nano-banana-2",
      created_at: 1_775_383_908,
      error: { code: "upstream_error", message: "Generation failed" },
    });
    await call(url, "GET", `/v1/tasks/${taskId}`);
    expect(await credits(url)).toBe(100);
    expect((await fetchBytes(`${url}/files/${taskId}.jpg`)).status).toBe(404);
    expect(sandbox.stats.created).toBe(1);
  });

  it("decides the outcome with the injected random source", async () => {
    const clock = manualClock();
    const draws = [0.2, 0.8];
    const { url } = await start({
      now: clock.now,
      failureRate: 0.5,
      random: () => draws.shift() ?? 0,
    });
    const first = await createTask(url, { model: "nano-banana-2", input: { prompt: "a" } });
    const second = await createTask(url, { model: "nano-banana-2", input: { prompt: "b" } });
    clock.advance(30);
    expect((await call(url, "GET", `/v1/tasks/${first}`)).body.status).toBe("failed");
    expect((await call(url, "GET", `/v1/tasks/${second}`)).body.status).toBe("completed");
  });
});

describe("validation", () => {
  const cases: [string, Record<string, unknown>][] = [
    [
      "prompt over 20,000 characters",
      { model: "nano-banana-2", input: { prompt: "x".repeat(20_001) } },
    ],
    ["missing prompt", { model: "nano-banana-2", input: { resolution: "1K" } }],
    [
      "15 image_urls for nano-banana-2",
      {
        model: "nano-banana-2",
        input: { prompt: "a", image_urls: Array(15).fill("https://example.com/a.jpg") },
      },
    ],
    [
      "11 image_urls for nano-banana-2-lite",
      {
        model: "nano-banana-2-lite",
        input: { prompt: "a", image_urls: Array(11).fill("https://example.com/a.jpg") },
      },
    ],
    [
      "output_format on lite",
      { model: "nano-banana-2-lite", input: { prompt: "a", output_format: "jpg" } },
    ],
    ["2K on lite", { model: "nano-banana-2-lite", input: { prompt: "a", resolution: "2K" } }],
    ["4K on lite", { model: "nano-banana-2-lite", input: { prompt: "a", resolution: "4K" } }],
    ["8K", { model: "nano-banana-2", input: { prompt: "a", resolution: "8K" } }],
    ["bad aspect ratio", { model: "nano-banana-2", input: { prompt: "a", aspect_ratio: "7:3" } }],
    ["webp output", { model: "nano-banana-2", input: { prompt: "a", output_format: "webp" } }],
    ["missing model", { input: { prompt: "a" } }],
    ["missing input", { model: "nano-banana-2" }],
    [
      "non-http callback_url",
      { model: "nano-banana-2", input: { prompt: "a" }, callback_url: "ftp://x/y" },
    ],
  ];

  it.each(cases)("rejects %s with 400 invalid_request and charges nothing", async (_name, body) => {
    const { url, sandbox } = await start({ initialCredits: 100 });
    const res = await call(url, "POST", "/v1/images/generations", { body });
    expectEnvelope(res, 400, "invalid_request", "invalid_request_error");
    expect(await credits(url)).toBe(100);
    expect(sandbox.stats.created).toBe(0);
  });

  it("accepts the documented limits", async () => {
    const { url } = await start();
    const urls = (n: number) => Array(n).fill("https://example.com/a.jpg");
    await createTask(url, {
      model: "nano-banana-2",
      input: { prompt: "x".repeat(20_000), image_urls: urls(14) },
    });
    await createTask(url, {
      model: "nano-banana-2-lite",
      input: { prompt: "a", image_urls: urls(10) },
    });
    for (const aspect_ratio of ["1:1", "21:9", "1:8", "8:1", "auto"]) {
      await createTask(url, { model: "nano-banana-2", input: { prompt: "a", aspect_ratio } });
    }
    await createTask(url, {
      model: "nano-banana-2-lite",
      callback_url: "https://your-server.com/webhook",
      input: { prompt: "a", aspect_ratio: "16:9" },
    });
  });

  it("answers 404 model_not_found for an unknown model", async () => {
    const { url } = await start();
    const res = await call(url, "POST", "/v1/images/generations", {
      body: { model: "nano-banana-3", input: { prompt: "a" } },
    });
    expectEnvelope(res, 404, "model_not_found", "invalid_request_error");
  });
});

describe("accounts", () => {
  it("answers 402 insufficient_credits once the balance is below the price", async () => {
    const { url, sandbox } = await start({ initialCredits: 20 });
    await createTask(url, { model: "nano-banana-2", input: { prompt: "a" } });
    const res = await call(url, "POST", "/v1/images/generations", {
      body: { model: "nano-banana-2", input: { prompt: "a" } },
    });
    expectEnvelope(res, 402, "insufficient_credits", "billing_error");
    expect(await credits(url)).toBe(4);

    // A new key starts with whatever initialCredits is when it is first seen.
    sandbox.configure({ initialCredits: 10 });
    await createTask(url, { model: "nano-banana-2-lite", input: { prompt: "a" } }, "sk-other");
    expect(await credits(url, "sk-other")).toBe(0);
  });

  it("answers 401 invalid_api_key for keys that do not start with sk-", async () => {
    const { url } = await start();
    for (const key of [null, "pk-123", "SK-123", "123sk-"]) {
      expectEnvelope(
        await call(url, "GET", "/v1/credits", { key }),
        401,
        "invalid_api_key",
        "authentication_error",
      );
      const res = await call(url, "POST", "/v1/images/generations", {
        key,
        body: { model: "nano-banana-2", input: { prompt: "a" } },
      });
      expectEnvelope(res, 401, "invalid_api_key", "authentication_error");
    }
  });

  it("keeps tasks private to the key that created them", async () => {
    const { url } = await start();
    const taskId = await createTask(
      url,
      { model: "nano-banana-2", input: { prompt: "a" } },
      "sk-alice",
    );
    expect((await call(url, "GET", `/v1/tasks/${taskId}`, { key: "sk-alice" })).status).toBe(200);
    expectEnvelope(
      await call(url, "GET", `/v1/tasks/${taskId}`, { key: "sk-bob" }),
      404,
      "task_not_found",
      "invalid_request_error",
    );
    expectEnvelope(
      await call(url, "GET", "/v1/tasks/397ce9f2-c04e-4244-ac33-3af19a7cc297", { key: "sk-alice" }),
      404,
      "task_not_found",
      "invalid_request_error",
    );
  });
});

describe("callbacks", () => {
  it("POSTs the query body when the task completes", async () => {
    const clock = manualClock();
    const receiver = await startReceiver();
    const { url, sandbox } = await start({ now: clock.now });
    const taskId = await createTask(url, {
      model: "nano-banana-2",
      callback_url: receiver.url,
      input: { prompt: "a", output_format: "png" },
    });
    const [delivery] = await receiver.next(1);
    expect(delivery!.method).toBe("POST");
    expect(delivery!.headers["content-type"]).toBe("application/json");
    expect(delivery!.body).toMatchObject({ id: taskId, status: "completed" });
    // The clock has not moved, yet the task is done: what the callback said, the query says.
    const query = await call(url, "GET", `/v1/tasks/${taskId}`);
    expect(query.body).toEqual(delivery!.body);
    expect(sandbox.stats).toMatchObject({ created: 1, callbacksSent: 1, callbacksLost: 0 });
  });

  it("POSTs the failure body, and the refund is already made", async () => {
    const receiver = await startReceiver();
    const { url } = await start({ failureRate: 1, initialCredits: 50 });
    const taskId = await createTask(url, {
      model: "nano-banana-2-lite",
      callback_url: receiver.url,
      input: { prompt: "a" },
    });
    const [delivery] = await receiver.next(1);
    expect(delivery!.body).toMatchObject({
      id: taskId,
      status: "failed",
      error: { code: "upstream_error" },
    });
    expect((await call(url, "GET", `/v1/tasks/${taskId}`)).body).toEqual(delivery!.body);
    expect(await credits(url)).toBe(50);
  });

  it("loses every callback at callbackLossRate 1", async () => {
    const receiver = await startReceiver();
    const { url, sandbox } = await start({ callbackLossRate: 1 });
    const lost = await createTask(url, {
      model: "nano-banana-2",
      callback_url: receiver.url,
      input: { prompt: "a" },
    });
    sandbox.configure({ callbackLossRate: 0 });
    // Same generation time, created later: its timer fires after the lost one's.
    const sent = await createTask(url, {
      model: "nano-banana-2",
      callback_url: receiver.url,
      input: { prompt: "b" },
    });
    const [delivery] = await receiver.next(1);
    expect(delivery!.body).toMatchObject({ id: sent });
    expect(receiver.deliveries.map((d) => (d.body as { id: string }).id)).not.toContain(lost);
    expect(sandbox.stats).toMatchObject({ created: 2, callbacksSent: 1, callbacksLost: 1 });
    expect((await call(url, "GET", `/v1/tasks/${lost}`)).body.status).toBe("completed");
  });

  it("sends every callback twice at callbackDuplicateRate 1", async () => {
    const receiver = await startReceiver();
    const { url, sandbox } = await start({ callbackDuplicateRate: 1 });
    const taskId = await createTask(url, {
      model: "nano-banana-2",
      callback_url: receiver.url,
      input: { prompt: "a" },
    });
    const [first, second] = await receiver.next(2);
    expect(first!.body).toMatchObject({ id: taskId, status: "completed" });
    expect(second!.body).toEqual(first!.body);
    expect(sandbox.stats.callbacksSent).toBe(2);
  });

  it("sends nothing after close()", async () => {
    const receiver = await startReceiver();
    const closed = await start();
    const cancelled = await createTask(closed.url, {
      model: "nano-banana-2",
      callback_url: receiver.url,
      input: { prompt: "a" },
    });
    await closed.sandbox.close();
    // A sandbox still open, with the same generation time, as the marker that the first had its turn.
    const open = await start();
    const sent = await createTask(open.url, {
      model: "nano-banana-2",
      callback_url: receiver.url,
      input: { prompt: "b" },
    });
    await receiver.next(1);
    expect(receiver.deliveries.map((d) => (d.body as { id: string }).id)).toEqual([sent]);
    expect(cancelled).not.toBe(sent);
    expect(closed.sandbox.stats.callbacksSent).toBe(0);
  });

  it("swallows delivery errors", async () => {
    const receiver = await startReceiver();
    const attempts: string[] = [];
    const failingFetch: typeof fetch = async (input) => {
      attempts.push(String(input));
      throw new TypeError("fetch failed");
    };
    const { url, sandbox } = await start({ fetch: failingFetch, callbackDuplicateRate: 1 });
    const taskId = await createTask(url, {
      model: "nano-banana-2",
      callback_url: receiver.url,
      input: { prompt: "a" },
    });
    // A second, healthy sandbox as the marker that the first one's callbacks have been tried.
    const marker = await start();
    await createTask(marker.url, {
      model: "nano-banana-2",
      callback_url: receiver.url,
      input: { prompt: "b" },
    });
    await receiver.next(1);
    expect(attempts).toEqual([receiver.url, receiver.url]);
    expect(sandbox.stats.callbacksSent).toBe(2);
    expect((await call(url, "GET", `/v1/tasks/${taskId}`)).status).toBe(200);
  });
});

describe("fault injection", () => {
  it("fails the next create calls with the documented transient errors", async () => {
    const { url, sandbox } = await start({ initialCredits: 100 });
    sandbox.failNextSubmits(2, 429);
    sandbox.failNextSubmits(1, 500);
    sandbox.failNextSubmits(1);
    const body = { model: "nano-banana-2", input: { prompt: "a" } };
    const post = () => call(url, "POST", "/v1/images/generations", { body });
    expectEnvelope(await post(), 429, "rate_limit_exceeded", "rate_limit_error");
    expectEnvelope(await post(), 429, "rate_limit_exceeded", "rate_limit_error");
    expectEnvelope(await post(), 500, "internal_error", "api_error");
    expectEnvelope(await post(), 503, "upstream_error", "upstream_error");
    expect(await credits(url)).toBe(100);
    expect(sandbox.stats.created).toBe(0);
    await createTask(url, body);
    expect(sandbox.stats.created).toBe(1);
  });

  it("rejects settings out of range", () => {
    const sandbox = createSandbox();
    expect(() => sandbox.configure({ failureRate: 1.5 })).toThrow(RangeError);
    expect(() => sandbox.configure({ callbackLossRate: -0.1 })).toThrow(RangeError);
    expect(() => sandbox.configure({ generationMs: -1 })).toThrow(RangeError);
    expect(() => createSandbox({ callbackDuplicateRate: Number.NaN })).toThrow(RangeError);
  });
});

describe("restart, stalls and observation", () => {
  it("forgets every task and cancels pending callbacks on forgetTasks()", async () => {
    const receiver = await startReceiver();
    const { url, sandbox } = await start({ generationMs: 50 });
    const withCallback = await createTask(url, {
      model: "nano-banana-2",
      callback_url: receiver.url,
      input: { prompt: "a" },
    });
    const without = await createTask(url, { model: "nano-banana-2", input: { prompt: "b" } });
    sandbox.forgetTasks();

    for (const taskId of [withCallback, without]) {
      expectEnvelope(
        await call(url, "GET", `/v1/tasks/${taskId}`),
        404,
        "task_not_found",
        "invalid_request_error",
      );
      expect((await fetchBytes(`${url}/files/${taskId}.jpg`)).status).toBe(404);
    }
    // It keeps working afterwards; this task's callback, due after the forgotten one's, is the
    // marker that the forgotten one had its turn.
    const after = await createTask(url, {
      model: "nano-banana-2",
      callback_url: receiver.url,
      input: { prompt: "c" },
    });
    await receiver.next(1);
    expect(receiver.deliveries.map((d) => (d.body as { id: string }).id)).toEqual([after]);
    expect(sandbox.stats).toMatchObject({ created: 3, callbacksSent: 1, callbacksLost: 0 });
    expect((await call(url, "GET", `/v1/tasks/${after}`)).body.status).toBe("completed");
  });

  it("creates the task but holds the answer on stallNextSubmits()", async () => {
    const receiver = await startReceiver();
    const { url, sandbox } = await start({ initialCredits: 100 });
    sandbox.stallNextSubmits(1, 2_000);
    const created = once(sandbox.events, "created");
    // The client gives up first: for it the outcome is unknown.
    const impatient = fetch(`${url}/aivideoapi/v1/images/generations`, {
      method: "POST",
      headers: { authorization: "Bearer sk-test", "content-type": "application/json" },
      body: JSON.stringify({
        model: "nano-banana-2",
        callback_url: receiver.url,
        input: { prompt: "a" },
      }),
      signal: AbortSignal.timeout(100),
    });
    await expect(impatient).rejects.toMatchObject({ name: "TimeoutError" });
    const [{ taskId, callbackUrl }] = await created;
    expect(callbackUrl).toBe(receiver.url);

    // Yet the upstream accepted it: charged, queryable, and its callback arrives.
    expect(await credits(url)).toBe(100 - 16);
    expect((await call(url, "GET", `/v1/tasks/${taskId}`)).status).toBe(200);
    const [delivery] = await receiver.next(1);
    expect(delivery!.body).toMatchObject({ id: taskId, status: "completed" });

    // Only the next call was stalled; a patient client gets a stalled answer late but whole.
    const started = performance.now();
    await createTask(url, { model: "nano-banana-2-lite", input: { prompt: "b" } });
    expect(performance.now() - started).toBeLessThan(1_000);
    sandbox.stallNextSubmits(1, 300);
    const slow = performance.now();
    await createTask(url, { model: "nano-banana-2-lite", input: { prompt: "c" } });
    expect(performance.now() - slow).toBeGreaterThanOrEqual(290);
  });

  it("counts the create and query calls that reach the simulator, errors included", async () => {
    const { url, sandbox } = await start();
    const body = { model: "nano-banana-2", input: { prompt: "a" } };
    const taskId = await createTask(url, body);
    // Refused before the simulator sees them (no key, a body the dialect cannot read): not counted.
    await call(url, "POST", "/v1/images/generations", { key: null, body });
    await call(url, "POST", "/v1/images/generations", { body: { model: "nano-banana-2" } });
    await call(url, "GET", `/v1/tasks/${taskId}`, { key: "bad" });
    // Counted: an injected 429, an unknown model, a task found, a task not found.
    sandbox.failNextSubmits(1, 429);
    await call(url, "POST", "/v1/images/generations", { body });
    await call(url, "POST", "/v1/images/generations", { body: { ...body, model: "nano-banana-9" } });
    await call(url, "GET", `/v1/tasks/${taskId}`);
    await call(url, "GET", "/v1/tasks/397ce9f2-c04e-4244-ac33-3af19a7cc297");
    // Neither a create nor a query.
    await call(url, "GET", "/v1/credits");
    const aivideoapi = {
      created: 1,
      submitCalls: 3,
      statusCalls: 2,
      callbacksSent: 0,
      callbacksLost: 0,
      faults: { rate_limited: 1 },
    };
    expect(sandbox.stats).toEqual({
      ...aivideoapi,
      byProvider: {
        aivideoapi,
        nanobanana: NO_CALLS,
        kie: NO_CALLS,
        revid: NO_CALLS,
      },
    });
  });

  it("emits created with the task id, its provider and callback URL", async () => {
    const { url, sandbox } = await start();
    const created = once(sandbox.events, "created");
    const taskId = await createTask(url, {
      model: "nano-banana-2",
      callback_url: "https://hooks.example.com/t/1",
      input: { prompt: "a" },
    });
    expect(await created).toEqual([
      { taskId, provider: "aivideoapi", callbackUrl: "https://hooks.example.com/t/1" },
    ]);
    const next = once(sandbox.events, "created");
    const plain = await createTask(url, { model: "nano-banana-2", input: { prompt: "b" } });
    expect(await next).toEqual([{ taskId: plain, provider: "aivideoapi", callbackUrl: undefined }]);
    const atKie = once(sandbox.events, "created");
    const kie = await createAt(url, "kie");
    expect(kie.status).toBe(200);
    expect(await atKie).toEqual([
      { taskId: kie.body.data.taskId, provider: "kie", callbackUrl: undefined },
    ]);
  });

  it("serves its stats and tasks to other processes under /_sandbox", async () => {
    const clock = manualClock();
    // The task outlives the test: no callback is due while the stats are read.
    const { url, sandbox } = await start({
      now: clock.now,
      generationMs: 60_000,
      callbackLossRate: 1,
    });
    const taskId = await createTask(url, {
      model: "nano-banana-2",
      callback_url: "https://hooks.example.com/t/1",
      input: { prompt: "a" },
    });
    await call(url, "GET", `/v1/tasks/${taskId}`);
    const stats = await fetch(`${url}/_sandbox/stats`);
    expect(stats.status).toBe(200);
    expect(await stats.json()).toEqual(sandbox.stats);
    const aivideoapi = {
      created: 1,
      submitCalls: 1,
      statusCalls: 1,
      callbacksSent: 0,
      callbacksLost: 0,
      faults: {},
    };
    expect(sandbox.stats).toEqual({
      ...aivideoapi,
      byProvider: { aivideoapi, nanobanana: NO_CALLS, kie: NO_CALLS, revid: NO_CALLS },
    });

    const info = {
      id: taskId,
      provider: "aivideoapi",
      model: "nano-banana-2",
      callbackUrl: "https://hooks.example.com/t/1",
      createdAt: clock.now(),
    };
    expect(await (await fetch(`${url}/_sandbox/tasks/${taskId}`)).json()).toEqual(info);
    expect(await (await fetch(`${url}/_sandbox/tasks`)).json()).toEqual({ tasks: [info] });
    expect((await fetch(`${url}/_sandbox/tasks/unknown`)).status).toBe(404);
  });
});

describe("mounting", () => {
  it("names result files after the address it was reached at when no publicUrl is set", async () => {
    const clock = manualClock();
    const sandbox = createSandbox({ now: clock.now });
    const outer = express();
    outer.use("/upstream", sandbox.app);
    const server = outer.listen(0, "127.0.0.1");
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    cleanups.push(async () => {
      await sandbox.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upstream`;
    const taskId = await createTask(base, { model: "nano-banana-2", input: { prompt: "a" } });
    clock.advance(3_000);
    const task = (await call(base, "GET", `/v1/tasks/${taskId}`)).body;
    expect(task.output.urls).toEqual([`${base}/files/${taskId}.jpg`]);
    expect((await fetchBytes(task.output.urls[0])).bytes.subarray(0, 3).toString("hex")).toBe(
      JPEG_SIGNATURE,
    );
  });

  it("uses publicUrl, given or set later, for tasks created afterwards", async () => {
    const clock = manualClock();
    const { url, sandbox } = await start({ now: clock.now, publicUrl: "https://files.example/" });
    const before = await createTask(url, { model: "nano-banana-2", input: { prompt: "a" } });
    sandbox.setPublicUrl("https://cdn.example");
    const after = await createTask(url, { model: "nano-banana-2", input: { prompt: "a" } });
    clock.advance(30);
    expect((await call(url, "GET", `/v1/tasks/${before}`)).body.output.urls).toEqual([
      `https://files.example/files/${before}.jpg`,
    ]);
    expect((await call(url, "GET", `/v1/tasks/${after}`)).body.output.urls).toEqual([
      `https://cdn.example/files/${after}.jpg`,
    ]);
  });
});

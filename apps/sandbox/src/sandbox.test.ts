import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import express from "express";
import { decode as decodeJpeg } from "jpeg-js";
import { PNG } from "pngjs";
import { afterEach, describe, expect, it } from "vitest";
import {
  createSandbox,
  type ProviderFaults,
  parseSandboxFaults,
  type SandboxOptions,
  type StartedSandbox,
  startSandbox,
} from "./index";

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
  const requests: Record<
    ProviderId,
    { path: string; headers: Record<string, string>; body: unknown }
  > = {
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
  };
  const request = requests[provider];
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
    await call(url, "POST", "/v1/images/generations", {
      body: { ...body, model: "nano-banana-9" },
    });
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
      state: "running",
      cost: 16,
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

describe("SANDBOX_FAULTS: faults per provider", () => {
  const body = { model: "nano-banana-2", input: { prompt: "a" } };
  const post = (url: string) => call(url, "POST", "/v1/images/generations", { body });
  const UNKNOWN_TASK = "397ce9f2-c04e-4244-ac33-3af19a7cc297";

  it("submitFailureRate 1 fails every create at that provider; the others still serve", async () => {
    const { url, sandbox } = await start({
      initialCredits: 100,
      faults: { aivideoapi: { submitFailureRate: 1 } },
    });
    for (let i = 0; i < 3; i++) {
      expectEnvelope(await post(url), 503, "upstream_error", "upstream_error");
    }
    expect(await credits(url)).toBe(100);
    for (const provider of ["nanobanana", "kie", "revid"] as const) {
      expect((await createAt(url, provider)).status).toBe(200);
    }
    expect(sandbox.stats.byProvider.aivideoapi).toEqual({
      ...NO_CALLS,
      submitCalls: 3,
      faults: { server_error: 3 },
    });
    expect(sandbox.stats).toMatchObject({
      created: 3,
      submitCalls: 6,
      faults: { server_error: 3 },
    });
    for (const provider of ["nanobanana", "kie", "revid"]) {
      expect(sandbox.stats.byProvider[provider]).toEqual({
        ...NO_CALLS,
        created: 1,
        submitCalls: 1,
      });
    }

    // setFaults moves it at runtime: kie refuses (with its document's 500), aivideoapi serves.
    sandbox.setFaults("aivideoapi", {});
    sandbox.setFaults("kie", { submitFailureRate: 1 });
    await createTask(url, body);
    const refused = await createAt(url, "kie");
    expect(refused.status).toBe(500);
    expect(refused.body).toMatchObject({ code: 500, data: null });
    expect(sandbox.stats.byProvider.kie!.faults).toEqual({ server_error: 1 });
  });

  it("setFaults refuses an unknown provider and a rate above 1", () => {
    const sandbox = createSandbox();
    expect(() => sandbox.setFaults("nowhere", {})).toThrow(/nowhere/);
    expect(() => sandbox.setFaults("kie", { rate429: 2 })).toThrow(/rate429/);
  });

  it("rate429 answers creates and queries 429 with Retry-After", async () => {
    const { url, sandbox } = await start({
      faults: { aivideoapi: { rate429: 1, retryAfterSeconds: 7 } },
    });
    const limited = await post(url);
    expectEnvelope(limited, 429, "rate_limit_exceeded", "rate_limit_error");
    expect(limited.headers.get("retry-after")).toBe("7");
    const query = await call(url, "GET", `/v1/tasks/${UNKNOWN_TASK}`);
    expectEnvelope(query, 429, "rate_limit_exceeded", "rate_limit_error");
    expect(query.headers.get("retry-after")).toBe("7");
    expect(sandbox.stats.byProvider.aivideoapi).toEqual({
      ...NO_CALLS,
      submitCalls: 1,
      statusCalls: 1,
      faults: { rate_limited: 2 },
    });
    // Retry-After defaults to 1 s; another provider is not limited.
    sandbox.setFaults("aivideoapi", { rate429: 1 });
    expect((await post(url)).headers.get("retry-after")).toBe("1");
    expect((await createAt(url, "revid")).status).toBe(200);
  });

  it("latencyMs holds every answer of that provider, and only of that one", async () => {
    const { url } = await start({ faults: { aivideoapi: { latencyMs: [300, 300] } } });
    const answered: string[] = [];
    const started = performance.now();
    const [slow, fast] = await Promise.all([
      post(url).then((res) => {
        answered.push("aivideoapi");
        return { res, elapsed: performance.now() - started };
      }),
      createAt(url, "kie").then((res) => {
        answered.push("kie");
        return res;
      }),
    ]);
    expect([slow.res.status, fast.status]).toEqual([200, 200]);
    expect(slow.elapsed).toBeGreaterThanOrEqual(290);
    expect(answered).toEqual(["kie", "aivideoapi"]);
    // Queries wait as long.
    const queried = performance.now();
    expect((await call(url, "GET", `/v1/tasks/${slow.res.body.data.taskId}`)).status).toBe(200);
    expect(performance.now() - queried).toBeGreaterThanOrEqual(290);
  });

  it("timeoutRate 1 never answers a create, yet the task exists and is charged", async () => {
    const { url, sandbox } = await start({
      initialCredits: 100,
      faults: { aivideoapi: { timeoutRate: 1 } },
    });
    const created = once(sandbox.events, "created");
    const unanswered = fetch(`${url}/aivideoapi/v1/images/generations`, {
      method: "POST",
      headers: { authorization: "Bearer sk-test", "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(200),
    });
    await expect(unanswered).rejects.toMatchObject({ name: "TimeoutError" });
    const [{ taskId, provider }] = await created;
    expect(provider).toBe("aivideoapi");
    expect(sandbox.stats).toMatchObject({ created: 1, submitCalls: 1, faults: { timeout: 1 } });
    const info = await fetch(`${url}/_sandbox/tasks/${taskId}`);
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ id: taskId, provider: "aivideoapi" });
    // Once the provider answers again, the task is there and was charged.
    sandbox.setFaults("aivideoapi", {});
    expect((await call(url, "GET", `/v1/tasks/${taskId}`)).status).toBe(200);
    expect(await credits(url)).toBe(100 - 16);
  });

  it("contentFilterRate 1 refuses every create as sensitive content, charging nothing", async () => {
    const { url, sandbox } = await start({
      initialCredits: 100,
      faults: { aivideoapi: { contentFilterRate: 1 } },
    });
    const refused = await post(url);
    // Document 000: a 503 upstream_error "may happen when the input contains sensitive or
    // prohibited content".
    expectEnvelope(refused, 503, "upstream_error", "upstream_error");
    expect(refused.body.error.message).toMatch(/sensitive or prohibited content/);
    expect(await credits(url)).toBe(100);
    expect(sandbox.stats.byProvider.aivideoapi).toEqual({
      ...NO_CALLS,
      submitCalls: 1,
      faults: { content_filtered: 1 },
    });
  });

  it("a provider's failureRate overrides the sandbox's", async () => {
    const clock = manualClock();
    const { url } = await start({
      now: clock.now,
      failureRate: 1,
      faults: { aivideoapi: { failureRate: 0 } },
    });
    const taskId = await createTask(url, body);
    const atKie = await createAt(url, "kie");
    clock.advance(30);
    expect((await call(url, "GET", `/v1/tasks/${taskId}`)).body.status).toBe("completed");
    // Where no provider fault says otherwise, the sandbox's rate applies.
    const record = await fetch(
      `${url}/kie/api/v1/jobs/recordInfo?taskId=${atKie.body.data.taskId}`,
      { headers: { authorization: "Bearer kie-test" } },
    );
    expect(((await record.json()) as { data: { state: string } }).data.state).toBe("fail");
  });

  it("callback loss and duplicates per provider, over the sandbox's settings", async () => {
    const receiver = await startReceiver();
    // The sandbox loses every callback, except aivideoapi's, which it sends twice.
    const { url, sandbox } = await start({
      callbackLossRate: 1,
      faults: { aivideoapi: { callbackLossRate: 0, callbackDuplicateRate: 1 } },
    });
    const twice = await createTask(url, { ...body, callback_url: receiver.url });
    const [first, second] = await receiver.next(2);
    expect(first!.body).toMatchObject({ id: twice, status: "completed" });
    expect(second!.body).toEqual(first!.body);

    sandbox.setFaults("aivideoapi", { callbackLossRate: 1 });
    const lost = await createTask(url, { ...body, callback_url: receiver.url });
    // Same generation time, created later: its callback is due after the lost one's.
    sandbox.setFaults("aivideoapi", { callbackLossRate: 0 });
    const marker = await createTask(url, { ...body, callback_url: receiver.url });
    await receiver.next(3);
    expect(receiver.deliveries.map((d) => (d.body as { id: string }).id)).toEqual([
      twice,
      twice,
      marker,
    ]);
    expect(lost).not.toBe(marker);
    expect(sandbox.stats).toMatchObject({ created: 3, callbacksSent: 3, callbacksLost: 1 });
  });

  it("callbackDelayMs holds a callback after its task ended", async () => {
    const receiver = await startReceiver();
    const { url, sandbox } = await start({
      generationMs: 30,
      faults: { aivideoapi: { callbackDelayMs: [300, 300] } },
    });
    const before = performance.now();
    const delayed = await createTask(url, { ...body, callback_url: receiver.url });
    sandbox.setFaults("aivideoapi", {});
    // Created later with the same generation time, yet called back first.
    const prompt = await createTask(url, { ...body, callback_url: receiver.url });
    const [first, second] = await receiver.next(2);
    expect(first!.body).toMatchObject({ id: prompt, status: "completed" });
    expect(second!.body).toMatchObject({ id: delayed, status: "completed" });
    expect(second!.at - before).toBeGreaterThanOrEqual(30 + 300 - 5);
    expect(second!.body).toEqual((await call(url, "GET", `/v1/tasks/${delayed}`)).body);
  });

  describe("determinism", () => {
    const faulty = (seed?: number): ProviderFaults => ({
      ...(seed === undefined ? {} : { seed }),
      rate429: 0.2,
      rate5xx: 0.2,
      submitFailureRate: 0.2,
      contentFilterRate: 0.2,
      failureRate: 0.5,
    });

    /** 40 creates at aivideoapi (with a kie create after each if asked), then a query of each task. */
    async function run(seed: number | undefined, options: { kieBetween?: boolean } = {}) {
      const clock = manualClock();
      const { url, sandbox } = await start({
        now: clock.now,
        faults: { aivideoapi: faulty(seed), kie: faulty(seed) },
      });
      const creates: number[] = [];
      const taskIds: string[] = [];
      for (let i = 0; i < 40; i++) {
        const res = await post(url);
        creates.push(res.status);
        if (res.status === 200) taskIds.push(res.body.data.taskId);
        if (options.kieBetween) await createAt(url, "kie");
      }
      clock.advance(30);
      const outcomes: (string | number)[] = [];
      for (const taskId of taskIds) {
        const res = await call(url, "GET", `/v1/tasks/${taskId}`);
        outcomes.push(res.status === 200 ? res.body.status : res.status);
      }
      await sandbox.close();
      return { creates, outcomes, faults: sandbox.stats.byProvider.aivideoapi!.faults };
    }

    it("the same seed and calls inject the same faults; another seed, others", async () => {
      const first = await run(42);
      const again = await run(42);
      const other = await run(43);
      expect(again).toEqual(first);
      // Every kind of fault was drawn, and tasks both succeeded and failed.
      expect(Object.keys(first.faults).sort()).toEqual([
        "content_filtered",
        "rate_limited",
        "server_error",
      ]);
      expect(first.outcomes).toContain("completed");
      expect(first.outcomes).toContain("failed");
      expect(other.faults).not.toEqual(first.faults);
      expect(other.creates).not.toEqual(first.creates);
    });

    it("without a seed, each provider's is derived from its id", async () => {
      expect(await run(undefined)).toEqual(await run(undefined));
    });

    it("calls at another provider do not move a provider's draws", async () => {
      expect(await run(42, { kieBetween: true })).toEqual(await run(42));
    });
  });
});

describe("parseSandboxFaults", () => {
  it("reads an unset or empty value as no faults, a valid one as given", () => {
    expect(parseSandboxFaults(undefined)).toEqual({});
    expect(parseSandboxFaults("")).toEqual({});
    const faults = {
      kie: { seed: 7, rate429: 0.1, retryAfterSeconds: 3, latencyMs: [10, 20] },
      aivideoapi: { callbackLossRate: 1, callbackDelayMs: [0, 500], generationMs: 0 },
    };
    expect(parseSandboxFaults(JSON.stringify(faults))).toEqual(faults);
  });

  it("refuses what is wrong, naming it", () => {
    const errorOf = (text: string) => {
      try {
        parseSandboxFaults(text);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error(`accepted ${text}`);
    };
    expect(errorOf('{"kie": {"rate429": 0.1')).toBe("SANDBOX_FAULTS is not valid JSON");
    expect(errorOf('{"kie": {"lossRate": 0.1}}')).toMatch(
      /^SANDBOX_FAULTS kie: Unrecognized key: "lossRate"/,
    );
    expect(errorOf('{"kie": {"callbackLossRate": 1.5}}')).toMatch(
      /^SANDBOX_FAULTS kie\.callbackLossRate: .*<=1/,
    );
    expect(errorOf('{"revid": {"rate429": -0.1}}')).toMatch(
      /^SANDBOX_FAULTS revid\.rate429: .*>=0/,
    );
    expect(errorOf('{"kie": {"latencyMs": [500, 10]}}')).toMatch(
      /^SANDBOX_FAULTS kie\.latencyMs: must be \[min, max\]/,
    );
    expect(errorOf('{"kie": 0.5}')).toMatch(/^SANDBOX_FAULTS kie: .*expected object/);
  });
});

const execFileAsync = promisify(execFile);

describe("video results", () => {
  it("serves a real MP4: video/mp4, an ftyp box, one h264 stream", async () => {
    const clock = manualClock();
    const { url } = await start({ now: clock.now, generationMs: 1_000 });
    const key = "nb_sk_test";
    const created = await fetch(`${url}/nanobanana/api/v1/videos/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "A cat walking in a garden", model_id: "veo-3.1-fast" }),
    });
    expect(created.status).toBe(200);
    const taskId = ((await created.json()) as { data: { task_id: string } }).data.task_id;
    clock.advance(1_000);
    const status = await fetch(`${url}/nanobanana/api/v1/videos/status?task_id=${taskId}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const { data } = (await status.json()) as { data: { status: string; video_url: string } };
    expect(data).toMatchObject({ status: "succeeded", video_url: `${url}/files/${taskId}.mp4` });

    const file = await fetchBytes(data.video_url);
    expect(file.status).toBe(200);
    expect(file.type).toBe("video/mp4");
    // An ISO base media file starts with its ftyp box: size, then the type.
    expect(file.bytes.subarray(4, 8).toString("latin1")).toBe("ftyp");
    expect(file.bytes.readUInt32BE(0)).toBeGreaterThanOrEqual(16);

    const dir = await mkdtemp(join(tmpdir(), "sandbox-video-"));
    try {
      const path = join(dir, "result.mp4");
      await writeFile(path, file.bytes);
      const probe = await execFileAsync("ffprobe", [
        "-v",
        "error",
        "-show_entries",
        "stream=codec_name",
        "-of",
        "csv=p=0",
        path,
      ]).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return null; // no ffprobe on PATH: that part is skipped
        throw error;
      });
      if (probe === null) console.warn("ffprobe not on PATH: the MP4's codec was not checked");
      else expect(probe.stdout.trim()).toBe("h264");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

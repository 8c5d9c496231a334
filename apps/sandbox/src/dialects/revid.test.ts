import { EventEmitter } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ProviderError } from "@ripen/core";
import {
  createRevidClient,
  createTaskResponse,
  errorEnvelope,
  parseParam,
  parseResultJson,
  queryTaskResponse,
} from "@ripen/dialect-revid";
import express from "express";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ProviderFaults } from "../faults";
import { contentTypes, renderImage } from "../images";
import { createKit, emptyStats, type KitShared, type SimulatorKit } from "../kit";
import { createRevidSimulator, defaultRevidSettings, type RevidSimulatorSettings } from "./revid";

/**
 * Contract tests of the revid simulator (document 004) over real HTTP: the document's three
 * request examples answered in the documented shape, `param` and `resultJson` as JSON strings,
 * the callback identical to the query answer, prices, errors either way (as the HTTP status or in
 * an HTTP 200), and the client driving it end to end. States follow a clock the tests move;
 * callbacks are awaited as they arrive, never slept for.
 */
const GENERATION_MS = 10_000;
let clockMs = 1_757_584_164_490;
let server: Server;
let baseUrl: string;
let kit: SimulatorKit;
let shared: KitShared;
const faults: ProviderFaults = {};
const settings: RevidSimulatorSettings = defaultRevidSettings();
const closing = new AbortController();

/** Callbacks the simulator posted (never sent anywhere: the examples name your-domain.com). */
const callbacks: { url: string; body: unknown }[] = [];
const callbackArrived = new EventEmitter<{ callback: [] }>();
const fakeFetch = (async (url: string | URL | Request, init?: RequestInit) => {
  callbacks.push({ url: String(url), body: JSON.parse(String(init?.body)) });
  callbackArrived.emit("callback");
  return new Response("ok");
}) as typeof fetch;

/** Resolves once `count` callbacks in all have arrived. */
const callbacksArrived = (count: number) =>
  new Promise<void>((resolve) => {
    const check = () => {
      if (callbacks.length < count) return;
      callbackArrived.off("callback", check);
      resolve();
    };
    callbackArrived.on("callback", check);
    check();
  });

beforeAll(async () => {
  shared = {
    settings: {
      publicUrl: undefined,
      generationMs: GENERATION_MS,
      failureRate: 0,
      callbackLossRate: 0,
      callbackDuplicateRate: 0,
      initialCredits: 100,
    },
    now: () => clockMs,
    fetch: fakeFetch,
    tasks: new Map(),
    timers: new Set(),
    closing: closing.signal,
    lifetime: () => closing.signal,
    stats: emptyStats(),
    events: new EventEmitter(),
    takeQueuedSubmitFault: () => ({}),
  };
  let seed = 1;
  kit = createKit(shared, "revid", faults, () => {
    seed = (seed * 16_807) % 2_147_483_647;
    return seed / 2_147_483_647;
  });
  const app = express();
  app.use("/revid", createRevidSimulator(kit, settings));
  // Result files, as the sandbox serves them: the task's image once it succeeded.
  app.get("/files/:id/:name", (req, res) => {
    const task = shared.tasks.get(req.params.id);
    const media = task?.media;
    if (!task || media?.kind !== "image" || kit.stateOf(task) !== "succeeded") {
      res.status(404).end();
      return;
    }
    if (req.params.name !== `0.${media.format}`) {
      res.status(404).end();
      return;
    }
    res.type(contentTypes[media.format]).send(
      renderImage({
        seed: task.id,
        format: media.format,
        resolution: media.resolution,
        aspectRatio: media.aspectRatio as "1:1",
      }),
    );
  });
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  closing.abort();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  Object.assign(settings, defaultRevidSettings());
  for (const key of Object.keys(faults)) delete faults[key as keyof ProviderFaults];
  callbacks.length = 0;
});
afterEach(() => {
  // Every test's tasks end before the next test starts, and none posts a callback into it.
  clockMs += GENERATION_MS * 2;
  for (const timer of shared.timers) clearTimeout(timer);
  shared.timers.clear();
});

let keys = 0;
/** A fresh API key: its own account and 100 credits. */
const newKey = () => `revid-key-${++keys}`;

async function call(path: string, key: string | null, body?: unknown) {
  const headers: Record<string, string> = {
    // What `curl -d` sends: the document's examples set no Content-Type of their own.
    "content-type": "application/x-www-form-urlencoded",
  };
  if (key !== null) headers["x-api-key"] = key;
  const response = await fetch(`${baseUrl}/revid${path}`, {
    method: "POST",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}
const create = (key: string | null, body: unknown) => call("/paid/nano/banana/create", key, body);
const query = (key: string, taskId: string) =>
  call(`/paid/get/taskid?taskId=${encodeURIComponent(taskId)}`, key);

/** Document 004, "Request Example google/nano-banana Model". */
const nanoBananaExample = {
  model: "google/nano-banana",
  callBackUrl: "https://your-domain.com/api/callback",
  input: {
    prompt:
      "A surreal painting of a giant banana floating in space, stars and galaxies in the background, vibrant colors, digital art",
    output_format: "png",
    image_size: "1:1",
  },
};

/** Document 004, "Request Example google/nano-banana-edit Model". */
const nanoBananaEditExample = {
  model: "google/nano-banana-edit",
  callBackUrl: "https://your-domain.com/api/callback",
  input: {
    prompt:
      "turn this photo into a character figure. Behind it, place a box with the character’s image printed on it, and a computer showing the Blender modeling process on its screen. In front of the box, add a round plastic base with the character figure standing on it. set the scene indoors if possible",
    image_urls: [
      "https://file.aiquickdraw.com/custom-page/akr/section-images/1756223420389w8xa2jfe.png",
    ],
    output_format: "png",
    image_size: "1:1",
  },
};

/** Document 004, "Request Example nano-banana-pro Model". */
const nanoBananaProExample = {
  model: "nano-banana-pro",
  callBackUrl: "https://your-domain.com/api/callback",
  input: {
    prompt:
      "Comic poster: cool banana hero in shades leaps from sci-fi pad. Six panels: 1) 4K mountain landscape, 2) banana holds page of long multilingual text with auto translation, 3) Gemini 3 hologram for search/knowledge/reasoning, 4) camera UI sliders for angle focus color, 5) frame trio 1:1-9:16, 6) consistent banana poses. Footer shows Google icons. Tagline: Nano Banana Pro now on Revid API.",
    aspect_ratio: "1:1",
    resolution: "1K",
    output_format: "png",
  },
};

const examples = [
  ["google/nano-banana", nanoBananaExample, 8],
  ["google/nano-banana-edit", nanoBananaEditExample, 8],
  ["nano-banana-pro", nanoBananaProExample, 25],
] as const;

async function createdTaskId(key: string, body: unknown): Promise<string> {
  const answer = await create(key, body);
  expect(answer.status).toBe(200);
  return createTaskResponse.parse(answer.json).data.taskId;
}

describe("the document's request examples", () => {
  for (const [model, example, price] of examples) {
    it(`${model}: the documented create answer, ${price} credits charged`, async () => {
      const key = newKey();
      const answer = await create(key, example);
      expect(answer.status).toBe(200);
      const parsed = createTaskResponse.parse(answer.json);
      expect(parsed).toEqual({ code: 200, msg: "success", data: { taskId: expect.any(String) } });
      expect(kit.balance(kit.account(key))).toBe(100 - price);
    });
  }

  it("the Usage Flow's create path answers the same", async () => {
    const key = newKey();
    const answer = await call("/paid/banana/pro/create", key, nanoBananaProExample);
    expect(createTaskResponse.parse(answer.json).code).toBe(200);
    expect(kit.balance(kit.account(key))).toBe(75);
  });

  it("the query answer: waiting, then success with param and resultJson as JSON strings", async () => {
    const key = newKey();
    const taskId = await createdTaskId(key, nanoBananaProExample);

    const waiting = queryTaskResponse.parse((await query(key, taskId)).json);
    expect(waiting).toMatchObject({ code: 200, msg: "success" });
    expect(waiting.data).toEqual({
      taskId,
      model: "nano-banana-pro",
      state: "waiting",
      param: expect.any(String),
      resultJson: null,
      failCode: null,
      failMsg: null,
      costTime: null,
      completeTime: null,
      createTime: clockMs,
    });
    // The complete create request, defaults filled in (image_input: [] as in the example).
    expect(parseParam(waiting.data.param)).toEqual({
      model: "nano-banana-pro",
      input: { ...nanoBananaProExample.input, image_input: [] },
      callBackUrl: "https://your-domain.com/api/callback",
    });

    clockMs += GENERATION_MS;
    const done = queryTaskResponse.parse((await query(key, taskId)).json).data;
    expect(done).toMatchObject({
      state: "success",
      costTime: GENERATION_MS,
      completeTime: clockMs,
      failCode: null,
      failMsg: null,
    });
    expect(parseParam(done.param)).toEqual(parseParam(waiting.data.param));
    expect(parseResultJson(done.resultJson)).toEqual({
      resultUrls: [`${baseUrl}/files/${taskId}/0.png`],
    });
  });

  it("param of the google models holds their own fields, defaults filled", async () => {
    const key = newKey();
    const { callBackUrl: _, ...withoutCallback } = nanoBananaExample;
    const text = await createdTaskId(key, {
      ...withoutCallback,
      input: { prompt: "a banana" },
    });
    expect(parseParam(queryTaskResponse.parse((await query(key, text)).json).data.param)).toEqual({
      model: "google/nano-banana",
      input: { prompt: "a banana", output_format: "png", image_size: "1:1" },
    });
    const edit = await createdTaskId(key, nanoBananaEditExample);
    expect(parseParam(queryTaskResponse.parse((await query(key, edit)).json).data.param)).toEqual(
      nanoBananaEditExample,
    );
  });
});

describe("callbacks", () => {
  it("posts a body identical to the query answer to callBackUrl when the task ends", async () => {
    faults.generationMs = 20;
    const key = newKey();
    const taskId = await createdTaskId(key, nanoBananaExample);
    await callbacksArrived(1);
    expect(callbacks).toHaveLength(1);
    expect(callbacks[0]!.url).toBe("https://your-domain.com/api/callback");
    const body = queryTaskResponse.parse(callbacks[0]!.body);
    expect(body.data.state).toBe("success");
    expect(callbacks[0]!.body).toEqual((await query(key, taskId)).json);
    expect(createRevidClient({ baseUrl, apiKey: key }).parseCallback(body)).toMatchObject({
      providerTaskId: taskId,
      state: "succeeded",
      output: { urls: [`${baseUrl}/files/${taskId}/0.png`] },
    });
  });

  it("posts failures too, and sends nothing without callBackUrl", async () => {
    faults.generationMs = 20;
    faults.failureRate = 1;
    const key = newKey();
    const { callBackUrl: _, ...withoutCallback } = nanoBananaExample;
    const silent = await createdTaskId(key, withoutCallback);
    const failed = await createdTaskId(key, nanoBananaExample);
    await callbacksArrived(1);
    expect(callbacks.map((c) => (c.body as { data: { taskId: string } }).data.taskId)).toEqual([
      failed,
    ]);
    expect(callbacks[0]!.body).toEqual((await query(key, failed)).json);
    clockMs += 20;
    expect(queryTaskResponse.parse((await query(key, silent)).json).data.state).toBe("fail");
  });
});

describe("errors", () => {
  it("401 without x-api-key (or with a refused one), in the envelope", async () => {
    for (const key of [null, "", "invalid-key"]) {
      const answer = await create(key, nanoBananaProExample);
      expect(answer.status).toBe(401);
      expect(errorEnvelope.parse(answer.json)).toMatchObject({ code: 401, data: null });
    }
  });

  it("errorsAsHttp200: the same envelope in an HTTP 200, which the client still classifies", async () => {
    settings.errorsAsHttp200 = true;
    const answer = await create(null, nanoBananaProExample);
    expect(answer.status).toBe(200);
    expect(errorEnvelope.parse(answer.json).code).toBe(401);
    const error = await createRevidClient({ baseUrl: `${baseUrl}/revid`, apiKey: "invalid" })
      .submit({ taskId: "t", upstreamModel: "nano-banana-pro", input: {}, callbackUrl: null })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).options).toMatchObject({ kind: "circuit", code: "401" });
  });

  it("4K nano-banana-pro charges 35, 2K and 1K 25; 402 once the balance is short", async () => {
    const key = newKey();
    const pro = (resolution: string) => ({
      model: "nano-banana-pro",
      input: { prompt: "a banana", resolution },
    });
    await createdTaskId(key, pro("4K"));
    expect(kit.balance(kit.account(key))).toBe(65);
    await createdTaskId(key, pro("1K"));
    expect(kit.balance(kit.account(key))).toBe(40);
    await createdTaskId(key, pro("2K"));
    expect(kit.balance(kit.account(key))).toBe(15);
    const short = await create(key, pro("1K"));
    expect(short.status).toBe(402);
    expect(errorEnvelope.parse(short.json).code).toBe(402);
  });

  it("a failed task is refunded; its failCode says whether the content was refused", async () => {
    const key = newKey();
    faults.failureRate = 1;
    const failed = await createdTaskId(key, nanoBananaExample);
    faults.failureRate = 0;
    faults.contentFilterRate = 1;
    const refused = await createdTaskId(key, nanoBananaExample);
    expect(kit.balance(kit.account(key))).toBe(84);
    clockMs += GENERATION_MS;
    expect(kit.balance(kit.account(key))).toBe(100);
    const client = createRevidClient({ baseUrl: `${baseUrl}/revid`, apiKey: key });
    const data = queryTaskResponse.parse((await query(key, failed)).json).data;
    expect(data).toMatchObject({ state: "fail", failCode: "500", resultJson: null });
    expect(await client.status(failed, "google/nano-banana")).toMatchObject({ kind: "failover" });
    expect(queryTaskResponse.parse((await query(key, refused)).json).data.failCode).toBe("400");
    expect(await client.status(refused, "google/nano-banana")).toMatchObject({ kind: "fail" });
  });

  it("422 for input the model does not take, 404 for an unknown model or task", async () => {
    const key = newKey();
    for (const input of [
      { prompt: "" },
      { prompt: "a", resolution: "4K" },
      { prompt: "a", aspect_ratio: "1:1" },
      { prompt: "x".repeat(10_001) },
    ]) {
      const answer = await create(key, { model: "google/nano-banana", input });
      expect([answer.status, errorEnvelope.parse(answer.json).code]).toEqual([422, 422]);
    }
    const edit = await create(key, { model: "google/nano-banana-edit", input: { prompt: "a" } });
    expect(edit.status).toBe(422);
    const unknown = await create(key, { model: "google/veo3", input: { prompt: "a" } });
    expect(unknown.status).toBe(404);
    expect((await query(key, "no-such-task")).status).toBe(404);
    expect(kit.balance(kit.account(key))).toBe(100);
  });

  it("another key's task is not found", async () => {
    const taskId = await createdTaskId(newKey(), nanoBananaExample);
    const answer = await query(newKey(), taskId);
    expect([answer.status, errorEnvelope.parse(answer.json).code]).toEqual([404, 404]);
  });

  it("injected 429 carries Retry-After, 5xx is the document's 500", async () => {
    faults.rate429 = 1;
    faults.retryAfterSeconds = 9;
    const limited = await create(newKey(), nanoBananaExample);
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "9"]);
    faults.rate429 = 0;
    faults.rate5xx = 1;
    const broken = await create(newKey(), nanoBananaExample);
    expect(errorEnvelope.parse(broken.json).code).toBe(500);
  });
});

describe("the client, end to end", () => {
  it("submits, polls until success, and fetches the image", async () => {
    const key = newKey();
    const client = createRevidClient({ baseUrl: `${baseUrl}/revid`, apiKey: key });
    const { providerTaskId } = await client.submit({
      taskId: "task_1",
      upstreamModel: "nano-banana-pro",
      input: { prompt: "a banana", resolution: "4K", aspect_ratio: "16:9", output_format: "jpg" },
      callbackUrl: null,
    });
    expect(await client.status(providerTaskId, "nano-banana-pro")).toEqual({ state: "pending" });
    clockMs += GENERATION_MS;
    const done = await client.status(providerTaskId, "nano-banana-pro");
    if (done.state !== "succeeded") throw new Error(`not succeeded: ${done.state}`);
    expect(done.output.urls).toEqual([`${baseUrl}/files/${providerTaskId}/0.jpg`]);
    expect(done.output.metadata).toMatchObject({
      model: "nano-banana-pro",
      costTime: GENERATION_MS,
    });
    const image = await fetch(done.output.urls[0]!);
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe("image/jpeg");
    expect((await image.arrayBuffer()).byteLength).toBeGreaterThan(0);
    expect(kit.balance(kit.account(key))).toBe(65);
  });

  it("an unknown task reads as not_found", async () => {
    const client = createRevidClient({ baseUrl: `${baseUrl}/revid`, apiKey: newKey() });
    expect(await client.status("no-such-task", "nano-banana-pro")).toEqual({ state: "not_found" });
    settings.errorsAsHttp200 = true;
    expect(await client.status("no-such-task", "nano-banana-pro")).toEqual({ state: "not_found" });
  });
});

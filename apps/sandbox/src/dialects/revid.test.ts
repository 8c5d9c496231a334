import { ProviderError } from "@ripen/core";
import {
  createRevidClient,
  createTaskResponse,
  errorEnvelope,
  parseParam,
  parseResultJson,
  queryTaskResponse,
} from "@ripen/dialect-revid";
import { afterEach, describe, expect, it, vi } from "vitest";
import { catchCallbacks, kitOf, sandboxForTests } from "../testing/harness";

// Revid's wire format has no balance endpoint: balances are read from the kit the sandbox builds.
vi.mock("../kit", async (importOriginal) => {
  const kit = await importOriginal<typeof import("../kit")>();
  return { ...kit, createKit: vi.fn(kit.createKit) };
});

/**
 * Contract tests of the revid simulator (document 004) over real HTTP, mounted in the sandbox as
 * it runs (its /files route serves the results): the document's three request examples answered
 * in the documented shape, `param` and `resultJson` as JSON strings, the callback identical to
 * the query answer, prices, errors either way (as the HTTP status or in an HTTP 200), and the
 * client driving it end to end. States follow a clock the tests move; callbacks are awaited as
 * they arrive, never slept for.
 */
const GENERATION_MS = 10_000;
let clockMs = 1_757_584_164_490;

/** Callbacks the simulator posted (never sent anywhere: the examples name your-domain.com). */
const callbacks = catchCallbacks();
const revid = sandboxForTests("revid", {
  now: () => clockMs,
  generationMs: GENERATION_MS,
  initialCredits: 100,
  fetch: callbacks.fetch,
});
afterEach(() => {
  callbacks.clear();
  // Every test's tasks end before the next test starts (the harness cancels their callbacks).
  clockMs += GENERATION_MS * 2;
});
/** A key's balance, as the simulator keeps it. */
const balanceOf = (key: string) => {
  const kit = kitOf("revid");
  return kit.balance(kit.account(key));
};

let keys = 0;
/** A fresh API key: its own account and 100 credits. */
const newKey = () => `revid-key-${++keys}`;

async function call(path: string, key: string | null, body?: unknown) {
  const headers: Record<string, string> = {
    // What `curl -d` sends: the document's examples set no Content-Type of their own.
    "content-type": "application/x-www-form-urlencoded",
  };
  if (key !== null) headers["x-api-key"] = key;
  const response = await fetch(`${revid.apiUrl}${path}`, {
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
      expect(balanceOf(key)).toBe(100 - price);
    });
  }

  it("the Usage Flow's create path answers the same", async () => {
    const key = newKey();
    const answer = await call("/paid/banana/pro/create", key, nanoBananaProExample);
    expect(createTaskResponse.parse(answer.json).code).toBe(200);
    expect(balanceOf(key)).toBe(75);
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
      resultUrls: [`${revid.baseUrl}/files/${taskId}.png`],
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
    revid.setFaults({ generationMs: 20 });
    const key = newKey();
    const taskId = await createdTaskId(key, nanoBananaExample);
    await callbacks.arrived(1);
    expect(callbacks.list).toHaveLength(1);
    expect(callbacks.list[0]!.url).toBe("https://your-domain.com/api/callback");
    const body = queryTaskResponse.parse(callbacks.list[0]!.body);
    expect(body.data.state).toBe("success");
    expect(callbacks.list[0]!.body).toEqual((await query(key, taskId)).json);
    expect(
      createRevidClient({ baseUrl: revid.apiUrl, apiKey: key }).parseCallback(body),
    ).toMatchObject({
      providerTaskId: taskId,
      state: "succeeded",
      output: { urls: [`${revid.baseUrl}/files/${taskId}.png`] },
    });
  });

  it("posts failures too, and sends nothing without callBackUrl", async () => {
    revid.setFaults({ generationMs: 20, failureRate: 1 });
    const key = newKey();
    const { callBackUrl: _, ...withoutCallback } = nanoBananaExample;
    const silent = await createdTaskId(key, withoutCallback);
    const failed = await createdTaskId(key, nanoBananaExample);
    await callbacks.arrived(1);
    expect(callbacks.list.map((c) => (c.body as { data: { taskId: string } }).data.taskId)).toEqual(
      [failed],
    );
    expect(callbacks.list[0]!.body).toEqual((await query(key, failed)).json);
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
    revid.settings.errorsAsHttp200 = true;
    const answer = await create(null, nanoBananaProExample);
    expect(answer.status).toBe(200);
    expect(errorEnvelope.parse(answer.json).code).toBe(401);
    const error = await createRevidClient({ baseUrl: revid.apiUrl, apiKey: "invalid" })
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
    expect(balanceOf(key)).toBe(65);
    await createdTaskId(key, pro("1K"));
    expect(balanceOf(key)).toBe(40);
    await createdTaskId(key, pro("2K"));
    expect(balanceOf(key)).toBe(15);
    const short = await create(key, pro("1K"));
    expect(short.status).toBe(402);
    expect(errorEnvelope.parse(short.json).code).toBe(402);
  });

  it("a failed task is refunded; its failCode says whether the content was refused", async () => {
    const key = newKey();
    revid.setFaults({ failureRate: 1 });
    const failed = await createdTaskId(key, nanoBananaExample);
    revid.setFaults({ contentFilterRate: 1 });
    const refused = await createdTaskId(key, nanoBananaExample);
    expect(balanceOf(key)).toBe(84);
    clockMs += GENERATION_MS;
    expect(balanceOf(key)).toBe(100);
    const client = createRevidClient({ baseUrl: revid.apiUrl, apiKey: key });
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
    expect(balanceOf(key)).toBe(100);
  });

  it("another key's task is not found", async () => {
    const taskId = await createdTaskId(newKey(), nanoBananaExample);
    const answer = await query(newKey(), taskId);
    expect([answer.status, errorEnvelope.parse(answer.json).code]).toEqual([404, 404]);
  });

  it("injected 429 carries Retry-After, 5xx is the document's 500", async () => {
    revid.setFaults({ rate429: 1, retryAfterSeconds: 9 });
    const limited = await create(newKey(), nanoBananaExample);
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "9"]);
    revid.setFaults({ rate5xx: 1 });
    const broken = await create(newKey(), nanoBananaExample);
    expect(errorEnvelope.parse(broken.json).code).toBe(500);
  });
});

describe("the client, end to end", () => {
  it("submits, polls until success, and fetches the image", async () => {
    const key = newKey();
    const client = createRevidClient({ baseUrl: revid.apiUrl, apiKey: key });
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
    expect(done.output.urls).toEqual([`${revid.baseUrl}/files/${providerTaskId}.jpg`]);
    expect(done.output.metadata).toMatchObject({
      model: "nano-banana-pro",
      costTime: GENERATION_MS,
    });
    const image = await fetch(done.output.urls[0]!);
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe("image/jpeg");
    expect((await image.arrayBuffer()).byteLength).toBeGreaterThan(0);
    expect(balanceOf(key)).toBe(65);
  });

  it("an unknown task reads as not_found", async () => {
    const client = createRevidClient({ baseUrl: revid.apiUrl, apiKey: newKey() });
    expect(await client.status("no-such-task", "nano-banana-pro")).toEqual({ state: "not_found" });
    revid.settings.errorsAsHttp200 = true;
    expect(await client.status("no-such-task", "nano-banana-pro")).toEqual({ state: "not_found" });
  });
});

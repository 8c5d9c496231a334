import { once } from "node:events";
import {
  createKieClient,
  createTaskResponse,
  envelope,
  parseParam,
  parseResultJson,
  recordInfoResponse,
} from "@ripen/dialect-kie";
import { afterEach, describe, expect, it, vi } from "vitest";
import { contentTypes } from "../images";
import { catchCallbacks, failureOf, kitOf, sandboxForTests } from "../testing/harness";
import { defaultKieSettings } from "./kie";

// Kie's wire format has no balance endpoint: balances are read from the kit the sandbox builds.
vi.mock("../kit", async (importOriginal) => {
  const kit = await importOriginal<typeof import("../kit")>();
  return { ...kit, createKit: vi.fn(kit.createKit) };
});

/**
 * Contract tests of the kie simulator (document 003) over real HTTP, mounted in the sandbox as it
 * runs (its /files route serves the results): every request example answered in the documented
 * shape, the client driving it end to end, and the dialect's own behaviour (the active task
 * limit, errors as HTTP 200). Time is a clock the tests move, so states change without sleeping.
 */
const GENERATION_MS = 10_000;
const INITIAL_CREDITS = 1_000;
let clockMs = 1_757_584_164_490;

/** Callbacks the simulator posted, caught by its fetch: no receiver is needed to read them. */
const callbacks = catchCallbacks();
const kie = sandboxForTests("kie", {
  now: () => clockMs,
  generationMs: GENERATION_MS,
  initialCredits: INITIAL_CREDITS,
  fetch: callbacks.fetch,
});
afterEach(() => {
  callbacks.clear();
  // Every test's tasks have ended before the next one starts.
  clockMs += GENERATION_MS * 2;
});
const kit = () => kitOf("kie");

let keys = 0;
/** A fresh API key: its own account, credits and active tasks. */
const newKey = () => `kie-key-${++keys}`;

/** Document 003, "Request Example". */
const requestExample = {
  model: "nano-banana-2-text-to-image",
  input: {
    prompt: "A clean product photo of a futuristic yellow camera on a white desk",
    aspect_ratio: "auto",
    resolution: "1K",
    output_format: "png",
  },
};

async function call(
  method: "GET" | "POST",
  path: string,
  key: string | null,
  body?: unknown,
): Promise<{ status: number; json: unknown; headers: Headers }> {
  const response = await fetch(`${kie.apiUrl}${path}`, {
    method,
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json(), headers: response.headers };
}

const create = (key: string, body: unknown = requestExample) =>
  call("POST", "/api/v1/jobs/createTask", key, body);
const recordInfo = (key: string, taskId: string) =>
  call("GET", `/api/v1/jobs/recordInfo?taskId=${encodeURIComponent(taskId)}`, key);

async function createdTaskId(key: string, body: unknown = requestExample): Promise<string> {
  const answer = await create(key, body);
  expect(answer.status).toBe(200);
  return createTaskResponse.parse(answer.json).data.taskId;
}

function expectError(answer: { status: number; json: unknown }, code: number, status = code) {
  expect(answer.status).toBe(status);
  const parsed = envelope.parse(answer.json);
  expect(parsed).toMatchObject({ code, data: null });
  expect(parsed.msg).not.toBe("");
}

describe("document 003's examples", () => {
  it("the create request example answers the documented create shape", async () => {
    const answer = await create(newKey());
    expect(answer.status).toBe(200);
    const parsed = createTaskResponse.strict().parse(answer.json);
    expect(parsed).toMatchObject({ code: 200, msg: "success" });
    expect(parsed.data.taskId).toEqual(expect.any(String));
  });

  it("recordInfo answers the documented shape, param and resultJson as JSON strings", async () => {
    const key = newKey();
    const taskId = await createdTaskId(key);
    clockMs += GENERATION_MS;
    const answer = await recordInfo(key, taskId);
    expect(answer.status).toBe(200);
    const { code, msg, data } = recordInfoResponse.parse(answer.json);
    expect({ code, msg }).toEqual({ code: 200, msg: "success" });
    // Every field of the document's example, with the documented types.
    expect(Object.keys(answer.json as { data: object }).sort()).toEqual(["code", "data", "msg"]);
    expect(Object.keys((answer.json as { data: object }).data).sort()).toEqual(
      [
        "taskId",
        "model",
        "state",
        "param",
        "resultJson",
        "failCode",
        "failMsg",
        "costTime",
        "completeTime",
        "createTime",
      ].sort(),
    );
    expect(data).toMatchObject({
      taskId,
      model: "nano-banana-2-text-to-image",
      state: "success",
      failCode: null,
      failMsg: null,
      costTime: GENERATION_MS,
      completeTime: data.createTime + GENERATION_MS,
    });
    expect(typeof data.param).toBe("string");
    expect(typeof data.resultJson).toBe("string");
    // param: the whole create request; resultJson: {"resultUrls": [...]}.
    expect(JSON.parse(data.param)).toEqual(requestExample);
    expect(parseParam(data)).toEqual(requestExample);
    expect(JSON.parse(data.resultJson!)).toEqual({ resultUrls: [expect.any(String)] });
    // Served by the sandbox's own /files route.
    expect(parseResultJson(data)?.resultUrls).toEqual([`${kie.baseUrl}/files/${taskId}.png`]);
  });

  it("goes waiting → queuing → generating → success, in milliseconds since the epoch", async () => {
    const key = newKey();
    const taskId = await createdTaskId(key);
    const createdAt = clockMs;
    const states: unknown[] = [];
    for (const elapsed of [0, 0.2, 0.5, 1]) {
      clockMs = createdAt + elapsed * GENERATION_MS;
      const { data } = recordInfoResponse.parse((await recordInfo(key, taskId)).json);
      states.push({
        state: data.state,
        resultJson: data.resultJson,
        costTime: data.costTime,
        completeTime: data.completeTime,
      });
      expect(data.createTime).toBe(createdAt);
    }
    expect(states).toEqual([
      { state: "waiting", resultJson: null, costTime: null, completeTime: null },
      { state: "queuing", resultJson: null, costTime: null, completeTime: null },
      { state: "generating", resultJson: null, costTime: null, completeTime: null },
      {
        state: "success",
        resultJson: expect.any(String),
        costTime: GENERATION_MS,
        completeTime: createdAt + GENERATION_MS,
      },
    ]);
  });
});

describe("nano-banana-2-lite, which document 002 says is served through the Kie jobs API", () => {
  const lite = (input: Record<string, unknown>) => ({ model: "nano-banana-2-lite", input });

  it("takes document 002's editing example, charges its 10 credits, and returns a jpg", async () => {
    const key = newKey();
    const before = kit().balance(kit().account(key));
    const taskId = await createdTaskId(
      key,
      lite({
        prompt: "Transform this product photo into a clean studio advertisement",
        image_urls: ["https://example.com/product.png"],
        aspect_ratio: "4:5",
      }),
    );
    expect(kit().balance(kit().account(key))).toBe(before - 10);
    clockMs += GENERATION_MS;
    const data = recordInfoResponse.parse((await recordInfo(key, taskId)).json).data;
    expect(data).toMatchObject({ model: "nano-banana-2-lite", state: "success" });
    expect(parseResultJson(data)?.resultUrls[0]).toMatch(/\.jpg$/);
  });

  it.each([
    ["2K", { prompt: "x", resolution: "2K" }],
    ["output_format", { prompt: "x", output_format: "png" }],
    ["11 images", { prompt: "x", image_urls: Array(11).fill("https://example.com/a.png") }],
  ])("refuses %s with a 422, as document 002 limits it", async (_name, input) => {
    expectError(await create(newKey(), lite(input)), 422);
  });
});

describe("errors, in the document's codes and the {code, msg, data: null} envelope", () => {
  it("answers each documented code the simulator can meet", async () => {
    const key = newKey();
    expectError(await create("invalid-key"), 401);
    expectError(await call("POST", "/api/v1/jobs/createTask", null, requestExample), 401);
    expectError(await create(key, "{broken"), 400);
    expectError(await create(key, { ...requestExample, model: "nano-banana-9" }), 404);
    expectError(await recordInfo(key, "no-such-task"), 404);
    for (const input of [
      { prompt: "x", resolution: "8K" },
      { prompt: "x", aspect_ratio: "7:3" },
      { prompt: "x", output_format: "webp" },
      { prompt: "x", image_urls: ["https://example.com/a.png"] },
      { prompt: "x".repeat(20_001) },
      {},
    ]) {
      expectError(await create(key, { ...requestExample, input }), 422);
    }
    kie.sandbox.configure({ initialCredits: 15 }); // a 1K image costs 16
    expectError(await create(newKey()), 402);
    kie.setFaults({ rate429: 1, retryAfterSeconds: 3 });
    const limited = await create(key);
    expectError(limited, 429);
    expect(limited.headers.get("retry-after")).toBe("3");
    kie.setFaults({});
    kie.sandbox.failNextSubmits(1, 503, "kie");
    expectError(await create(key), 500);
  });

  it("another key's task is not found", async () => {
    const taskId = await createdTaskId(newKey());
    expectError(await recordInfo(newKey(), taskId), 404);
  });

  it("charges the price per resolution (assumed 16 / 24 / 36) and refunds a failed task", async () => {
    const key = newKey();
    const account = kit().account(key);
    for (const [resolution, cost] of [
      ["1K", 16],
      ["2K", 24],
      ["4K", 36],
    ] as const) {
      const before = kit().balance(account);
      await createdTaskId(key, { ...requestExample, input: { prompt: "x", resolution } });
      expect(before - kit().balance(account)).toBe(cost);
    }
    kie.setFaults({ failureRate: 1 });
    const before = kit().balance(account);
    const taskId = await createdTaskId(key);
    expect(kit().balance(account)).toBe(before - 16);
    clockMs += GENERATION_MS;
    const { data } = recordInfoResponse.parse((await recordInfo(key, taskId)).json);
    expect(data).toMatchObject({ state: "fail", failCode: "500", resultJson: null });
    expect(data.failMsg).toEqual(expect.any(String));
    expect(kit().balance(account)).toBe(before);
  });
});

describe("the active task limit (409)", () => {
  it("refuses a key's create beyond the limit until one of its tasks ends", async () => {
    kie.settings.activeTaskLimit = 2;
    const key = newKey();
    await createdTaskId(key);
    clockMs += GENERATION_MS / 2;
    await createdTaskId(key);
    const refused = await create(key);
    expectError(refused, 409);
    expect((refused.json as { msg: string }).msg).toMatch(/active task limit/i);
    // Per key: another account is not held back.
    await createdTaskId(newKey());
    // The first task ends: room for one more, not two.
    clockMs += GENERATION_MS / 2;
    await createdTaskId(key);
    expectError(await create(key), 409);
  });

  it("the client reads the 409 as passing: retry", async () => {
    kie.settings.activeTaskLimit = 1;
    const key = newKey();
    const client = createKieClient({ baseUrl: kie.apiUrl, apiKey: key });
    await client.submit(upstreamRequest());
    const error = await failureOf(client.submit(upstreamRequest()));
    expect(error.options).toMatchObject({ kind: "retry", status: 409, code: "409" });
  });
});

describe("errors as HTTP 200 with the code in the body", () => {
  /** Each way the simulator refuses a call, set up afresh for a fresh key. */
  const refusals: [number, (key: string) => Promise<unknown>][] = [
    [401, () => clientFor("invalid-key").submit(upstreamRequest())],
    [
      402,
      (key) => {
        kie.sandbox.configure({ initialCredits: 0 });
        return clientFor(key).submit(upstreamRequest());
      },
    ],
    [404, (key) => clientFor(key).submit({ ...upstreamRequest(), upstreamModel: "no-model" })],
    [
      409,
      async (key) => {
        kie.settings.activeTaskLimit = 1;
        await clientFor(key).submit(upstreamRequest());
        return clientFor(key).submit(upstreamRequest());
      },
    ],
    [422, (key) => clientFor(key).submit(upstreamRequest({ resolution: "8K" }))],
    [
      429,
      (key) => {
        kie.sandbox.failNextSubmits(1, 429, "kie");
        return clientFor(key).submit(upstreamRequest());
      },
    ],
    [
      500,
      (key) => {
        kie.sandbox.failNextSubmits(1, 500, "kie");
        return clientFor(key).submit(upstreamRequest());
      },
    ],
  ];

  for (const [code, refuse] of refusals) {
    it(`${code}: the same body either way, and the same failure for the client`, async () => {
      const viaStatus = await failureOf(refuse(newKey()).then(() => undefined));
      clockMs += GENERATION_MS * 2;
      Object.assign(kie.settings, defaultKieSettings(), { errorsAsHttp200: true });
      kie.sandbox.configure({ initialCredits: INITIAL_CREDITS });
      const viaBody = await failureOf(refuse(newKey()).then(() => undefined));
      expect(viaStatus.options).toMatchObject({ status: code, code: String(code) });
      expect(viaBody.options).toEqual(viaStatus.options);
      expect(viaBody.message).toContain("(HTTP 200)");
    });
  }

  it("answers HTTP 200 with the error envelope on the wire", async () => {
    kie.settings.errorsAsHttp200 = true;
    expectError(await create("invalid-key"), 401, 200);
    expectError(await recordInfo(newKey(), "no-such-task"), 404, 200);
    expectError(await create(newKey(), "{broken"), 400, 200);
  });

  it("a lost task reads as not_found either way", async () => {
    const client = clientFor(newKey());
    expect(await client.status("no-such-task", MODEL)).toEqual({ state: "not_found" });
    kie.settings.errorsAsHttp200 = true;
    expect(await client.status("no-such-task", MODEL)).toEqual({ state: "not_found" });
  });
});

describe("the client driving the simulator", () => {
  for (const format of ["png", "jpg"] as const) {
    it(`submit → status until done → the ${format} result is fetchable`, async () => {
      const client = clientFor(newKey());
      const { providerTaskId } = await client.submit(upstreamRequest({ output_format: format }));
      const seen: string[] = [];
      let state = await client.status(providerTaskId, MODEL);
      while (state.state === "pending" || state.state === "running") {
        seen.push(state.state);
        clockMs += GENERATION_MS / 4;
        state = await client.status(providerTaskId, MODEL);
      }
      expect(seen).toEqual(["pending", "pending", "running", "running"]);
      if (state.state !== "succeeded") throw new Error(`ended ${state.state}`);
      expect(state.output.urls).toEqual([`${kie.baseUrl}/files/${providerTaskId}.${format}`]);
      const file = await fetch(state.output.urls[0]!);
      expect(file.status).toBe(200);
      expect(file.headers.get("content-type")).toBe(contentTypes[format]);
      const bytes = Buffer.from(await file.arrayBuffer());
      expect(bytes.length).toBeGreaterThan(0);
      const magic = format === "png" ? "89504e47" : "ffd8ff";
      expect(bytes.toString("hex").startsWith(magic)).toBe(true);
    });
  }

  it("a refused prompt ends the task failed, blaming the input", async () => {
    kie.setFaults({ contentFilterRate: 1 });
    const client = clientFor(newKey());
    const { providerTaskId } = await client.submit(upstreamRequest());
    clockMs += GENERATION_MS;
    expect(await client.status(providerTaskId, MODEL)).toEqual({
      state: "failed",
      errorCode: "400",
      errorMessage: expect.stringMatching(/content policy/),
      kind: "fail",
    });
  });

  it("a generation failure ends the task failed, for another provider to try", async () => {
    kie.setFaults({ failureRate: 1 });
    const client = clientFor(newKey());
    const { providerTaskId } = await client.submit(upstreamRequest());
    clockMs += GENERATION_MS;
    expect(await client.status(providerTaskId, MODEL)).toMatchObject({
      state: "failed",
      errorCode: "500",
      kind: "failover",
    });
  });

  it("a create that never answers is an unknown outcome, though the task exists", async () => {
    kie.setFaults({ timeoutRate: 1 });
    const created = once(kie.sandbox.events, "created");
    const before = kie.sandbox.stats.byProvider.kie!.created;
    const client = createKieClient({ baseUrl: kie.apiUrl, apiKey: newKey(), timeoutMs: 100 });
    expect((await failureOf(client.submit(upstreamRequest()))).kind).toBe("unknown");
    const [{ taskId, provider }] = await created;
    expect(provider).toBe("kie");
    expect(kie.sandbox.stats.byProvider.kie!.created).toBe(before + 1);
    expect((await fetch(`${kie.baseUrl}/_sandbox/tasks/${taskId}`)).status).toBe(200);
  });
});

describe("callbacks (callBackUrl: the Kie family's field, not shown by document 003)", () => {
  it("posts the recordInfo answer when the task ends; the client parses it", async () => {
    kie.setFaults({ generationMs: 0 });
    const key = newKey();
    const callBackUrl = "https://ripen.example/callbacks/kie/task_1/1.token";
    const taskId = await createdTaskId(key, { ...requestExample, callBackUrl });
    await callbacks.arrived(1);
    expect(callbacks.list).toHaveLength(1);
    expect(callbacks.list[0]!.url).toBe(callBackUrl);
    const body = recordInfoResponse.parse(callbacks.list[0]!.body);
    // The same body as the query answer, param holding the whole create request.
    expect(callbacks.list[0]!.body).toEqual((await recordInfo(key, taskId)).json);
    expect(parseParam(body.data)).toEqual({ ...requestExample, callBackUrl });
    expect(clientFor(key).parseCallback(callbacks.list[0]!.body)).toEqual({
      providerTaskId: taskId,
      state: "succeeded",
      output: { urls: parseResultJson(body.data)!.resultUrls, metadata: expect.any(Object) },
    });
  });

  it("the client sends callBackUrl and reads a failure's callback", async () => {
    kie.setFaults({ generationMs: 0, failureRate: 1 });
    const client = clientFor(newKey());
    const callbackUrl = "https://ripen.example/callbacks/kie/task_2/1.token";
    const { providerTaskId } = await client.submit({ ...upstreamRequest(), callbackUrl });
    await callbacks.arrived(1);
    expect(callbacks.list[0]!.url).toBe(callbackUrl);
    expect(client.parseCallback(callbacks.list[0]!.body)).toMatchObject({
      providerTaskId,
      state: "failed",
      errorCode: "500",
      kind: "failover",
    });
  });

  it("sends none without a callBackUrl", async () => {
    kie.setFaults({ generationMs: 0 });
    const key = newKey();
    const silent = await createdTaskId(key);
    const callBackUrl = "https://ripen.example/callbacks/kie/task_3/1.token";
    const heard = await createdTaskId(key, { ...requestExample, callBackUrl });
    // Both end at once, in order: by the time the second task's callback arrives, the first
    // one's would have been sent.
    await callbacks.arrived(1);
    expect(callbacks.list.map((c) => (c.body as { data: { taskId: string } }).data.taskId)).toEqual(
      [heard],
    );
    expect(silent).not.toBe(heard);
  });
});

const MODEL = "nano-banana-2-text-to-image";

function upstreamRequest(input: Record<string, unknown> = {}) {
  return {
    taskId: "task_ripen",
    upstreamModel: MODEL,
    input: { prompt: "a yellow camera", resolution: "1K", ...input },
    callbackUrl: null,
  };
}

const clientFor = (apiKey: string) => createKieClient({ baseUrl: kie.apiUrl, apiKey });

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { InsufficientCredits, ServiceUnavailable, TaskNotFound } from "@ripen/core";
import express from "express";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseModelInput } from "./models";
import { documentedCost } from "./prices";
import { createRevidRouter, type RevidBackend } from "./router";
import { type CreateTaskRequest, errorEnvelope, type TaskRecord } from "./schemas";

/** The router over an in-test backend that validates input as a real one must. */
let errorsAsHttp200 = false;
let onCreate: (request: CreateTaskRequest) => Promise<{ taskId: string }>;
let onGet: (taskId: string) => Promise<TaskRecord>;
const unexpected: unknown[] = [];

const backend: RevidBackend<string> = {
  async authenticate(apiKey) {
    return apiKey === "rk-test" ? "principal" : null;
  },
  createTask: (_principal, request) => onCreate(request),
  getTask: (_principal, taskId) => onGet(taskId),
};

let server: Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use(
    "/revid",
    createRevidRouter(backend, {
      bodyLimit: "64kb",
      errorsAsHttp200: () => errorsAsHttp200,
      onUnexpectedError: (error) => unexpected.push(error),
    }),
  );
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/revid`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  errorsAsHttp200 = false;
  unexpected.length = 0;
  onCreate = async (request) => {
    parseModelInput(request.model, request.input);
    return { taskId: "t-1" };
  };
  onGet = async (taskId) => {
    if (taskId !== "t-1") throw new TaskNotFound(taskId);
    return {
      taskId,
      model: "nano-banana-pro",
      state: "waiting",
      param: "{}",
      resultJson: null,
      failCode: null,
      failMsg: null,
      costTime: null,
      completeTime: null,
      createTime: 1,
    };
  };
});

async function call(
  path: string,
  body?: string,
  headers: Record<string, string> = { "x-api-key": "rk-test" },
  method = "POST",
) {
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const json = (await response.json()) as { code: number; msg: string; data: unknown };
  return { status: response.status, json, headers: response.headers };
}

const create = (body: unknown, headers?: Record<string, string>) =>
  call("/paid/nano/banana/create", typeof body === "string" ? body : JSON.stringify(body), headers);

/** An error answer: the envelope, the code as the HTTP status too, and nothing unexpected. */
function expectError(answer: Awaited<ReturnType<typeof call>>, code: number, msg?: RegExp) {
  expect(errorEnvelope.parse(answer.json).code).toBe(code);
  expect(answer.status).toBe(code);
  if (msg) expect(answer.json.msg).toMatch(msg);
  expect(unexpected).toEqual([]);
}

const pro = (input: Record<string, unknown>) => ({
  model: "nano-banana-pro",
  input: { prompt: "a cat", ...input },
});

describe("authentication", () => {
  it("401 without x-api-key, with a blank one, or with a Bearer token instead", async () => {
    expectError(await create(pro({}), {}), 401, /x-api-key/);
    expectError(await create(pro({}), { "x-api-key": "  " }), 401);
    expectError(await create(pro({}), { authorization: "Bearer rk-test" }), 401);
    expectError(await create(pro({}), { "x-api-key": "rk-other" }), 401);
  });

  it("authenticates before reading the body", async () => {
    expectError(await create("{broken", {}), 401);
  });
});

describe("create", () => {
  it("answers the documented shape on both the documented path and the Usage Flow alias", async () => {
    for (const path of ["/paid/nano/banana/create", "/paid/banana/pro/create"]) {
      const answer = await call(path, JSON.stringify(pro({})));
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ code: 200, msg: "success", data: { taskId: "t-1" } });
    }
  });

  it("reads the body as JSON whatever the Content-Type (the document's curl sends none)", async () => {
    const answer = await create(pro({}), { "x-api-key": "rk-test", "content-type": "text/plain" });
    expect(answer.status).toBe(200);
  });

  it("400 for a body that is not a readable JSON object", async () => {
    for (const body of ["{broken", "[1]", '"x"', "null", "7"]) {
      expectError(await create(body), 400);
    }
    expectError(await create({ ...pro({}), blob: "x".repeat(70_000) }), 400, /limit/);
  });

  it("400 for a wrong top level: missing or mistyped model/input, unknown fields, bad callBackUrl", async () => {
    expectError(await create({ input: { prompt: "a" } }), 400, /'model' is required/);
    expectError(await create({ model: 7, input: {} }), 400, /'model'/);
    expectError(await create({ model: "nano-banana-pro" }), 400, /'input' is required/);
    expectError(await create({ model: "nano-banana-pro", input: [] }), 400, /'input'/);
    expectError(await create({ ...pro({}), callbackUrl: "https://x.example" }), 400, /callbackUrl/);
    expectError(await create({ ...pro({}), callBackUrl: "ftp://x.example" }), 400, /callBackUrl/);
    expectError(await create('{"model":"nano-banana-pro","input":{},"__proto__":{"x":1}}'), 400);
  });

  it("422 for input the model does not take", async () => {
    expectError(await create(pro({ prompt: "" })), 422, /'input.prompt'/);
    expectError(await create(pro({ prompt: "x".repeat(10_001) })), 422, /10000/);
    expectError(await create(pro({ resolution: "8K" })), 422, /'input.resolution'/);
    expectError(await create(pro({ image_input: Array(9).fill("https://a.example/x.png") })), 422);
    expectError(await create(pro({ image_urls: ["https://a.example/x.png"] })), 422, /image_input/);
    expectError(await create(pro({ prompt: "a\u0000b" })), 422, /NUL/);
    expectError(await create('{"model":"nano-banana-pro","input":{"prompt":"\\ud800"}}'), 422);
    expectError(
      await create('{"model":"nano-banana-pro","input":{"prompt":"a","__proto__":{"x":1}}}'),
      422,
      /__proto__/,
    );
    expectError(await create(pro({ aspect_ratio: 1e308 })), 422);
    expectError(
      await create({ model: "google/nano-banana", input: { prompt: "a", aspect_ratio: "1:1" } }),
      422,
      /image_size/,
    );
    expectError(await create({ model: "google/nano-banana-edit", input: { prompt: "a" } }), 422);
  });

  it("404 for a model the host does not serve, 402 and 500 from the backend", async () => {
    expectError(await create({ model: "google/veo3", input: { prompt: "a" } }), 404, /veo3/);
    onCreate = () => Promise.reject(new InsufficientCredits(25, 3));
    expectError(await create(pro({})), 402);
    onCreate = () => Promise.reject(new ServiceUnavailable("db away"));
    const away = await create(pro({}));
    expectError(away, 500);
    expect(away.headers.get("retry-after")).toBe("5");
    onCreate = () => Promise.reject(new Error("bug"));
    const bug = await create(pro({}));
    expect(bug.status).toBe(500);
    expect(bug.json).toEqual({ code: 500, msg: expect.any(String), data: null });
    expect(unexpected).toHaveLength(1);
  });

  it("errorsAsHttp200: the same envelopes, with HTTP 200", async () => {
    errorsAsHttp200 = true;
    for (const [answer, code] of [
      [await create(pro({}), {}), 401],
      [await create(pro({ resolution: "8K" })), 422],
      [await call("/nope"), 404],
    ] as const) {
      expect(answer.status).toBe(200);
      expect(errorEnvelope.parse(answer.json).code).toBe(code);
    }
  });
});

describe("query", () => {
  it("POST with taskId in the query string", async () => {
    const answer = await call("/paid/get/taskid?taskId=t-1");
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ code: 200, msg: "success", data: { taskId: "t-1" } });
  });

  it("ignores a body, even a broken one", async () => {
    expect((await call("/paid/get/taskid?taskId=t-1", "{broken")).status).toBe(200);
  });

  it("404 for an unknown task; 400/422 for a missing, repeated or unusable taskId", async () => {
    expectError(await call("/paid/get/taskid?taskId=nope"), 404);
    expectError(await call("/paid/get/taskid"), 400);
    expectError(await call("/paid/get/taskid?taskId="), 400);
    expectError(await call("/paid/get/taskid?taskId=a&taskId=b"), 400);
    expectError(await call(`/paid/get/taskid?taskId=${"a".repeat(201)}`), 422);
    expectError(await call("/paid/get/taskid?taskId=a%00b"), 422);
    expectError(await call("/paid/get/taskid?taskId=%ED%A0%80"), 404);
  });

  it("is POST only, as documented: GET is an unknown endpoint", async () => {
    expectError(await call("/paid/get/taskid?taskId=t-1", undefined, undefined, "GET"), 404);
  });
});

it("unknown routes: 404 in the envelope", async () => {
  expectError(await call("/api/v1/jobs/createTask", "{}"), 404, /No endpoint/);
  // Malformed percent-encoding in a path no route declares a parameter for: still a 4xx.
  expectError(await call("/paid/%E0%A4%A", "{}"), 404);
});

describe("models and prices", () => {
  it("fills each model's documented defaults, and only its own fields", () => {
    expect(parseModelInput("nano-banana-pro", { prompt: "a" })).toEqual({
      prompt: "a",
      image_input: [],
      aspect_ratio: "1:1",
      resolution: "1K",
      output_format: "png",
    });
    expect(parseModelInput("google/nano-banana", { prompt: "a" })).toEqual({
      prompt: "a",
      output_format: "png",
      image_size: "1:1",
    });
    expect(
      parseModelInput("google/nano-banana-edit", {
        prompt: "a",
        image_urls: ["https://a.example/x.png"],
        image_size: "auto",
        output_format: "jpg",
      }),
    ).toEqual({
      prompt: "a",
      image_urls: ["https://a.example/x.png"],
      output_format: "jpg",
      image_size: "auto",
    });
  });

  it("charges the documented credits", () => {
    expect(documentedCost("google/nano-banana", { prompt: "a" })).toBe(8);
    expect(documentedCost("google/nano-banana-edit", { prompt: "a" })).toBe(8);
    expect(documentedCost("nano-banana-pro", { prompt: "a" })).toBe(25);
    expect(documentedCost("nano-banana-pro", { resolution: "1K" })).toBe(25);
    expect(documentedCost("nano-banana-pro", { resolution: "2K" })).toBe(25);
    expect(documentedCost("nano-banana-pro", { resolution: "4K" })).toBe(35);
    expect(documentedCost("nano-banana-pro", { resolution: "8K" })).toBeUndefined();
    expect(documentedCost("google/veo3", {})).toBeUndefined();
    expect(documentedCost("__proto__", {})).toBeUndefined();
  });
});

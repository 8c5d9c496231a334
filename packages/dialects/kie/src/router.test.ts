import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ModelNotFound, parseInput, TaskNotFound } from "@ripen/core";
import express from "express";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { z } from "zod";
import { documentedModels, isKieModel } from "./models";
import { createKieRouter, type KieBackend } from "./router";
import { type CreateTaskRequest, envelope } from "./schemas";

/** The router's own guarantees, over real HTTP, with a backend that validates like a real one. */
let created: CreateTaskRequest[];
let unexpected: unknown[];
let errorsAsHttp200 = false;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  const backend: KieBackend<string> = {
    async authenticate(apiKey) {
      return apiKey.startsWith("invalid") ? null : apiKey;
    },
    async createTask(_principal, request) {
      if (request.model === "boom") throw new Error("backend bug");
      if (!isKieModel(request.model)) throw new ModelNotFound(request.model);
      parseInput(documentedModels[request.model] as z.ZodType, request.input);
      created.push(request);
      return { taskId: "task_1" };
    },
    async getTask(_principal, taskId) {
      throw new TaskNotFound(taskId);
    },
  };
  const app = express();
  app.use(
    "/kie",
    createKieRouter(backend, {
      bodyLimit: "64kb",
      errorsAsHttp200: () => errorsAsHttp200,
      onUnexpectedError: (error) => unexpected.push(error),
    }),
  );
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/kie`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  created = [];
  unexpected = [];
  errorsAsHttp200 = false;
});

const auth = { authorization: "Bearer kie-key" };
const example = {
  model: "nano-banana-2-text-to-image",
  input: {
    prompt: "A clean product photo of a futuristic yellow camera on a white desk",
    aspect_ratio: "auto",
    resolution: "1K",
    output_format: "png",
  },
};

async function post(body: string, headers: Record<string, string> = auth) {
  const response = await fetch(`${baseUrl}/api/v1/jobs/createTask`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Answered with `code` as the HTTP status and in the `{code, msg, data: null}` envelope. */
function expectError(answer: { status: number; json: unknown }, code: number) {
  expect(answer.status).toBe(code);
  expect(envelope.parse(answer.json)).toMatchObject({ code, data: null });
  expect((answer.json as { msg: string }).msg).not.toBe("");
}

describe("authentication", () => {
  it("401 without a bearer key or with a refused one, before the body is read", async () => {
    expectError(await post(JSON.stringify(example), {}), 401);
    expectError(await post(JSON.stringify(example), { authorization: "Basic a2llOmtleQ==" }), 401);
    expectError(await post("{broken", { authorization: "Bearer invalid-key" }), 401);
    expect(created).toEqual([]);
  });
});

describe("bad input is a 4xx in the envelope, never a 500", () => {
  const prompt = (value: unknown) => ({ ...example, input: { ...example.input, prompt: value } });
  const cases: [string, string, number][] = [
    ["broken JSON", "{", 400],
    ["a JSON array", "[]", 400],
    ["a JSON string", '"text"', 400],
    ["null", "null", 400],
    ["an unknown model", JSON.stringify({ ...example, model: "nano-banana-9" }), 404],
    ["no model", JSON.stringify({ input: example.input }), 422],
    ["a numeric model", JSON.stringify({ ...example, model: 7 }), 422],
    ["no input", JSON.stringify({ model: example.model }), 422],
    ["input an array", JSON.stringify({ ...example, input: [] }), 422],
    ["an unknown top-level field", JSON.stringify({ ...example, extra: 1 }), 422],
    ["a __proto__ key at the top", '{"__proto__":{"x":1},"model":"m","input":{}}', 422],
    [
      "a __proto__ key in input",
      JSON.stringify(example).replace('"prompt"', '"__proto__":{"a":1},"prompt"'),
      422,
    ],
    ["a NUL byte in the prompt", JSON.stringify(prompt("a\u0000b")), 422],
    ["a lone surrogate in the prompt", JSON.stringify(prompt("a\ud800b")), 422],
    ["a lone surrogate in the model", '{"model":"\\udc00","input":{}}', 422],
    ["an empty prompt", JSON.stringify(prompt("  ")), 422],
    ["a numeric prompt", JSON.stringify(prompt(12)), 422],
    ["a prompt of 20,001 characters", JSON.stringify(prompt("x".repeat(20_001))), 422],
    ["a body over the limit", JSON.stringify(prompt("x".repeat(70_000))), 400],
    [
      "an unknown aspect ratio",
      JSON.stringify({ ...example, input: { prompt: "x", aspect_ratio: "7:3" } }),
      422,
    ],
    ["8K", JSON.stringify({ ...example, input: { prompt: "x", resolution: "8K" } }), 422],
    ["webp", JSON.stringify({ ...example, input: { prompt: "x", output_format: "webp" } }), 422],
    ["image_urls", JSON.stringify({ ...example, input: { prompt: "x", image_urls: [] } }), 422],
    [
      "a non-http callBackUrl",
      JSON.stringify({ ...example, callBackUrl: "file:///etc/passwd" }),
      422,
    ],
    ["a huge model name", JSON.stringify({ ...example, model: "m".repeat(10_000) }), 422],
  ];
  for (const [name, body, code] of cases) {
    it(`${name} → ${code}`, async () => {
      expectError(await post(body), code);
      expect(created).toEqual([]);
      expect(unexpected).toEqual([]);
    });
  }

  it("a prompt of exactly 20,000 characters is accepted", async () => {
    const answer = await post(JSON.stringify(prompt("x".repeat(20_000))));
    expect(answer.json).toEqual({ code: 200, msg: "success", data: { taskId: "task_1" } });
  });

  it("recordInfo needs one taskId, bounded and storable", async () => {
    for (const [query, code] of [
      ["", 400],
      ["?taskId=", 400],
      ["?taskId=a&taskId=b", 400],
      ["?taskId[x]=a", 400],
      ["?taskId=a%00b", 422],
      ["?taskId=%ED%A0%80", 404],
      [`?taskId=${"a".repeat(201)}`, 422],
      ["?taskId=__proto__", 404],
    ] as const) {
      const response = await fetch(`${baseUrl}/api/v1/jobs/recordInfo${query}`, { headers: auth });
      expectError({ status: response.status, json: await response.json() }, code);
    }
  });
});

describe("the envelope", () => {
  it("answers the document's create example", async () => {
    const answer = await post(JSON.stringify(example));
    expect(answer).toEqual({
      status: 200,
      json: { code: 200, msg: "success", data: { taskId: "task_1" } },
    });
    expect(created).toEqual([example]);
  });

  it("answers unknown routes 404 in the envelope", async () => {
    for (const [method, path] of [
      ["GET", "/api/v1/jobs/createTask"],
      ["POST", "/api/v1/jobs/recordInfo"],
      ["GET", "/nothing"],
    ]) {
      const response = await fetch(`${baseUrl}${path}`, { method, headers: auth });
      expectError({ status: response.status, json: await response.json() }, 404);
    }
  });

  it("an unexpected backend error is a 500 that says nothing of it, and is reported", async () => {
    const answer = await post(JSON.stringify({ ...example, model: "boom" }));
    expectError(answer, 500);
    expect(JSON.stringify(answer.json)).not.toContain("backend bug");
    expect(unexpected).toHaveLength(1);
  });

  it("can answer every error as HTTP 200 with the code in the body", async () => {
    errorsAsHttp200 = true;
    const answer = await post("{");
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ code: 400, data: null });
    const unauthenticated = await post("{}", {});
    expect(unauthenticated.status).toBe(200);
    expect(unauthenticated.json).toMatchObject({ code: 401, data: null });
  });
});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type FailureKind,
  InvalidRequest,
  ProviderError,
  TaskNotFound,
  type UpstreamRequest,
} from "@ripen/core";
import express from "express";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRevidClient, failureKindOf } from "./client";
import { errorReference, WireError, type WireErrorCode } from "./errors";
import { createRevidRouter, type RevidBackend } from "./router";
import type { CreateTaskRequest, TaskRecord } from "./schemas";

const API_KEY = "rk-test";

/**
 * The upstream: the dialect's own router over a backend that answers what each test wants, with
 * a raw answer (or silence) in front of it for what no revid server would say.
 */
let raw: { status: number; body?: string; headers?: Record<string, string> } | "hang" | null;
let errorsAsHttp200 = false;
let onCreate: (request: CreateTaskRequest) => Promise<{ taskId: string }>;
let onGet: (taskId: string) => Promise<TaskRecord>;
const received: { apiKey: string; request?: CreateTaskRequest }[] = [];

const backend: RevidBackend<string> = {
  async authenticate(apiKey) {
    received.push({ apiKey });
    return apiKey === API_KEY ? "principal" : null;
  },
  createTask: (_principal, request) => {
    received.at(-1)!.request = request;
    return onCreate(request);
  },
  getTask: (_principal, taskId) => onGet(taskId),
};

let server: Server;
let baseUrl: string;

beforeAll(async () => {
  const app = express();
  app.use((req, res, next) => {
    if (raw === null) return next();
    req.resume();
    if (raw === "hang") return;
    res.writeHead(raw.status, { "content-type": "application/json", ...raw.headers });
    res.end(raw.body ?? "");
  });
  app.use("/revid", createRevidRouter(backend, { errorsAsHttp200: () => errorsAsHttp200 }));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/revid`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  raw = null;
  errorsAsHttp200 = false;
  received.length = 0;
  onCreate = async () => ({ taskId: "up-1" });
  onGet = async (taskId) => record({ taskId });
});

const record = (overrides: Partial<TaskRecord> = {}): TaskRecord => ({
  taskId: "up-1",
  model: "nano-banana-pro",
  state: "waiting",
  param: JSON.stringify({ model: "nano-banana-pro", input: { prompt: "a cat" } }),
  resultJson: null,
  failCode: null,
  failMsg: null,
  costTime: null,
  completeTime: null,
  createTime: 1_757_584_164_490,
  ...overrides,
});

const request: UpstreamRequest = {
  taskId: "task_1",
  upstreamModel: "nano-banana-pro",
  input: { prompt: "a cat", aspect_ratio: "16:9", resolution: "4K" },
  callbackUrl: "https://ripen.example/callbacks/revid/task_1/1.token",
};
const client = (url = baseUrl, timeoutMs = 2_000, apiKey = API_KEY) =>
  createRevidClient({ baseUrl: url, apiKey, timeoutMs });

async function failureOf(call: Promise<unknown>): Promise<ProviderError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/** Document 004, "Error Codes", as Ripen the client handles each row (and Kie's 409). */
const expectedKind: Record<WireErrorCode | 409, FailureKind> = {
  400: "fail",
  401: "circuit",
  402: "circuit",
  404: "failover",
  422: "fail",
  429: "retry",
  500: "retry",
  409: "retry",
};

describe("submit", () => {
  it("posts {model, callBackUrl, input} with x-api-key and reads the taskId", async () => {
    expect(await client().submit(request)).toEqual({ providerTaskId: "up-1" });
    expect(received).toEqual([
      {
        apiKey: API_KEY,
        request: {
          model: "nano-banana-pro",
          input: request.input,
          callBackUrl: request.callbackUrl,
        },
      },
    ]);
  });

  it("leaves callBackUrl out when callbacks are not wanted", async () => {
    await client().submit({ ...request, callbackUrl: null });
    expect(received[0]!.request).toEqual({ model: "nano-banana-pro", input: request.input });
  });

  it("a refused key opens the circuit", async () => {
    const error = await failureOf(client(baseUrl, 2_000, "rk-wrong").submit(request));
    expect(error.options).toMatchObject({ kind: "circuit", status: 401, code: "401" });
  });
});

describe("every documented error code of a submit, classified", () => {
  it("the table covers exactly the documented codes (and Kie's 409)", () => {
    expect(Object.keys(failureKindOf).sort()).toEqual(Object.keys(expectedKind).sort());
  });
  for (const [code, kind] of Object.entries(expectedKind)) {
    const documented = Object.hasOwn(errorReference, code);
    const answerWith = (status: number) => {
      if (documented) onCreate = async () => Promise.reject(new WireError(Number(code) as 400));
      else raw = { status, body: JSON.stringify({ code: Number(code), msg: "busy", data: null }) };
    };
    it(`${code} as the HTTP status → ${kind}`, async () => {
      answerWith(Number(code));
      const error = await failureOf(client().submit(request));
      expect(error.kind).toBe(kind);
      expect(error.options).toMatchObject({ status: Number(code), code });
    });
    it(`${code} in the body of an HTTP 200 → ${kind}`, async () => {
      errorsAsHttp200 = true;
      answerWith(200);
      const error = await failureOf(client().submit(request));
      expect(error.kind).toBe(kind);
      // The body's code decides, and is reported as the status: a 429 inside a 200 is busy.
      expect(error.options).toMatchObject({ status: Number(code), code });
    });
  }

  it("honours Retry-After", async () => {
    onCreate = () => Promise.reject(new WireError(429, "slow down", { "retry-after": "7" }));
    expect((await failureOf(client().submit(request))).options.retryAfterMs).toBe(7_000);
    errorsAsHttp200 = true;
    expect((await failureOf(client().submit(request))).options.retryAfterMs).toBe(7_000);
  });

  it("classifies answers without the envelope by their status", async () => {
    for (const [status, kind] of [
      [502, "retry"],
      [503, "retry"],
      [401, "circuit"],
      [403, "circuit"],
      [413, "fail"],
    ] as const) {
      raw = { status, body: "<html>proxy error</html>" };
      const error = await failureOf(client().submit(request));
      expect(error.options).toMatchObject({ kind, status, code: undefined });
    }
  });

  it("an unreadable 2xx or one without a taskId: unknown outcome, never a plain retry", async () => {
    for (const body of ["", "<html>ok</html>", '{"code":200,"msg":"success","data":{}}', "{}"]) {
      raw = { status: 200, body };
      expect((await failureOf(client().submit(request))).kind).toBe("unknown");
    }
  });

  it("a hang past the timeout after sending: unknown", async () => {
    raw = "hang";
    expect((await failureOf(client(baseUrl, 100).submit(request))).kind).toBe("unknown");
  });

  it("nothing listening: the request never left, so a retry is safe", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    expect((await failureOf(client(`http://127.0.0.1:${port}`).submit(request))).kind).toBe(
      "retry",
    );
  });
});

describe("status", () => {
  it("asks POST /paid/get/taskid?taskId= and reads waiting as pending", async () => {
    let asked = "";
    onGet = async (taskId) => {
      asked = taskId;
      return record({ taskId });
    };
    expect(await client().status("up-1/é&x", "nano-banana-pro")).toEqual({ state: "pending" });
    expect(asked).toBe("up-1/é&x");
  });

  it("parses the resultJson string of a success into urls and metadata", async () => {
    onGet = async () =>
      record({
        state: "success",
        resultJson: JSON.stringify({ resultUrls: ["https://cdn.example/a.png"] }),
        costTime: 12_000,
        completeTime: 1_757_584_176_490,
      });
    expect(await client().status("up-1", "nano-banana-pro")).toEqual({
      state: "succeeded",
      output: {
        urls: ["https://cdn.example/a.png"],
        metadata: {
          model: "nano-banana-pro",
          costTime: 12_000,
          completeTime: 1_757_584_176_490,
          createTime: 1_757_584_164_490,
        },
      },
    });
  });

  it("a success without resultUrls is a failure another provider can redo", async () => {
    for (const resultJson of [null, "", "not json", '{"resultObject":{}}', '{"resultUrls":[]}']) {
      onGet = async () => record({ state: "success", resultJson });
      expect(await client().status("up-1", "nano-banana-pro")).toMatchObject({
        state: "failed",
        errorCode: "empty_result",
        kind: "failover",
      });
    }
  });

  it("a failed task fails over, unless its input or content is to blame", async () => {
    onGet = async () => record({ state: "fail", failCode: "500", failMsg: "Internal error" });
    expect(await client().status("up-1", "nano-banana-pro")).toEqual({
      state: "failed",
      errorCode: "500",
      errorMessage: "Internal error",
      kind: "failover",
    });
    onGet = async () =>
      record({ state: "fail", failCode: "501", failMsg: "Content flagged by safety policy" });
    expect(await client().status("up-1", "nano-banana-pro")).toMatchObject({ kind: "fail" });
    onGet = async () => record({ state: "fail", failCode: "422", failMsg: "Bad" });
    expect(await client().status("up-1", "nano-banana-pro")).toMatchObject({ kind: "fail" });
    onGet = async () => record({ state: "fail" });
    expect(await client().status("up-1", "nano-banana-pro")).toMatchObject({
      errorCode: "generation_failed",
      kind: "failover",
    });
  });

  it("reads Kie's undocumented in-progress states as running, and a numeric failCode as text", async () => {
    const data = { ...record(), state: "generating" };
    raw = { status: 200, body: JSON.stringify({ code: 200, msg: "success", data }) };
    expect(await client().status("up-1", "nano-banana-pro")).toEqual({ state: "running" });
    const failed = { ...record(), state: "fail", failCode: 500, failMsg: "x" };
    raw = { status: 200, body: JSON.stringify({ code: 200, msg: "success", data: failed }) };
    expect(await client().status("up-1", "nano-banana-pro")).toMatchObject({ errorCode: "500" });
  });

  it("reads the envelope's 404 as the upstream having lost the task, as status or in the body", async () => {
    onGet = (taskId) => Promise.reject(new TaskNotFound(taskId));
    expect(await client().status("up-1", "nano-banana-pro")).toEqual({ state: "not_found" });
    errorsAsHttp200 = true;
    expect(await client().status("up-1", "nano-banana-pro")).toEqual({ state: "not_found" });
  });

  it("does not take a 404 without the envelope (a proxy, a wrong path) for a lost task", async () => {
    raw = { status: 404, body: "not here" };
    expect((await failureOf(client().status("up-1", "nano-banana-pro"))).kind).toBe("retry");
  });

  it("classifies errors like submit, and an unreadable answer or a hang as retry", async () => {
    onGet = () => Promise.reject(new WireError(401));
    expect((await failureOf(client().status("up-1", "nano-banana-pro"))).kind).toBe("circuit");
    onGet = () => Promise.reject(new WireError(429, "slow", { "retry-after": "3" }));
    expect((await failureOf(client().status("up-1", "nano-banana-pro"))).options).toMatchObject({
      kind: "retry",
      retryAfterMs: 3_000,
    });
    raw = { status: 200, body: '{"code":200,"msg":"success","data":{"taskId":"up-1"}}' };
    expect((await failureOf(client().status("up-1", "nano-banana-pro"))).kind).toBe("retry");
    raw = "hang";
    expect((await failureOf(client(baseUrl, 100).status("up-1", "nano-banana-pro"))).kind).toBe(
      "retry",
    );
  });
});

describe("callbacks", () => {
  const body = {
    code: 200,
    msg: "success",
    data: record({
      state: "success",
      resultJson: '{"resultUrls":["https://cdn.example/a.png"]}',
      costTime: 9_000,
      completeTime: 1_757_584_173_490,
    }),
  };

  it("says it sends them, and parses the body (the query answer) into the task's state", () => {
    expect(client().sendsCallbacks).toBe(true);
    expect(client().parseCallback(body)).toMatchObject({
      providerTaskId: "up-1",
      state: "succeeded",
      output: { urls: ["https://cdn.example/a.png"] },
    });
    const failed = { code: 501, msg: "fail", data: record({ state: "fail", failMsg: "boom" }) };
    expect(client().parseCallback(failed)).toMatchObject({
      providerTaskId: "up-1",
      state: "failed",
      errorMessage: "boom",
      kind: "failover",
    });
  });

  it("refuses what is not a callback", () => {
    for (const bad of [null, "x", {}, { code: 200, msg: "s", data: { taskId: "" } }, body.data]) {
      expect(() => client().parseCallback(bad)).toThrow(InvalidRequest);
    }
  });
});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type FailureKind,
  InvalidRequest,
  ProviderError,
  TaskNotFound,
  type UpstreamRequest,
} from "@ripen/core";
import express, { type NextFunction, type Request, type Response } from "express";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createKieClient, failureKindOf } from "./client";
import { WireError, type WireErrorCode, wireErrorCodes } from "./errors";
import { documentedCost } from "./prices";
import { createKieRouter, type KieBackend } from "./router";
import {
  type CreateTaskRequest,
  parseParam,
  parseResultJson,
  type RecordInfoData,
} from "./schemas";

/**
 * The client against the dialect's own router over real HTTP. The in-test backend answers what
 * each test sets; `raw` answers in front of the router (a proxy's page, a broken body, silence).
 */
let createTask: (request: CreateTaskRequest) => Promise<{ taskId: string }>;
let getTask: (taskId: string) => Promise<RecordInfoData>;
let raw: ((req: Request, res: Response) => void) | "hang" | null;
let errorsAsHttp200: boolean;
let seenKeys: string[];

let server: Server;
let baseUrl: string;

beforeAll(async () => {
  const backend: KieBackend<string> = {
    async authenticate(apiKey) {
      seenKeys.push(apiKey);
      return apiKey;
    },
    createTask: (_principal, request) => createTask(request),
    getTask: (_principal, taskId) => getTask(taskId),
  };
  const app = express();
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (raw === "hang") return;
    if (raw) raw(req, res);
    else next();
  });
  app.use(createKieRouter(backend, { errorsAsHttp200: () => errorsAsHttp200 }));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  createTask = async () => ({ taskId: "task_1" });
  getTask = async (taskId) => record({ taskId, state: "waiting" });
  raw = null;
  errorsAsHttp200 = false;
  seenKeys = [];
});

const request: UpstreamRequest = {
  taskId: "task_ripen",
  upstreamModel: "nano-banana-2-text-to-image",
  input: { prompt: "a cat", aspect_ratio: "auto", resolution: "1K", output_format: "png" },
  callbackUrl: null,
};
const client = (url = baseUrl, timeoutMs = 2_000) =>
  createKieClient({ baseUrl: url, apiKey: "kie-test-key", timeoutMs });
const submit = (c = client()) => c.submit(request);
const status = (c = client()) => c.status("task_1", request.upstreamModel);

/** Document 003's query example, with the fields a test changes. */
function record(fields: Partial<RecordInfoData> = {}): RecordInfoData {
  return {
    taskId: "task_1",
    model: "nano-banana-2-text-to-image",
    state: "success",
    param: JSON.stringify({ model: "nano-banana-2-text-to-image", input: request.input }),
    resultJson: JSON.stringify({ resultUrls: ["https://cdn.example.com/result.png"] }),
    failCode: null,
    failMsg: null,
    costTime: 12000,
    completeTime: 1757584176490,
    createTime: 1757584164490,
    ...fields,
  };
}

async function failureOf(call: Promise<unknown>): Promise<ProviderError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/** Document 003, "Error Codes", as Ripen the client handles each row. */
const expectedKind: Record<WireErrorCode, FailureKind> = {
  400: "fail",
  401: "circuit",
  402: "circuit",
  404: "failover",
  409: "retry",
  422: "fail",
  429: "retry",
  500: "retry",
};

it("the table covers every documented code", () => {
  expect(failureKindOf).toEqual(expectedKind);
});

for (const transport of ["HTTP status", "HTTP 200 with the code in the body"] as const) {
  describe(`every documented error of a create, as the ${transport}`, () => {
    beforeEach(() => {
      errorsAsHttp200 = transport !== "HTTP status";
    });
    for (const code of wireErrorCodes) {
      it(`${code} → ${expectedKind[code]}`, async () => {
        createTask = async () => {
          throw new WireError(code);
        };
        const error = await failureOf(submit());
        expect(error.kind).toBe(expectedKind[code]);
        expect(error.options).toMatchObject({ status: code, code: String(code) });
      });
    }

    it("honours Retry-After on 429 and 409", async () => {
      for (const code of [429, 409] as const) {
        createTask = async () => {
          throw new WireError(code, undefined, { "retry-after": "7" });
        };
        const error = await failureOf(submit());
        expect(error.options).toMatchObject({ kind: "retry", status: code, retryAfterMs: 7_000 });
      }
    });
  });
}

describe("answers outside the table", () => {
  it("a 200-body error is the same failure as the HTTP one, message and all", async () => {
    createTask = async () => {
      throw new WireError(409, "Too many active tasks.");
    };
    const viaStatus = await failureOf(submit());
    errorsAsHttp200 = true;
    const viaBody = await failureOf(submit());
    expect(viaBody.options).toEqual(viaStatus.options);
    expect(viaBody.message).toContain("Too many active tasks.");
  });

  it("classifies undocumented codes in a 200 body by the code, as if it were the status", async () => {
    for (const [code, kind] of [
      [503, "retry"],
      [403, "circuit"],
      [455, "fail"],
    ] as const) {
      raw = (_req, res) => void res.json({ code, msg: "undocumented", data: null });
      expect((await failureOf(submit())).options).toMatchObject({
        kind,
        status: code,
        code: String(code),
      });
    }
  });

  it("classifies bare HTTP errors (no envelope: a proxy's page) by their status", async () => {
    for (const [statusCode, kind] of [
      [502, "retry"],
      [401, "circuit"],
      [403, "circuit"],
      [422, "fail"],
      // The document's table is of HTTP statuses: a bare 404 on a create is its row too.
      [404, "failover"],
    ] as const) {
      raw = (_req, res) => void res.status(statusCode).type("html").send("<html>proxy</html>");
      expect((await failureOf(submit())).options).toMatchObject({
        kind,
        status: statusCode,
        code: undefined,
      });
    }
  });

  it("an unreadable 2xx create: unknown outcome, never a plain retry", async () => {
    for (const body of ["<html>ok</html>", '{"code":200,"msg":"success","data":null}', ""]) {
      raw = (_req, res) => void res.status(200).type("json").send(body);
      expect((await failureOf(submit())).kind).toBe("unknown");
    }
  });

  it("a create answered past the timeout: unknown outcome", async () => {
    raw = "hang";
    expect((await failureOf(submit(client(baseUrl, 100)))).kind).toBe("unknown");
  });

  it("nothing listening: the request never left, so a retry is safe", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    expect((await failureOf(submit(client(`http://127.0.0.1:${port}`)))).kind).toBe("retry");
  });
});

describe("submit", () => {
  it("sends the model, the input and the key; callBackUrl only when there is one", async () => {
    const sent: CreateTaskRequest[] = [];
    createTask = async (body) => {
      sent.push(body);
      return { taskId: `task_${sent.length}` };
    };
    expect(await submit()).toEqual({ providerTaskId: "task_1" });
    const callbackUrl = "https://ripen.example/callbacks/kie/task_ripen/1.x";
    expect(await client().submit({ ...request, callbackUrl })).toEqual({
      providerTaskId: "task_2",
    });
    expect(sent).toEqual([
      { model: request.upstreamModel, input: request.input },
      { model: request.upstreamModel, input: request.input, callBackUrl: callbackUrl },
    ]);
    expect(seenKeys).toEqual(["kie-test-key", "kie-test-key"]);
  });

  it("says the dialect sends callbacks", () => {
    expect(client()).toMatchObject({ dialect: "kie", sendsCallbacks: true });
  });
});

describe("status", () => {
  it("maps the states: waiting and queuing pending, generating running", async () => {
    for (const [state, expected] of [
      ["waiting", "pending"],
      ["queuing", "pending"],
      ["generating", "running"],
    ] as const) {
      getTask = async () => record({ state, resultJson: null, costTime: null, completeTime: null });
      expect(await status()).toEqual({ state: expected });
    }
  });

  it("asks for the task by its id and reads the URLs out of the resultJson string", async () => {
    const asked: string[] = [];
    getTask = async (taskId) => {
      asked.push(taskId);
      return record({ taskId });
    };
    expect(await client().status("task_a&b=c", request.upstreamModel)).toEqual({
      state: "succeeded",
      output: {
        urls: ["https://cdn.example.com/result.png"],
        metadata: {
          model: "nano-banana-2-text-to-image",
          costTime: 12000,
          createTime: 1757584164490,
          completeTime: 1757584176490,
        },
      },
    });
    expect(asked).toEqual(["task_a&b=c"]);
  });

  it("a failed task: failover when the upstream failed, fail when the input is to blame", async () => {
    for (const [failCode, failMsg, kind] of [
      ["500", "Internal Error, Please try again later.", "failover"],
      [501, "Image generation failed", "failover"],
      ["400", "Invalid parameters", "fail"],
      ["422", "aspect_ratio is not supported", "fail"],
      ["500", "Your prompt was flagged as violating our content policy.", "fail"],
    ] as const) {
      getTask = async () => record({ state: "fail", resultJson: null, failCode, failMsg });
      expect(await status()).toEqual({
        state: "failed",
        errorCode: String(failCode),
        errorMessage: failMsg,
        kind,
      });
    }
  });

  it("a failed task without failCode or failMsg still reads as failed", async () => {
    getTask = async () => record({ state: "fail", resultJson: null });
    expect(await status()).toEqual({
      state: "failed",
      errorCode: "fail",
      errorMessage: "Generation failed",
      kind: "failover",
    });
  });

  it("reads the documented 404 as the upstream having lost the task, HTTP or in the body", async () => {
    getTask = async (taskId) => {
      throw new TaskNotFound(taskId);
    };
    expect(await status()).toEqual({ state: "not_found" });
    errorsAsHttp200 = true;
    expect(await status()).toEqual({ state: "not_found" });
  });

  it("does not take a 404 without the envelope (a proxy, a wrong path) for a lost task", async () => {
    raw = (_req, res) => void res.status(404).type("text").send("not here");
    const error = await failureOf(status());
    expect(error.options).toMatchObject({ kind: "retry", status: 404, code: undefined });
  });

  it("classifies other query errors by the same table", async () => {
    for (const code of [401, 409, 429, 500] as const) {
      getTask = async () => {
        throw new WireError(code);
      };
      expect((await failureOf(status())).options).toMatchObject({
        kind: expectedKind[code],
        status: code,
        code: String(code),
      });
    }
  });

  it("an unreadable answer, or a success without result URLs, is retried later", async () => {
    for (const resultJson of ["{not json", '{"resultUrls":[]}', null]) {
      getTask = async () => record({ resultJson });
      expect((await failureOf(status())).kind).toBe("retry");
    }
    raw = (_req, res) => void res.json({ code: 200, msg: "success", data: { state: "odd" } });
    expect((await failureOf(status())).kind).toBe("retry");
  });
});

describe("callbacks", () => {
  const body = (fields: Partial<RecordInfoData> = {}, code = 200) => ({
    code,
    msg: code === 200 ? "success" : "failed",
    data: record(fields),
  });

  it("parses the recordInfo-shaped body of a finished task", () => {
    expect(client().parseCallback(body())).toEqual({
      providerTaskId: "task_1",
      state: "succeeded",
      output: {
        urls: ["https://cdn.example.com/result.png"],
        metadata: expect.objectContaining({ costTime: 12000 }),
      },
    });
  });

  it("parses a failure's callback, whatever code its envelope carries", () => {
    const failed = { state: "fail", resultJson: null, failCode: "500", failMsg: "boom" } as const;
    for (const code of [200, 501]) {
      expect(client().parseCallback(body(failed, code))).toEqual({
        providerTaskId: "task_1",
        state: "failed",
        errorCode: "500",
        errorMessage: "boom",
        kind: "failover",
      });
    }
  });

  it("refuses what is not a callback", () => {
    for (const bad of [
      null,
      "text",
      { code: 200, msg: "success" },
      { data: { ...record(), taskId: "" } },
      { data: { ...record(), state: "done" } },
      { data: { ...record(), param: { model: "x" } } },
      body({ resultJson: '{"resultUrls":"https://x"}' }),
    ]) {
      expect(() => client().parseCallback(bad)).toThrow(InvalidRequest);
    }
  });
});

describe("JSON strings and prices", () => {
  it("parses resultJson and param, and tells when they hold nothing", () => {
    expect(parseResultJson(record())).toEqual({
      resultUrls: ["https://cdn.example.com/result.png"],
    });
    expect(parseParam(record())).toEqual({
      model: "nano-banana-2-text-to-image",
      input: request.input,
    });
    expect(parseResultJson({ resultJson: null })).toBeUndefined();
    expect(parseResultJson({ resultJson: "[1]" })).toBeUndefined();
    expect(parseParam({ param: "{" })).toBeUndefined();
  });

  it("prices by resolution (assumed: not in the document), 1K by default", () => {
    const model = "nano-banana-2-text-to-image";
    expect(documentedCost(model, { prompt: "x" })).toBe(16);
    expect(documentedCost(model, { resolution: "2K" })).toBe(24);
    expect(documentedCost(model, { resolution: "4K" })).toBe(36);
    expect(documentedCost(model, { resolution: "8K" })).toBeUndefined();
    // Document 002's price for the lite model it serves through the kie jobs API.
    expect(documentedCost("nano-banana-2-lite", {})).toBe(10);
    expect(documentedCost("nano-banana-2-lite", { resolution: "2K" })).toBeUndefined();
    expect(documentedCost("nano-banana-2", {})).toBeUndefined();
    expect(documentedCost("__proto__", {})).toBeUndefined();
  });
});

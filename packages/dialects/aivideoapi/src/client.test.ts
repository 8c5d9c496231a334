import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type FailureKind, ProviderError } from "@ripen/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAivideoapiClient } from "./client";
import { errorReference, type WireErrorCode } from "./errors";
import { documentedCost } from "./prices";

/** What the upstream answers next: a documented error, or silence. */
let answer: { status: number; body?: unknown; headers?: Record<string, string> } | "hang" = {
  status: 200,
};
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    if (answer === "hang") return;
    res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
    res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const input = { prompt: "a cat", resolution: "1K", aspect_ratio: "auto" };
const adapter = (url = baseUrl, timeoutMs = 2_000) =>
  createAivideoapiClient({ baseUrl: url, apiKey: "sk-test", timeoutMs });
const submit = (client = adapter()) =>
  client.submit({ taskId: "task_1", upstreamModel: "nano-banana-2", input, callbackUrl: null });

async function failureOf(call: Promise<unknown>): Promise<ProviderError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/** Documents 000 and 002, "Error Reference", as Ripen the client handles each row. */
const expectedKind: Record<WireErrorCode, FailureKind> = {
  invalid_request: "fail",
  invalid_api_key: "circuit",
  insufficient_credits: "circuit",
  ip_not_allowed: "circuit",
  model_not_found: "failover",
  task_not_found: "fail",
  rate_limit_exceeded: "retry",
  spend_limit_exceeded: "circuit",
  key_expired: "circuit",
  insufficient_scope: "circuit",
  account_disabled: "circuit",
  subscription_required: "failover",
  active_task_limit_exceeded: "retry",
  capacity_exceeded: "retry",
  internal_error: "retry",
  upstream_error: "retry",
  service_unavailable: "retry",
  task_already_ended: "fail",
  idempotency_key_reused: "fail",
  delivery_not_found: "fail",
  delivery_pending: "fail",
  batch_not_found: "fail",
  schedule_not_found: "fail",
};

describe("every documented error of a submit, classified", () => {
  for (const [code, { status, type }] of Object.entries(errorReference)) {
    if (!Object.hasOwn(expectedKind, code)) continue;
    it(`${status} ${code} → ${expectedKind[code as WireErrorCode]}`, async () => {
      answer = { status, body: { error: { code, message: "documented", type } } };
      const error = await failureOf(submit());
      expect(error.kind).toBe(expectedKind[code as WireErrorCode]);
      expect(error.options).toMatchObject({ status, code });
    });
  }

  it("honours Retry-After", async () => {
    answer = {
      status: 429,
      headers: { "retry-after": "7" },
      body: {
        error: { code: "rate_limit_exceeded", message: "slow down", type: "rate_limit_error" },
      },
    };
    expect((await failureOf(submit())).options.retryAfterMs).toBe(7_000);
  });

  it("classifies answers without a documented code by their status", async () => {
    for (const [status, kind] of [
      [502, "retry"],
      [401, "circuit"],
      [422, "fail"],
    ] as const) {
      answer = { status, body: "<html>proxy error</html>" };
      expect((await failureOf(submit())).kind).toBe(kind);
    }
  });

  it("an unreadable 2xx, a timeout after sending: unknown outcome, never a plain retry", async () => {
    answer = { status: 200, body: { unexpected: true } };
    expect((await failureOf(submit())).kind).toBe("unknown");
    answer = "hang";
    expect((await failureOf(submit(adapter(baseUrl, 100)))).kind).toBe("unknown");
  });

  it("nothing listening: the request never left, so a retry is safe", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    expect((await failureOf(submit(adapter(`http://127.0.0.1:${port}`)))).kind).toBe("retry");
  });
});

describe("status queries", () => {
  it("reads 404 task_not_found as the upstream having lost the task", async () => {
    answer = {
      status: 404,
      body: {
        error: {
          code: "task_not_found",
          message: "Task ID does not exist",
          type: "invalid_request_error",
        },
      },
    };
    expect(await adapter().status("up-1", "nano-banana-2")).toEqual({ state: "not_found" });
  });

  it("does not take a 404 without that code (a proxy, a wrong path) for a lost task", async () => {
    answer = { status: 404, body: "not here" };
    expect((await failureOf(adapter().status("up-1", "nano-banana-2"))).kind).toBe("retry");
  });

  it("prices a request as the documents do", () => {
    expect(documentedCost("nano-banana-2", { ...input, resolution: "2K" })).toBe(24);
    expect(documentedCost("nano-banana-2", { prompt: "no resolution: 1K" })).toBe(16);
    expect(documentedCost("nano-banana-2-lite", input)).toBe(10);
    expect(documentedCost("nano-banana-2-lite", { ...input, resolution: "4K" })).toBeUndefined();
    expect(documentedCost("__proto__", input)).toBeUndefined();
  });
});

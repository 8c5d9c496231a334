import { IdempotencyKeyReused } from "@ripen/core";
import { createDb, type DbHandle, tasks } from "@ripen/db";
import { errorReference, toWireError, WireError, wireErrorCodes } from "@ripen/dialect-kie";
import { ledgerViolations, startTestStack, type TestStack } from "@ripen/testkit";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

let stack: TestStack;
let key: string;

// Nothing here needs upstream work: the worker stays off, so tasks stay as created.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ apiKey: key } = await stack.createAccount(100_000));
});
afterAll(() => stack?.close());

const example = {
  model: "nano-banana-2-text-to-image",
  input: {
    prompt: "a yellow camera",
    aspect_ratio: "auto",
    resolution: "1K",
    output_format: "png",
  },
};

interface Answer {
  status: number;
  retryAfter: string | null;
  body: any;
}

async function call(
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...options.headers,
    },
    body: options.body,
  });
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    body: await response.json(),
  };
}

const createTask = (body: unknown, headers?: Record<string, string>) =>
  call("POST", "/api/v1/jobs/createTask", {
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers,
  });

const taskCount = async () => (await stack.db.db.select({ n: count() }).from(tasks))[0]!.n;

/** Document 003's error row: the code is the HTTP status and the body's `code`, data null. */
function expectRow(answer: Answer, code: number, message?: RegExp) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(code);
  expect(answer.body).toEqual({ code, msg: expect.any(String), data: null });
  expect(answer.body.msg.length).toBeGreaterThan(5);
  if (message) expect(answer.body.msg).toMatch(message);
}

describe("document 003's error table, end to end", () => {
  it("400: a body that cannot be read", async () => {
    const before = await taskCount();
    expectRow(await createTask("{broken"), 400, /not valid JSON/);
    expectRow(await createTask("[1,2]"), 400, /JSON object/);
    expectRow(await createTask('"text"'), 400);
    expectRow(await createTask("null"), 400);
    // Over the 1 MB body limit.
    expectRow(
      await createTask({ ...example, input: { prompt: "x".repeat(1_100_000) } }),
      400,
      /larger than/,
    );
    expectRow(await call("GET", "/api/v1/jobs/recordInfo"), 400, /taskId/);
    expect(await taskCount()).toBe(before);
  });

  it("401: no key, a refused key, another scheme; before the body is read", async () => {
    for (const headers of [
      { authorization: "" },
      { authorization: "Bearer sk-not-a-key-of-ours" },
      { authorization: "Basic a2llOmtleQ==" },
    ]) {
      expectRow(await createTask(example, headers), 401);
      expectRow(await createTask("{broken", headers), 401);
      expectRow(await call("GET", "/api/v1/jobs/recordInfo?taskId=task_x", { headers }), 401);
    }
  });

  it("402: a price above the available credits; nothing created", async () => {
    const { apiKey } = await stack.createAccount(20);
    const before = await taskCount();
    // 24 credits at 2K, 20 available.
    const answer = await createTask(
      { ...example, input: { ...example.input, resolution: "2K" } },
      { authorization: `Bearer ${apiKey}` },
    );
    expectRow(answer, 402, /24 required/);
    expect(await taskCount()).toBe(before);
    // 16 at 1K fits.
    expect((await createTask(example, { authorization: `Bearer ${apiKey}` })).status).toBe(200);
  });

  it("404: an unknown model, an unknown or another account's task, an unknown path", async () => {
    expectRow(await createTask({ ...example, model: "nano-banana-9" }), 404, /nano-banana-9/);
    expectRow(await createTask({ ...example, model: "__proto__" }), 404);
    expectRow(
      await call("GET", "/api/v1/jobs/recordInfo?taskId=task_01kaaaaaaaaaaaaaaaaaaaaaaa"),
      404,
    );
    expectRow(await call("GET", "/api/v1/jobs/recordInfo?taskId=not-ours"), 404);
    const { apiKey: other } = await stack.createAccount(100);
    const mine = (await createTask(example)).body.data.taskId;
    expectRow(
      await call("GET", `/api/v1/jobs/recordInfo?taskId=${mine}`, {
        headers: { authorization: `Bearer ${other}` },
      }),
      404,
    );
    expectRow(await call("GET", "/api/v1/jobs/nothing"), 404);
    expectRow(await call("GET", "/api/v1/jobs/createTask"), 404);
    expectRow(await call("POST", "/api/v1/jobs/recordInfo", { body: "{}" }), 404);
  });

  it('409: an Idempotency-Key reused with another request ("request conflict")', async () => {
    const idem = { "idempotency-key": `kie-${Date.now()}` };
    const first = await createTask(example, idem);
    expect(first.status).toBe(200);
    // The same request again: the same task, not a second one.
    const before = await taskCount();
    expect((await createTask(example, idem)).body.data.taskId).toBe(first.body.data.taskId);
    const other = { ...example, input: { ...example.input, prompt: "another" } };
    expectRow(await createTask(other, idem), 409, /Idempotency-Key/);
    expect(await taskCount()).toBe(before);
    expectRow(
      await createTask(example, { "idempotency-key": "bad key\u00e9" }),
      422,
      /Idempotency-Key/,
    );
  });

  it.each<[string, unknown, RegExp]>([
    ["no model", { input: example.input }, /'model' is required/],
    ["no input", { model: example.model }, /'input' is required/],
    ["no prompt", { model: example.model, input: {} }, /'input.prompt' is required/],
    ["an empty prompt", { ...example, input: { prompt: " " } }, /'input.prompt' must not be empty/],
    ["8K", { ...example, input: { prompt: "x", resolution: "8K" } }, /'input.resolution'/],
    ["7:3", { ...example, input: { prompt: "x", aspect_ratio: "7:3" } }, /'input.aspect_ratio'/],
    ["an unknown field", { ...example, input: { prompt: "x", seed: 1 } }, /'input.seed'/],
    ["an unknown top-level field", { ...example, webhook: "x" }, /'webhook'/],
    ["a callBackUrl that is no URL", { ...example, callBackUrl: "ftp://x" }, /'callBackUrl'/],
    [
      "a loopback callBackUrl",
      { ...example, callBackUrl: "http://169.254.169.254/latest" },
      /not allowed/,
    ],
    ["lite at 2K", { model: "nano-banana-2-lite", input: { prompt: "x", resolution: "2K" } }, /1K/],
  ])("422: %s", async (_name, body, message) => {
    const before = await taskCount();
    expectRow(await createTask(body), 422, message);
    expect(await taskCount()).toBe(before);
  });

  it("recordInfo: a task id that cannot be one is 422 or 404, never a 500", async () => {
    expectRow(await call("GET", "/api/v1/jobs/recordInfo?taskId=a%00b"), 422);
    expectRow(await call("GET", `/api/v1/jobs/recordInfo?taskId=${"a".repeat(201)}`), 422);
    expectRow(await call("GET", "/api/v1/jobs/recordInfo?taskId=%ED%A0%80"), 404);
  });
});

describe("rows Ripen does not produce today: the renderer's mapping", () => {
  // Ripen has no active-task limit and no per-key rate limit yet; when it throws these, the
  // door's renderer (the dialect's, shared with the sandbox) answers them as the document says.
  it("409 (active task limit) and 429 (rate limit) keep their code and Retry-After", () => {
    for (const code of [409, 429] as const) {
      const {
        code: status,
        body,
        headers,
      } = toWireError(new WireError(code, errorReference[code], { "retry-after": "7" }));
      expect(status).toBe(code);
      expect(body).toEqual({ code, msg: errorReference[code], data: null });
      expect(headers).toEqual({ "retry-after": "7" });
    }
    expect(toWireError(new IdempotencyKeyReused("k")).code).toBe(409);
  });

  it("every code of the table renders as itself", () => {
    for (const code of wireErrorCodes) expect(toWireError(new WireError(code)).code).toBe(code);
  });
});

describe("500: Ripen's database away", () => {
  let admin: DbHandle;
  beforeAll(() => {
    admin = createDb(inject("pgAdminUrl"), { max: 1 });
  });
  afterAll(async () => {
    await admin?.pool.query(`alter database ${stack.db.name} with allow_connections true`);
    await admin?.close();
  });

  it("answers 500 with Retry-After (the document has no 503), then recovers on its own", async () => {
    const mine = (await createTask(example)).body.data.taskId;
    const before = await taskCount();
    await admin.pool.query(`alter database ${stack.db.name} with allow_connections false`);
    await admin.pool.query(
      "select pg_terminate_backend(pid, 10000) from pg_stat_activity where datname = $1",
      [stack.db.name],
    );
    try {
      for (const answer of [
        await createTask(example),
        await call("GET", `/api/v1/jobs/recordInfo?taskId=${mine}`),
        await createTask(example, { authorization: "Bearer sk-never-seen-before-000000" }),
      ]) {
        expectRow(answer, 500, /temporarily unavailable/);
        expect(Number(answer.retryAfter)).toBeGreaterThan(0);
      }
    } finally {
      await admin.pool.query(`alter database ${stack.db.name} with allow_connections true`);
    }
    expect((await call("GET", `/api/v1/jobs/recordInfo?taskId=${mine}`)).status).toBe(200);
    expect((await createTask(example)).status).toBe(200);
    expect(await taskCount()).toBe(before + 1);
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });
});

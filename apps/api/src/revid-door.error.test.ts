import { Agent } from "node:http";
import { DomainError, InsufficientCredits, ServiceUnavailable } from "@ripen/core";
import { createDb, type DbHandle, tasks } from "@ripen/db";
import {
  CREATE_ALIAS_PATH,
  CREATE_PATH,
  errorReference,
  QUERY_PATH,
  toWireError,
  WireError,
  wireErrorCodes,
} from "@ripen/dialect-revid";
import {
  fuzzCase,
  ledgerViolations,
  sendFuzzCase,
  startTestStack,
  type TestStack,
} from "@ripen/testkit";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { revidDocExamples } from "./testing/revid-doc-examples";

let stack: TestStack;
let key: string;
/** Every error code seen end to end, to check the table is covered. */
const seen = new Set<number>();

// Refusals need no upstream work: the worker stays off, so nothing changes under the test.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ apiKey: key } = await stack.createAccount(100_000_000));
});
afterAll(() => stack?.close());

const taskCount = async () => (await stack.db.db.select({ n: count() }).from(tasks))[0]!.n;

async function send(
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = { "x-api-key": key },
) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : new TextEncoder().encode(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: JSON.parse(text) };
}

const create = (body: unknown, headers?: Record<string, string>) =>
  send("POST", CREATE_PATH, typeof body === "string" ? body : JSON.stringify(body), headers);

/** The document's error: the code as the HTTP status and in the body, `data: null`. */
function expectError(answer: Awaited<ReturnType<typeof send>>, code: number, msg?: RegExp) {
  expect(answer.json, JSON.stringify(answer.json)).toEqual({
    code,
    msg: expect.any(String),
    data: null,
  });
  expect(answer.status).toBe(code);
  if (msg) expect(answer.json.msg).toMatch(msg);
  seen.add(code);
}

const pro = (input: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  model: "nano-banana-pro",
  input: { prompt: "a lime", ...input },
  ...extra,
});

describe("every row of document 004's error table", () => {
  it("401: no key, a malformed key, an unknown key, a bad Bearer token", async () => {
    for (const headers of <Record<string, string>[]>[
      {},
      { "x-api-key": "YOUR_API_KEY" },
      { "x-api-key": "sk-unknown00000000000000000000" },
      { authorization: "Bearer sk-unknown00000000000000000000" },
      { authorization: key },
    ]) {
      expectError(await create(pro({}), headers), 401);
      expectError(await send("POST", `${QUERY_PATH}?taskId=task_x`, undefined, headers), 401);
      expectError(await send("GET", "/paid/nothing", undefined, headers), 401);
    }
  });

  it("402: the price does not fit the balance; nothing written, nothing held", async () => {
    const poor = await stack.createAccount(24);
    const before = await taskCount();
    const headers = { "x-api-key": poor.apiKey };
    expectError(await create(pro({}), headers), 402);
    expectError(await create(pro({ resolution: "4K" }), headers), 402);
    expect(await taskCount()).toBe(before);
    expect((await stack.request("GET", "/v1/credits", { key: poor.apiKey })).body.data).toEqual({
      credits: 24,
      balance: 24,
      held: 0,
    });
    // The 8-credit model still fits.
    const cheap = await create({ model: "google/nano-banana", input: { prompt: "x" } }, headers);
    expect(cheap.status).toBe(200);
  });

  it("400: a request whose shape is wrong", async () => {
    const before = await taskCount();
    const cases: [string, RegExp?][] = [
      ['{"model": "nano-banana-pro", ', /JSON/],
      // No body at all reads as an empty object: its first missing field is named.
      ["", /'model' is required/],
      ["[]", /JSON object/],
      ['"nano-banana-pro"', /JSON object/],
      [JSON.stringify({ input: { prompt: "x" } }), /'model'/],
      [JSON.stringify({ model: 7, input: { prompt: "x" } }), /'model'/],
      [JSON.stringify({ model: "nano-banana-pro" }), /'input'/],
      [JSON.stringify({ model: "nano-banana-pro", input: "x" }), /'input'/],
      [JSON.stringify(pro({}, { callback_url: "https://a.example" })), /callback_url/],
      [JSON.stringify(pro({}, { callBackUrl: "not a url" })), /callBackUrl/],
      [JSON.stringify(pro({}, { callBackUrl: "ftp://a.example/x" })), /callBackUrl/],
      // Ripen calls public addresses only: a private callBackUrl is refused, by its name.
      [JSON.stringify(pro({}, { callBackUrl: "http://10.0.0.7/hook" })), /'callBackUrl'.*private/],
      [JSON.stringify(pro({}, { callBackUrl: "http://169.254.169.254/" })), /'callBackUrl'/],
    ];
    for (const [body, msg] of cases) expectError(await create(body), 400, msg);
    // Too large: 2 MB of prompt, over the 1 MB body limit.
    expectError(await create(pro({ prompt: "x".repeat(2 * 1024 * 1024) })), 400, /large/);
    expectError(await send("POST", QUERY_PATH), 400, /taskId/);
    expectError(await send("GET", `${QUERY_PATH}?taskId=a&taskId=b`), 400, /taskId/);
    expectError(
      await create(pro({}), { "x-api-key": key, "idempotency-key": "x".repeat(1_000) }),
      400,
    );
    expect(await taskCount()).toBe(before);
  });

  it("422: input the model does not take", async () => {
    const before = await taskCount();
    const urls = (n: number) => Array.from({ length: n }, (_, i) => `https://a.example/${i}.png`);
    const cases: [unknown, RegExp][] = [
      [pro({ prompt: undefined }), /'input.prompt'/],
      [pro({ prompt: "" }), /'input.prompt'/],
      [pro({ prompt: "x".repeat(10_001) }), /10000/],
      [pro({ resolution: "8K" }), /'input.resolution'/],
      [pro({ aspect_ratio: "7:5" }), /'input.aspect_ratio'/],
      [pro({ output_format: "webp" }), /'input.output_format'/],
      [pro({ image_input: urls(9) }), /at most 8/],
      [pro({ image_input: ["not a url"] }), /'input.image_input.0'/],
      [pro({ image_urls: urls(1) }), /image_input/],
      [pro({ seed: 1 }), /'input.seed'/],
      [{ model: "google/nano-banana", input: { prompt: "x", aspect_ratio: "1:1" } }, /image_size/],
      [
        { model: "google/nano-banana", input: { prompt: "x", resolution: "4K" } },
        /nano-banana-pro/,
      ],
      [{ model: "google/nano-banana-edit", input: { prompt: "x" } }, /'input.image_urls'/],
      [
        {
          model: "google/nano-banana-edit",
          input: { prompt: "x", image_urls: ["http://10.1.1.1/a"] },
        },
        /'input.image_urls.0'.*private/,
      ],
    ];
    for (const [body, msg] of cases) expectError(await create(body), 422, msg);
    expectError(await send("POST", `${QUERY_PATH}?taskId=${"a".repeat(201)}`), 422);
    expectError(await send("POST", `${QUERY_PATH}?taskId=a%00b`), 422);
    expect(await taskCount()).toBe(before);
  });

  it("404: an unknown model, task or endpoint under /paid/", async () => {
    const before = await taskCount();
    for (const model of ["google/veo3", "nano-banana-2", "nano-banana", "__proto__", "toString"]) {
      expectError(await create({ model, input: { prompt: "x" } }), 404, /does not exist/);
    }
    expectError(await send("POST", `${QUERY_PATH}?taskId=task_01kaaaaaaaaaaaaaaaaaaaaaaa`), 404);
    expectError(await send("GET", `${QUERY_PATH}?taskId=281e5b0f39b9`), 404);
    // Another account's task is not found, not forbidden.
    const other = await stack.createAccount(100);
    const theirs = await create(pro({}), { "x-api-key": other.apiKey });
    expectError(await send("POST", `${QUERY_PATH}?taskId=${theirs.json.data.taskId}`), 404);
    expectError(await send("POST", "/paid/nano/banana/delete", "{}"), 404, /No endpoint/);
    expectError(await send("PUT", CREATE_PATH, "{}"), 404);
    expectError(await send("GET", CREATE_ALIAS_PATH), 404);
    expect(await taskCount()).toBe(before + 1);
  });

  it("429: Ripen raises none through this door today; the renderer maps a limit to exactly 429", () => {
    class Limited extends DomainError {
      constructor(
        readonly code: string,
        readonly retryAfterSeconds?: number,
      ) {
        super("Too many requests for this key.");
      }
    }
    for (const code of ["rate_limit_exceeded", "spend_limit_exceeded", "capacity_exceeded"]) {
      const rendered = toWireError(new Limited(code, 7));
      expect(rendered).toMatchObject({ status: 429, body: { code: 429, data: null } });
      expect(rendered.headers).toEqual({ "retry-after": "7" });
      expect(rendered.unexpected).toBe(false);
    }
    expect(toWireError(new Limited("rate_limit_exceeded")).headers).toEqual({});
    expect(toWireError(new WireError(429)).body).toEqual({
      code: 429,
      msg: errorReference[429],
      data: null,
    });
    seen.add(429);
  });

  it("500: anything unexpected, never the caller's input; service_unavailable with Retry-After", () => {
    const bug = toWireError(new TypeError("x is undefined"));
    expect(bug).toMatchObject({ status: 500, body: { code: 500, data: null }, unexpected: true });
    expect(bug.body.msg).not.toContain("undefined");
    const away = toWireError(new ServiceUnavailable("db away"));
    expect(away).toMatchObject({ status: 500, headers: { "retry-after": "5" }, unexpected: false });
    // A prototype name as a domain code is not a lookup hit.
    class Odd extends DomainError {
      readonly code = "constructor";
    }
    expect(toWireError(new Odd("odd"))).toMatchObject({ status: 500, unexpected: true });
    expect(toWireError(new InsufficientCredits(25, 3)).status).toBe(402);
  });
});

describe("no 500 from user input: the fuzz corpus at create", () => {
  const SEED = 0x7e71d;
  const CASES = 2_000;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  afterAll(() => agent.destroy());

  /** What is wrong with an answer, if anything. */
  function problemWith(path: string, status: number, text: string): string | null {
    if (status >= 500) return `status ${status}: ${text.slice(0, 120)}`;
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      return `status ${status}, not JSON: ${text.slice(0, 80)}`;
    }
    // A mutated path may leave /paid/ (case, a doubled slash): the native API answers it then.
    if (!path.startsWith("/paid/") || status < 400) return null;
    const isEnvelope =
      Object.keys(body).sort().join() === "code,data,msg" &&
      body.code === status &&
      body.data === null &&
      typeof body.msg === "string" &&
      body.msg.length > 0;
    return isEnvelope ? null : `status ${status} without revid's envelope: ${text.slice(0, 120)}`;
  }

  it.each([
    [CREATE_PATH, "nano-banana-pro"],
    [CREATE_ALIAS_PATH, "google/nano-banana-edit"],
  ] as const)(
    "%s (%s): no 5xx, the envelope, a row only when accepted",
    async (path, model) => {
      const before = await taskCount();
      const statuses: Record<number, number> = {};
      const failures: string[] = [];
      let created = 0;
      let next = 0;
      const body = JSON.parse(revidDocExamples[model]);
      const worker = async () => {
        while (next < CASES) {
          const mutation = fuzzCase(
            { method: "POST", path, headers: { "x-api-key": key }, body },
            SEED,
            next++,
          );
          const { status, text } = await sendFuzzCase(stack.apiUrl, mutation, agent);
          statuses[status] = (statuses[status] ?? 0) + 1;
          const problem = problemWith(mutation.path, status, text);
          if (problem) failures.push(`#${mutation.index} ${mutation.label}: ${problem}`);
          else if (status === 200 && typeof JSON.parse(text).data?.taskId === "string") created++;
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      expect(failures.slice(0, 20)).toEqual([]);
      expect(await taskCount()).toBe(before + created);
      // The mutations get past the door to validation and beyond.
      expect(created).toBeGreaterThan(0);
      expect((statuses[400] ?? 0) + (statuses[422] ?? 0)).toBeGreaterThan(CASES / 3);
    },
    180_000,
  );
});

describe("500 while Postgres is away (the table has no 503)", () => {
  let admin: DbHandle;
  beforeAll(() => {
    admin = createDb(inject("pgAdminUrl"), { max: 1 });
  });
  afterAll(async () => {
    await admin.pool.query(`alter database ${stack.db.name} with allow_connections true`);
    await admin.close();
  });

  it("create, query and a fresh key's lookup answer 500 with Retry-After; then 200 again", async () => {
    const created = await create(pro({}));
    const before = await taskCount();
    await admin.pool.query(`alter database ${stack.db.name} with allow_connections false`);
    await admin.pool.query(
      "select pg_terminate_backend(pid, 10000) from pg_stat_activity where datname = $1",
      [stack.db.name],
    );
    try {
      for (const answer of [
        await create(pro({})),
        await send("POST", `${QUERY_PATH}?taskId=${created.json.data.taskId}`),
        await create(pro({}), { "x-api-key": "sk-never-seen-before-00000000000" }),
      ]) {
        expectError(answer, 500, /unavailable/);
        expect(Number(answer.headers.get("retry-after"))).toBeGreaterThan(0);
      }
    } finally {
      await admin.pool.query(`alter database ${stack.db.name} with allow_connections true`);
    }
    expect((await create(pro({}))).status).toBe(200);
    expect(await taskCount()).toBe(before + 1);
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });
});

it("covers every code of the table", () => {
  expect([...seen].sort()).toEqual([...wireErrorCodes].sort());
});

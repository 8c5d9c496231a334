import { Agent } from "node:http";
import { DomainError, InsufficientCredits, ServiceUnavailable } from "@ripen/core";
import { createDb, type DbHandle, tasks } from "@ripen/db";
import { errorEnvelope, errorReference, toWireError } from "@ripen/dialect-nanobanana";
import {
  type FuzzTarget,
  fuzzCase,
  ledgerViolations,
  sendFuzzCase,
  startTestStack,
  type TestStack,
} from "@ripen/testkit";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

// Every row of document 001's "Error Codes" through Ripen's nanobanana door, with the answer's
// envelope checked; and no 5xx from anything a client can send.

let stack: TestStack;
let apiKey: string;
let otherKey: string;
let admin: DbHandle;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ apiKey } = await stack.createAccount(100_000_000));
  ({ apiKey: otherKey } = await stack.createAccount(100));
  admin = createDb(inject("pgAdminUrl"), { max: 1 });
});
afterAll(async () => {
  await admin?.pool.query(`alter database ${stack.db.name} with allow_connections true`);
  await admin?.close();
  await stack?.close();
});

async function call(
  method: string,
  path: string,
  options: { body?: string | object; key?: string | null; headers?: Record<string, string> } = {},
) {
  const key = options.key === undefined ? apiKey : options.key;
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      "content-type": "application/json",
      ...options.headers,
    },
    body: typeof options.body === "object" ? JSON.stringify(options.body) : options.body,
  });
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    body: (await response.json()) as any,
  };
}

/** The answer is the document's error envelope with exactly this status and code. */
function expectError(answer: Awaited<ReturnType<typeof call>>, status: number, code: string) {
  expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(answer.body).sort()).toEqual(["error", "success"]);
  expect(errorEnvelope.parse(answer.body).error.message.length).toBeGreaterThan(0);
}

const image = (body: object, key?: string | null) =>
  call("POST", "/api/v1/images/generate", { body, key });
const video = (body: object, key?: string | null) =>
  call("POST", "/api/v1/videos/generate", { body, key });

describe("the document's error table, end to end", () => {
  it("401 UNAUTHORIZED: no key, a key that is not Ripen's, an unknown Ripen-shaped one", async () => {
    expectError(await image({ prompt: "x" }, null), 401, "UNAUTHORIZED");
    expectError(await image({ prompt: "x" }, "sk-unknown-0000000000000000"), 401, "UNAUTHORIZED");
    expectError(await image({ prompt: "x" }, "nb_sk_your_api_key_here"), 401, "UNAUTHORIZED");
    expectError(await image({ prompt: "x" }, "rk_0000000000000000000000"), 401, "UNAUTHORIZED");
    expectError(
      await call("GET", "/api/v1/account/credits", { key: "rk_bogus" }),
      401,
      "UNAUTHORIZED",
    );
    expectError(await call("GET", "/api/v1/nowhere", { key: null }), 401, "UNAUTHORIZED");
  });

  it("402 INSUFFICIENT_CREDITS: a create that costs more than is available, nothing held", async () => {
    const { apiKey: poor } = await stack.createAccount(3);
    expectError(
      await image({ prompt: "x", model: "nano-banana-pro", num_images: 2 }, poor),
      402,
      "INSUFFICIENT_CREDITS",
    );
    expectError(await video({ prompt: "x" }, poor), 402, "INSUFFICIENT_CREDITS");
    // What it could afford still goes through, and pricing is not refused.
    expect((await image({ prompt: "x", num_images: 3 }, poor)).status).toBe(200);
    const credits = await call("GET", "/api/v1/account/credits", { key: poor });
    expect(credits.body.data).toMatchObject({ credits: 0, total_credits: 3 });
    const cost = await call("POST", "/api/v1/account/calculate-cost", {
      key: poor,
      body: { type: "video" },
    });
    expect(cost.body).toEqual({ success: true, data: { type: "video", credits_needed: 10 } });
  });

  it("400 INVALID_PROMPT: empty, missing, blank or unstorable", async () => {
    for (const body of [
      { prompt: "" },
      {},
      { prompt: "   " },
      { prompt: 42 },
      { prompt: "bad \u0000 byte" },
      { prompt: "x".repeat(20_001) },
    ]) {
      expectError(await image(body), 400, "INVALID_PROMPT");
      expectError(await video(body), 400, "INVALID_PROMPT");
    }
  });

  it("400 INVALID_MODEL: an unknown model ID, at every endpoint that names one", async () => {
    expectError(await image({ prompt: "x", model: "nano-apple" }), 400, "INVALID_MODEL");
    expectError(await image({ prompt: "x", model: "veo-3.1-fast" }), 400, "INVALID_MODEL");
    expectError(await image({ prompt: "x", model: "__proto__" }), 400, "INVALID_MODEL");
    expectError(await video({ prompt: "x", model_id: "nano-banana" }), 400, "INVALID_MODEL");
    expectError(await video({ prompt: "x", model_id: 7 }), 400, "INVALID_MODEL");
    expectError(
      await call("POST", "/api/v1/account/calculate-cost", {
        body: { type: "image", model: "sdxl" },
      }),
      400,
      "INVALID_MODEL",
    );
  });

  it("400 INVALID_REQUEST: what the document's model tables refuse, named as the client sent it", async () => {
    const answers = [
      await image({ prompt: "x", num_images: 5 }),
      await image({ prompt: "x", resolution: "2K" }),
      await image({ prompt: "x", mode: "image" }),
      await image({ prompt: "x", model: "seedream4", aspect_ratio: "21:9" }),
      await image({ prompt: "x", output_format: "webp" }),
      await image({ prompt: "x", callback_url: "https://example.com" }),
      await video({ prompt: "x", duration: 5 }),
      await video({ prompt: "x", model_id: "wan-2.5", generate_audio: true }),
      await video({ prompt: "x", resolution: "4K" }),
      await video({ prompt: "x", negative_prompt: "n".repeat(2_001) }),
      await call("POST", "/api/v1/account/calculate-cost", { body: { type: "audio" } }),
    ];
    for (const answer of answers) expectError(answer, 400, "INVALID_REQUEST");
    // A refusal by Ripen's own model names the document's field, not Ripen's `input.…`.
    expect(answers[9]!.body.error.message).toMatch(/^'negative_prompt' /);
    // A metadata-range image address is refused at create, named as the document names it.
    const privateImage = await image({
      prompt: "x",
      mode: "image",
      image_url: "http://169.254.169.254/latest/meta-data",
    });
    expectError(privateImage, 400, "INVALID_REQUEST");
    expect(privateImage.body.error.message).toMatch(/^'image_url' is not allowed/);
  });

  it("404 TASK_NOT_FOUND: unknown, malformed, another account's, another kind's", async () => {
    const mine = (await image({ prompt: "mine" })).body.data.task_id as string;
    const paths = [
      "/api/v1/images/status?task_id=task_01kaaaaaaaaaaaaaaaaaaaaaaa",
      "/api/v1/images/status?task_id=clx123",
      `/api/v1/images/status?task_id=${"x".repeat(300)}`,
      `/api/v1/videos/status?task_id=${mine}`,
    ];
    for (const path of paths) expectError(await call("GET", path), 404, "TASK_NOT_FOUND");
    expectError(
      await call("GET", `/api/v1/images/status?task_id=${mine}`, { key: otherKey }),
      404,
      "TASK_NOT_FOUND",
    );
    expectError(await call("GET", "/api/v1/images/status"), 400, "INVALID_REQUEST");
    expect((await call("GET", `/api/v1/images/status?task_id=${mine}`)).body.data.status).toBe(
      "pending",
    );
  });

  it("unknown paths, bad JSON and a body too large answer in the envelope", async () => {
    expectError(await call("GET", "/api/v1/images"), 404, "NOT_FOUND");
    expectError(await call("POST", "/api/v1/images/status", { body: {} }), 404, "NOT_FOUND");
    expectError(await call("DELETE", "/api/v1/models"), 404, "NOT_FOUND");
    expectError(
      await call("POST", "/api/v1/images/generate", { body: "{not json" }),
      400,
      "INVALID_REQUEST",
    );
    expectError(
      await call("POST", "/api/v1/images/generate", { body: "[1]" }),
      400,
      "INVALID_REQUEST",
    );
    expectError(
      await call("POST", "/api/v1/images/generate", { body: "null" }),
      400,
      "INVALID_REQUEST",
    );
    const large = await call("POST", "/api/v1/images/generate", {
      body: { prompt: "x".repeat(2 * 1024 * 1024) },
    });
    expectError(large, 400, "INVALID_REQUEST");
    expect(large.body.error.message).toMatch(/larger than/);
  });

  it("an Idempotency-Key sent again with another request is refused", async () => {
    const headers = { "idempotency-key": "nb-error-key-1" };
    const first = await call("POST", "/api/v1/images/generate", { body: { prompt: "a" }, headers });
    expect(first.status).toBe(200);
    const other = await call("POST", "/api/v1/images/generate", { body: { prompt: "b" }, headers });
    expectError(other, 409, "IDEMPOTENCY_KEY_REUSED");
  });
});

describe("rows Ripen does not produce through this door today: the renderer's mapping", () => {
  // Ripen keys have no scopes, no per-key rate limit and no create-time safety filter yet, so
  // nothing end to end raises 403, 429 or 451 here. When core raises such an error (its code as
  // the other doors name it), this door's renderer (the dialect router's error handler, which is
  // `toWireError`) answers exactly the document's status and code.
  class Raised extends DomainError {
    constructor(
      readonly code: string,
      readonly retryAfterSeconds?: number,
    ) {
      super(`raised ${code}`);
    }
  }
  it.each([
    ["forbidden", 403, "FORBIDDEN"],
    ["key_disabled", 403, "FORBIDDEN"],
    ["insufficient_scope", 403, "FORBIDDEN"],
    ["ip_not_allowed", 403, "FORBIDDEN"],
    ["rate_limit_exceeded", 429, "RATE_LIMIT_EXCEEDED"],
    ["spend_limit_exceeded", 429, "RATE_LIMIT_EXCEEDED"],
    ["capacity_exceeded", 429, "RATE_LIMIT_EXCEEDED"],
    ["content_filtered", 451, "CONTENT_FILTERED"],
    ["something_new", 500, "INTERNAL_ERROR"],
  ])("%s → %i %s", (code, status, wireCode) => {
    const rendered = toWireError(new Raised(code, 12.5));
    expect(rendered.status).toBe(status);
    expect(rendered.body).toEqual({
      success: false,
      error: { code: wireCode, message: expect.any(String) },
    });
    expect(errorReference[wireCode as keyof typeof errorReference].status).toBe(status);
    if (status === 429) expect(rendered.headers).toEqual({ "retry-after": "13" });
  });

  it("a thrown bug is 500 INTERNAL_ERROR, reported as unexpected, its message not leaked", () => {
    const rendered = toWireError(new TypeError("secret internals"));
    expect(rendered).toMatchObject({
      status: 500,
      unexpected: true,
      body: { success: false, error: { code: "INTERNAL_ERROR" } },
    });
    expect(rendered.body.error.message).not.toMatch(/secret/);
    expect(toWireError(new InsufficientCredits(5, 1)).status).toBe(402);
    expect(toWireError(new ServiceUnavailable("down")).status).toBe(503);
  });
});

describe("no 5xx from anything a client sends", () => {
  const SEED = 0x0001_d00d;
  const CASES = 1_000;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  afterAll(() => agent.destroy());

  /** The door's envelope for paths under its prefix; the other doors' paths answer their own. */
  function problemWith(path: string, status: number, text: string): string | null {
    if (status >= 500) return `status ${status}`;
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      return `status ${status} with a body that is not JSON: ${text.slice(0, 80)}`;
    }
    const pathname = path.split("?")[0]!;
    const ours = pathname.startsWith("/api/v1/") && !pathname.startsWith("/api/v1/jobs/");
    if (!ours || status < 400) return null;
    return errorEnvelope.safeParse(body).success && Object.keys(body).length === 2
      ? null
      : `status ${status} without the envelope: ${text.slice(0, 120)}`;
  }

  const targets: [string, FuzzTarget][] = [
    [
      "image generate",
      {
        method: "POST",
        path: "/api/v1/images/generate",
        body: {
          prompt: "A sunset over mountains",
          mode: "image",
          model: "nano-banana-pro",
          image_url: "https://example.com/in.png",
          aspect_ratio: "16:9",
          resolution: "2K",
          num_images: 2,
          quality: "hd",
          output_format: "jpeg",
        },
      },
    ],
    [
      "video generate",
      {
        method: "POST",
        path: "/api/v1/videos/generate",
        body: {
          prompt: "A cat walking in a garden",
          model_id: "veo-3.1-fast",
          aspect_ratio: "16:9",
          duration: 8,
          resolution: "720p",
          image_url: "https://example.com/in.png",
          generate_audio: true,
          negative_prompt: "blurry",
        },
      },
    ],
    [
      "calculate-cost",
      {
        method: "POST",
        path: "/api/v1/account/calculate-cost",
        body: {
          type: "image",
          mode: "text",
          model: "nano-banana-pro",
          num_images: 2,
          resolution: "2K",
        },
      },
    ],
  ];

  it.each(targets)(
    "%s",
    async (_name, target) => {
      const before = (await stack.db.db.select({ n: count() }).from(tasks))[0]!.n;
      const failures: string[] = [];
      const statuses: Record<number, number> = {};
      let created = 0;
      let next = 0;
      const worker = async () => {
        while (next < CASES) {
          const mutation = fuzzCase(
            { ...target, headers: { authorization: `Bearer ${apiKey}` } },
            SEED,
            next++,
          );
          const { status, text } = await sendFuzzCase(stack.apiUrl, mutation, agent);
          statuses[status] = (statuses[status] ?? 0) + 1;
          const problem = problemWith(mutation.path, status, text);
          if (problem) failures.push(`#${mutation.index} ${mutation.label}: ${problem}`);
          else if (status === 200 && typeof JSON.parse(text).data?.task_id === "string") created++;
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      expect(failures.slice(0, 20)).toEqual([]);
      expect(statuses[200]).toBeGreaterThan(0);
      expect(statuses[400]).toBeGreaterThan(CASES / 4);
      const after = (await stack.db.db.select({ n: count() }).from(tasks))[0]!.n;
      expect(after - before).toBe(created);
    },
    120_000,
  );
});

describe("database down", () => {
  it("503 SERVICE_UNAVAILABLE in the envelope, with Retry-After; back on its own", async () => {
    const query = (sql: string) => admin.pool.query(sql, []);
    const taskId = (await image({ prompt: "before" })).body.data.task_id as string;
    await query(`alter database ${stack.db.name} with allow_connections false`);
    await admin.pool.query(
      "select pg_terminate_backend(pid, 10000) from pg_stat_activity where datname = $1",
      [stack.db.name],
    );
    try {
      const answers = [
        await image({ prompt: "during" }),
        await video({ prompt: "during" }),
        await call("GET", `/api/v1/images/status?task_id=${taskId}`),
        await call("GET", "/api/v1/account/credits"),
        // A key never seen cannot come from the key cache: its lookup answers 503.
        await call("GET", "/api/v1/models", { key: "sk-never-seen-before-0000000000" }),
      ];
      for (const answer of answers) {
        expectError(answer, 503, "SERVICE_UNAVAILABLE");
        expect(Number(answer.retryAfter)).toBeGreaterThan(0);
      }
    } finally {
      await query(`alter database ${stack.db.name} with allow_connections true`);
    }
    expect((await call("GET", "/api/v1/account/credits")).status).toBe(200);
    expect((await image({ prompt: "after" })).status).toBe(200);
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });
});

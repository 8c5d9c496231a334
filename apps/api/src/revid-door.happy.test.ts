import { tasks } from "@ripen/db";
import { CREATE_ALIAS_PATH, CREATE_PATH, QUERY_PATH } from "@ripen/dialect-revid";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRevidDocClient } from "./testing/revid-doc-client";
import { revidDocExamples } from "./testing/revid-doc-examples";

/** A client callback as the worker sent it (captured in place of the network). */
interface SentCallback {
  url: string;
  body: string;
}

const INITIAL_CREDITS = 10_000;
let stack: TestStack;
let key: string;
const sent: SentCallback[] = [];

// The examples' callBackUrl is https://your-domain.com/api/callback: the worker's client-callback
// fetch is replaced by a recorder, so the callbacks are checked and nothing leaves the machine.
beforeAll(async () => {
  stack = await startTestStack({
    workerOptions: {
      deliveries: {
        fetch: async (url, init) => {
          sent.push({ url, body: String(init.body) });
          return new Response("ok");
        },
      },
    },
  });
  ({ apiKey: key } = await stack.createAccount(INITIAL_CREDITS));
});
afterAll(() => stack?.close());

type Example = keyof typeof revidDocExamples;
const documentedPrice: Record<Example, number> = {
  "google/nano-banana": 8,
  "google/nano-banana-edit": 8,
  "nano-banana-pro": 25,
};

/** Sends bytes as given: no Content-Type unless one is named (a string body would add one). */
async function send(
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: options.headers ?? { "x-api-key": key },
    body: options.body === undefined ? undefined : new TextEncoder().encode(options.body),
  });
  const text = await response.text();
  return { status: response.status, text, json: JSON.parse(text) };
}

const query = (taskId: string, method = "POST", headers?: Record<string, string>) =>
  send(method, `${QUERY_PATH}?taskId=${encodeURIComponent(taskId)}`, { headers });

/** Polls the query endpoint, as the document's Usage Flow says, until the task has ended. */
async function pollUntilEnded(taskId: string) {
  for (let i = 0; i < 500; i++) {
    const answer = await query(taskId);
    expect(answer.status).toBe(200);
    if (answer.json.data.state !== "waiting") return answer;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`task ${taskId} still waiting`);
}

async function taskRow(taskId: string) {
  const [row] = await stack.db.db.select().from(tasks).where(eq(tasks.id, taskId));
  return row!;
}

async function credits() {
  return (await stack.request("GET", "/v1/credits", { key })).body.data as {
    credits: number;
    balance: number;
    held: number;
  };
}

/** The create request as `param` holds it: as sent, with the model's documented defaults. */
function expectedParam(example: Example): unknown {
  const sentRequest = JSON.parse(revidDocExamples[example]);
  // The query example's param shows nano-banana-pro's defaults filled in (`image_input: []`).
  if (example === "nano-banana-pro") sentRequest.input = { image_input: [], ...sentRequest.input };
  return sentRequest;
}

describe("document 004's request examples, byte for byte, against a running Ripen", () => {
  const cases = (Object.keys(revidDocExamples) as Example[]).flatMap((example) =>
    [CREATE_PATH, CREATE_ALIAS_PATH].map((path) => [example, path] as const),
  );

  it.each(cases)(
    "%s at %s: create, query until success, fetch the result",
    async (example, path) => {
      const startedAt = Date.now();
      const before = await credits();
      // curl's -d sends the urlencoded type at the documented path; the alias gets none at all.
      const headers: Record<string, string> =
        path === CREATE_PATH
          ? { "x-api-key": key, "content-type": "application/x-www-form-urlencoded" }
          : { "x-api-key": key };
      const created = await send("POST", path, { body: revidDocExamples[example], headers });
      expect(created.status, created.text).toBe(200);
      expect(created.json).toEqual({
        code: 200,
        msg: "success",
        data: { taskId: expect.stringMatching(/^task_/) },
      });
      const { taskId } = created.json.data;

      const row = await taskRow(taskId);
      expect(row).toMatchObject({ door: "revid", price: documentedPrice[example] });
      const held = await credits();
      // Held at create, or already captured if the task finished this fast: never charged twice.
      expect(before.credits - held.credits).toBe(documentedPrice[example]);

      const ended = await pollUntilEnded(taskId);
      const data = ended.json.data;
      expect(ended.json).toMatchObject({ code: 200, msg: "success" });
      expect(data).toEqual({
        taskId,
        model: example,
        state: "success",
        param: expect.any(String),
        resultJson: expect.any(String),
        failCode: null,
        failMsg: null,
        costTime: expect.any(Number),
        completeTime: expect.any(Number),
        createTime: expect.any(Number),
      });
      expect(JSON.parse(data.param)).toEqual(expectedParam(example));
      expect(data.createTime).toBeGreaterThanOrEqual(startedAt - 1_000);
      expect(data.completeTime).toBeLessThanOrEqual(Date.now() + 1_000);
      expect(data.costTime).toBe(data.completeTime - data.createTime);

      const resultUrl = JSON.parse(data.resultJson).resultUrls[0];
      const image = await fetch(resultUrl);
      expect(image.status).toBe(200);
      expect(image.headers.get("content-type")).toMatch(/^image\//);
      expect((await image.arrayBuffer()).byteLength).toBeGreaterThan(0);

      // GET reads the same answer as POST.
      const byGet = await query(taskId, "GET");
      expect(byGet.status).toBe(200);
      expect(byGet.text).toBe(ended.text);

      // Captured, not held: the price left the balance exactly once.
      const after = await credits();
      expect(before.balance - after.balance).toBe(documentedPrice[example]);

      // The callback went to callBackUrl with the query's answer (document: "identical").
      await expect
        .poll(() => sent.filter((s) => s.body.includes(taskId)).length, { timeout: 10_000 })
        .toBe(1);
      const callback = sent.find((s) => s.body.includes(taskId))!;
      expect(callback.url).toBe("https://your-domain.com/api/callback");
      expect(callback.body).toBe(ended.text);
    },
  );

  it("nano-banana-pro at 4K holds 35 credits; 2K holds 25", async () => {
    for (const [resolution, price] of [
      ["4K", 35],
      ["2K", 25],
    ] as const) {
      const body = JSON.parse(revidDocExamples["nano-banana-pro"]);
      body.input.resolution = resolution;
      delete body.callBackUrl;
      const created = await send("POST", CREATE_PATH, { body: JSON.stringify(body) });
      expect(created.status, created.text).toBe(200);
      expect((await taskRow(created.json.data.taskId)).price).toBe(price);
      const ended = await pollUntilEnded(created.json.data.taskId);
      expect(ended.json.data.state).toBe("success");
      expect(JSON.parse(ended.json.data.param)).toEqual({
        model: "nano-banana-pro",
        input: { image_input: [], ...body.input },
      });
    }
  });
});

describe("the document's client, unchanged, against Ripen", () => {
  it.each(Object.keys(revidDocExamples) as Example[])(
    "%s: generate → result URL",
    async (example) => {
      const client = createRevidDocClient({
        baseUrl: stack.apiUrl,
        apiKey: key,
        pollIntervalMs: 20,
      });
      const { task, resultUrls } = await client.generate(JSON.parse(revidDocExamples[example]));
      expect(task.model).toBe(example);
      expect(task.state).toBe("success");
      expect(resultUrls).toHaveLength(1);
      expect((await fetch(resultUrls[0]!)).status).toBe(200);
    },
  );
});

describe("beyond the document", () => {
  const body = JSON.stringify({ model: "google/nano-banana", input: { prompt: "a pear" } });

  it("takes the key as a Bearer token too", async () => {
    const created = await send("POST", CREATE_PATH, {
      body,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(created.status, created.text).toBe(200);
    const read = await query(created.json.data.taskId, "GET", { authorization: `Bearer ${key}` });
    expect(read.status).toBe(200);
    expect(read.json.data.model).toBe("google/nano-banana");
  });

  it("an Idempotency-Key replays the first create, at either create path", async () => {
    const headers = { "x-api-key": key, "idempotency-key": `revid-${Date.now()}` };
    const first = await send("POST", CREATE_PATH, { body, headers });
    const again = await send("POST", CREATE_ALIAS_PATH, { body, headers });
    expect(first.status).toBe(200);
    expect(again.json).toEqual(first.json);
    const rows = await stack.db.db
      .select({ n: count() })
      .from(tasks)
      .where(eq(tasks.id, first.json.data.taskId));
    expect(rows[0]!.n).toBe(1);
    const other = JSON.stringify({ model: "google/nano-banana", input: { prompt: "a plum" } });
    const reused = await send("POST", CREATE_PATH, { body: other, headers });
    expect(reused.status).toBe(400);
    expect(reused.json).toEqual({
      code: 400,
      msg: expect.stringMatching(/Idempotency/),
      data: null,
    });
  });

  it("reads a native task, and the native API reads a revid task", async () => {
    const native = await stack.request("POST", "/v1/images/generations", {
      key,
      body: { model: "nano-banana-2", input: { prompt: "a fig" } },
    });
    const nativeId = native.body.data.taskId;
    const asRevid = await query(nativeId);
    expect(asRevid.status).toBe(200);
    expect(asRevid.json.data).toMatchObject({ taskId: nativeId, model: "nano-banana-2" });
    expect(JSON.parse(asRevid.json.data.param)).toMatchObject({
      model: "nano-banana-2",
      input: { prompt: "a fig" },
    });

    const created = await send("POST", CREATE_PATH, { body });
    const asNative = await stack.request("GET", `/v1/tasks/${created.json.data.taskId}`, { key });
    expect(asNative.status).toBe(200);
    expect(asNative.body).toMatchObject({ id: created.json.data.taskId, model: "nano-banana" });
  });
});

import { findTask } from "@ripen/core";
import { tasks } from "@ripen/db";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { ClientEndpoint } from "../../worker/src/testing/client-endpoint";
import { createKieDocClient } from "./testing/kie-doc-client";

let stack: TestStack;
let key: string;

beforeAll(async () => {
  stack = await startTestStack();
  ({ apiKey: key } = await stack.createAccount(100_000));
});
afterAll(() => stack?.close());

/** Document 003's "Request Example", byte for byte. */
const DOCUMENT_EXAMPLE = `{
  "model": "nano-banana-2-text-to-image",
  "input": {
    "prompt": "A clean product photo of a futuristic yellow camera on a white desk",
    "aspect_ratio": "auto",
    "resolution": "1K",
    "output_format": "png"
  }
}`;

/** The document's query answer's fields, in its order. */
const RECORD_FIELDS = [
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
];

async function createTask(body: string, as = key) {
  const response = await fetch(`${stack.apiUrl}/api/v1/jobs/createTask`, {
    method: "POST",
    headers: { authorization: `Bearer ${as}`, "content-type": "application/json" },
    body,
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function recordInfo(taskId: string, as = key) {
  const response = await fetch(
    `${stack.apiUrl}/api/v1/jobs/recordInfo?taskId=${encodeURIComponent(taskId)}`,
    { headers: { authorization: `Bearer ${as}` } },
  );
  return { status: response.status, body: (await response.json()) as any };
}

const taskCount = async () => (await stack.db.db.select({ n: count() }).from(tasks))[0]!.n;
const ended = ["succeeded", "failed", "expired", "canceled"] as const;

describe("document 003's example against Ripen", () => {
  it("create → recordInfo until success → resultUrls[0] is an image", async () => {
    const before = Date.now();
    const created = await createTask(DOCUMENT_EXAMPLE);
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      code: 200,
      msg: "success",
      data: { taskId: expect.stringMatching(/^task_/) },
    });
    const { taskId } = created.body.data;

    // As the document says: query until data.state is success.
    let record: any;
    for (let i = 0; i < 500; i++) {
      const answer = await recordInfo(taskId);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ code: 200, msg: "success" });
      record = answer.body.data;
      expect(["waiting", "success"]).toContain(record.state);
      if (record.state === "success") break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(record.state).toBe("success");
    expect(Object.keys(record)).toEqual(RECORD_FIELDS);
    expect(record).toMatchObject({
      taskId,
      model: "nano-banana-2-text-to-image",
      failCode: null,
      failMsg: null,
    });
    // param: the create request as a JSON string.
    expect(typeof record.param).toBe("string");
    expect(JSON.parse(record.param)).toEqual(JSON.parse(DOCUMENT_EXAMPLE));
    // Times in epoch milliseconds, costTime their difference.
    for (const field of ["createTime", "completeTime", "costTime"]) {
      expect(Number.isInteger(record[field]), field).toBe(true);
    }
    expect(record.createTime).toBeGreaterThanOrEqual(before - 1_000);
    expect(record.completeTime).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(record.costTime).toBe(record.completeTime - record.createTime);

    expect(typeof record.resultJson).toBe("string");
    const { resultUrls } = JSON.parse(record.resultJson);
    const file = await fetch(resultUrls[0]);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("image/png");

    // The door's price: 16 credits at 1K (assumed: document 000's for the same model).
    const task = await findTask(stack.db.db, taskId);
    expect(task).toMatchObject({ door: "kie", model: "nano-banana-2", price: 16 });
  });

  it("recordInfo reads a task made through another door, in kie's shape", async () => {
    const native = await stack.request("POST", "/v1/images/generations", {
      key,
      body: { model: "nano-banana-2", input: { prompt: "a native cat" } },
    });
    const taskId = native.body.data.taskId;
    await stack.waitForTask(taskId, ended);
    const { body } = await recordInfo(taskId);
    expect(body.data).toMatchObject({ taskId, model: "nano-banana-2", state: "success" });
    expect(JSON.parse(body.data.param)).toMatchObject({ model: "nano-banana-2" });
  });

  it("another account's task is a 404", async () => {
    const created = await createTask(DOCUMENT_EXAMPLE);
    const { apiKey: other } = await stack.createAccount(100);
    const answer = await recordInfo(created.body.data.taskId, other);
    expect(answer).toEqual({
      status: 404,
      body: { code: 404, msg: expect.any(String), data: null },
    });
  });
});

const url = (i: number) => `https://example.com/reference-${i}.png`;
const urls = (n: number) => Array.from({ length: n }, (_, i) => url(i));

/** Each model id Kie's clients send, with their fields: what Ripen makes of it and charges. */
const clientCases: Array<{
  name: string;
  body: { model: string; input: Record<string, unknown> };
  ripenModel: string;
  ripenInput: Record<string, unknown>;
  credits: number;
}> = [
  {
    name: "nano-banana-2, image_input [] (text to image), google_search, jpeg at 2K",
    body: {
      model: "nano-banana-2",
      input: {
        prompt: "a banana spaceship",
        aspect_ratio: "auto",
        resolution: "2K",
        output_format: "jpeg",
        google_search: true,
        image_input: [],
      },
    },
    ripenModel: "nano-banana-2",
    ripenInput: { prompt: "a banana spaceship", resolution: "2K", output_format: "jpg" },
    credits: 24,
  },
  {
    name: "nano-banana-2, image_input with URLs at 4K",
    body: {
      model: "nano-banana-2",
      input: {
        prompt: "combine these",
        image_input: urls(3),
        resolution: "4K",
        aspect_ratio: "8:1",
      },
    },
    ripenModel: "nano-banana-2",
    ripenInput: {
      image_urls: urls(3),
      resolution: "4K",
      aspect_ratio: "8:1",
      output_format: "png",
    },
    credits: 36,
  },
  {
    name: "nano-banana-2, 14 URLs in image_urls",
    body: { model: "nano-banana-2", input: { prompt: "fourteen", image_urls: urls(14) } },
    ripenModel: "nano-banana-2",
    ripenInput: { image_urls: urls(14), resolution: "1K" },
    credits: 16,
  },
  {
    name: "nano-banana-2-lite with image_urls",
    body: {
      model: "nano-banana-2-lite",
      input: { prompt: "lite", image_urls: urls(2), aspect_ratio: "4:5" },
    },
    ripenModel: "nano-banana-2-lite",
    ripenInput: { image_urls: urls(2), aspect_ratio: "4:5", resolution: "1K" },
    credits: 10,
  },
  {
    name: "nano-banana-pro, image_input [], jpeg at 4K",
    body: {
      model: "nano-banana-pro",
      input: {
        prompt: "comic poster",
        image_input: [],
        aspect_ratio: "1:1",
        resolution: "4K",
        output_format: "jpeg",
      },
    },
    ripenModel: "nano-banana-pro",
    ripenInput: { prompt: "comic poster", resolution: "4K", output_format: "jpg" },
    credits: 35,
  },
  {
    name: "nano-banana-pro, image_input with a URL at 2K",
    body: {
      model: "nano-banana-pro",
      input: { prompt: "restyle", image_input: [url(0)], resolution: "2K", aspect_ratio: "21:9" },
    },
    ripenModel: "nano-banana-pro",
    ripenInput: { image_urls: [url(0)], resolution: "2K", aspect_ratio: "21:9" },
    credits: 25,
  },
  {
    name: "google/nano-banana, image_size and jpeg",
    body: {
      model: "google/nano-banana",
      input: { prompt: "a banana in space", image_size: "16:9", output_format: "jpeg" },
    },
    ripenModel: "nano-banana",
    ripenInput: { prompt: "a banana in space", aspect_ratio: "16:9", output_format: "jpg" },
    credits: 8,
  },
  {
    name: "google/nano-banana-edit, image_urls and image_size",
    body: {
      model: "google/nano-banana-edit",
      input: { prompt: "turn it into a figure", image_urls: [url(1)], image_size: "4:3" },
    },
    ripenModel: "nano-banana-edit",
    ripenInput: { image_urls: [url(1)], aspect_ratio: "4:3", output_format: "png" },
    credits: 8,
  },
];

describe("the model ids Kie's clients send", () => {
  it("each is served by its Ripen model, charged the door's price, and read back in kie's words", async () => {
    const created = await Promise.all(
      clientCases.map(async (c) => {
        const answer = await createTask(JSON.stringify(c.body));
        expect(answer, c.name).toMatchObject({ status: 200, body: { code: 200 } });
        return { ...c, taskId: answer.body.data.taskId as string };
      }),
    );
    for (const c of created) {
      expect(await stack.waitForTask(c.taskId, ended, 20_000), c.name).toBe("succeeded");
      const task = await findTask(stack.db.db, c.taskId);
      expect(task, c.name).toMatchObject({
        door: "kie",
        model: c.ripenModel,
        price: c.credits,
        input: expect.objectContaining(c.ripenInput),
      });
      // An empty image_input is text to image: no reference images at all.
      if (!("image_urls" in c.ripenInput))
        expect(task?.input, c.name).not.toHaveProperty("image_urls");
      const { body } = await recordInfo(c.taskId);
      expect(body.data, c.name).toMatchObject({ model: c.body.model, state: "success" });
      expect(JSON.parse(body.data.param), c.name).toEqual(c.body);
      const file = await fetch(JSON.parse(body.data.resultJson).resultUrls[0]);
      expect(file.status, c.name).toBe(200);
    }
  });

  it.each<[string, unknown, RegExp]>([
    [
      "15 URLs in image_input",
      { model: "nano-banana-2", input: { prompt: "x", image_input: urls(15) } },
      /'input.image_input' accepts at most 14 URLs for nano-banana-2/,
    ],
    [
      "images in both image_input and image_urls",
      { model: "nano-banana-2", input: { prompt: "x", image_input: urls(1), image_urls: urls(1) } },
      /'input.image_urls'/,
    ],
    [
      "google_search not a boolean",
      { model: "nano-banana-2", input: { prompt: "x", google_search: "yes" } },
      /'input.google_search' must be true or false/,
    ],
    [
      "9 URLs for nano-banana-pro",
      { model: "nano-banana-pro", input: { prompt: "x", image_input: urls(9) } },
      /at most 8/,
    ],
    [
      "an image_size of nano-banana-2's only",
      { model: "google/nano-banana", input: { prompt: "x", image_size: "1:8" } },
      /'input.image_size'/,
    ],
    [
      "an edit without images",
      { model: "google/nano-banana-edit", input: { prompt: "x", image_urls: [] } },
      /'input.image_urls' must hold at least one URL/,
    ],
    [
      "image_input on google/nano-banana",
      { model: "google/nano-banana", input: { prompt: "x", image_input: [] } },
      /'input.image_input' is not a recognized field/,
    ],
    [
      "jpeg on document 003's model (png or jpg)",
      { model: "nano-banana-2-text-to-image", input: { prompt: "x", output_format: "jpeg" } },
      /'input.output_format'/,
    ],
    [
      "a cloud metadata image URL (the SSRF guard)",
      {
        model: "nano-banana-2",
        input: { prompt: "x", image_input: ["http://169.254.169.254/latest/meta-data"] },
      },
      /not allowed/,
    ],
  ])("%s: 422, no task", async (_name, body, message) => {
    const before = await taskCount();
    const answer = await createTask(JSON.stringify(body));
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({ code: 422, msg: expect.stringMatching(message), data: null });
    expect(await taskCount()).toBe(before);
  });
});

describe("a client written from the document alone", () => {
  it("creates with callBackUrl, polls data.state and reads resultUrls from resultJson", async () => {
    const endpoint = await ClientEndpoint.start();
    onTestFinished(() => endpoint.close());
    const hook = endpoint.hook();
    const client = createKieDocClient({ baseUrl: stack.apiUrl, apiKey: key, pollIntervalMs: 20 });
    const taskIds = await Promise.all(
      [
        ["nano-banana-2-text-to-image", { prompt: "a yellow camera", resolution: "2K" }],
        ["nano-banana-2", { prompt: "a banana", image_input: [], google_search: false }],
        ["google/nano-banana", { prompt: "a banana", image_size: "1:1", output_format: "png" }],
      ].map(([model, input]) =>
        client.createTask(model as string, input as Record<string, unknown>, hook),
      ),
    );
    for (const taskId of taskIds) {
      const resultUrls = await client.waitForResult(taskId);
      expect(resultUrls).toHaveLength(1);
      expect((await fetch(resultUrls[0]!)).status).toBe(200);
    }
    // Each task's callBackUrl got its record, read the same way.
    await endpoint.nthRequest(hook, taskIds.length);
    const posted = endpoint.requestsTo(hook).map((r) => JSON.parse(r.body).data);
    expect(posted.map((d) => d.taskId).sort()).toEqual([...taskIds].sort());
    for (const data of posted) {
      expect(data.state).toBe("success");
      expect(JSON.parse(data.resultJson).resultUrls).toHaveLength(1);
    }
  });
});

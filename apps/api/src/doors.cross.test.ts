import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// One Ripen behind every door: a task created through any door is read through every door's
// status endpoint (in that door's shape), the native API, the list, the live stream and the
// history, and canceled through the native API.

let stack: TestStack;
let apiKey: string;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ apiKey } = await stack.createAccount(10_000));
});
afterAll(() => stack?.close());

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${apiKey}` },
) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text.startsWith("{") ? JSON.parse(text) : text };
}

/** One image create per door, each in its own document's words; each answers its task id. */
const doors = {
  native: async () =>
    (
      await call("POST", "/v1/images/generations", {
        model: "nano-banana-2",
        input: { prompt: "a cat through the native door" },
      })
    ).body.data.taskId as string,
  nanobanana: async () =>
    (
      await call("POST", "/api/v1/images/generate", {
        prompt: "a cat through the nanobanana door",
        // Not nano-banana-2: document 001 marks it "Subscription: Required" on this door.
        model: "nano-banana-pro",
      })
    ).body.data.task_id as string,
  kie: async () =>
    (
      await call("POST", "/api/v1/jobs/createTask", {
        model: "nano-banana-2-text-to-image",
        input: { prompt: "a cat through the kie door" },
      })
    ).body.data.taskId as string,
  revid: async () =>
    (
      await call(
        "POST",
        "/paid/nano/banana/create",
        { model: "nano-banana-pro", input: { prompt: "a cat through the revid door" } },
        { "x-api-key": apiKey },
      )
    ).body.data.taskId as string,
} as const;
type Door = keyof typeof doors;
const doorNames = Object.keys(doors) as Door[];

/** The task as each door shows it, reduced to what a client of that door checks. */
async function readEverywhere(taskId: string) {
  const native = await call("GET", `/v1/tasks/${taskId}`);
  const nanobanana = await call("GET", `/api/v1/images/status?task_id=${taskId}`);
  const kie = await call("GET", `/api/v1/jobs/recordInfo?taskId=${taskId}`);
  const revid = await call("POST", `/paid/get/taskid?taskId=${taskId}`, undefined, {
    "x-api-key": apiKey,
  });
  for (const answer of [native, nanobanana, kie, revid]) expect(answer.status).toBe(200);
  return {
    native: { id: native.body.id, status: native.body.status, urls: native.body.output?.urls },
    nanobanana: {
      id: nanobanana.body.data.task_id,
      status: nanobanana.body.data.status,
      url: nanobanana.body.data.image_url,
    },
    kie: {
      id: kie.body.data.taskId,
      state: kie.body.data.state,
      urls: kie.body.data.resultJson ? JSON.parse(kie.body.data.resultJson).resultUrls : null,
    },
    revid: {
      id: revid.body.data.taskId,
      state: revid.body.data.state,
      urls: revid.body.data.resultJson ? JSON.parse(revid.body.data.resultJson).resultUrls : null,
    },
  };
}

describe("a task created through one door", () => {
  const created = {} as Record<Door, string>;

  it("is queued, and read as such through every door", async () => {
    for (const door of doorNames) created[door] = await doors[door]();
    for (const door of doorNames) {
      const id = created[door];
      expect(id, door).toMatch(/^task_/);
      expect(await readEverywhere(id)).toEqual({
        native: { id, status: "pending", urls: undefined },
        nanobanana: { id, status: "pending", url: null },
        kie: { id, state: "waiting", urls: null },
        revid: { id, state: "waiting", urls: null },
      });
    }
  });

  it("is canceled through the native API, and every door reads it failed", async () => {
    const canceled = await doors.kie();
    expect((await call("POST", `/v1/tasks/${canceled}/cancel`)).status).toBe(200);
    const seen = await readEverywhere(canceled);
    expect(seen.native.status).toBe("failed");
    expect(seen.nanobanana.status).toBe("failed");
    expect(seen.kie.state).toBe("fail");
    expect(seen.revid.state).toBe("fail");
    const kie = await call("GET", `/api/v1/jobs/recordInfo?taskId=${canceled}`);
    expect(kie.body.data.failCode).toBe("task_canceled");
  });

  it("completes, and every door reads the same result in its own shape", async () => {
    await stack.startWorker();
    for (const door of doorNames) await stack.waitForTask(created[door], ["succeeded"]);
    for (const door of doorNames) {
      const id = created[door];
      const seen = await readEverywhere(id);
      const urls = seen.native.urls as string[];
      expect(urls.length, door).toBe(1);
      expect(seen, door).toEqual({
        native: { id, status: "completed", urls },
        nanobanana: { id, status: "completed", url: urls[0] },
        kie: { id, state: "success", urls },
        revid: { id, state: "success", urls },
      });
      expect((await fetch(urls[0]!)).status).toBe(200);
    }
  });

  it("is listed, streamed and its history names its door", async () => {
    const list = await call("GET", "/v1/tasks?limit=100");
    const listed = list.body.data.tasks.map((t: { id: string }) => t.id);
    for (const door of doorNames) expect(listed, door).toContain(created[door]);
    for (const door of doorNames) {
      const history = await call("GET", `/v1/tasks/${created[door]}/history`);
      expect(history.body.door, door).toBe(door);
      const stream = await call("GET", `/v1/tasks/${created[door]}/events`);
      expect(stream.status).toBe(200);
      expect(stream.body, door).toContain(created[door]);
      expect(stream.body, door).toContain('"completed"');
    }
  });

  it("keeps the model name its door's client used, and echoes the Kie family's request", async () => {
    const kie = await call("GET", `/api/v1/jobs/recordInfo?taskId=${created.kie}`);
    expect(kie.body.data.model).toBe("nano-banana-2-text-to-image");
    expect(JSON.parse(kie.body.data.param)).toMatchObject({
      model: "nano-banana-2-text-to-image",
      input: { prompt: "a cat through the kie door" },
    });
    // A native task read through the kie door shows Ripen's own request.
    const native = await call("GET", `/api/v1/jobs/recordInfo?taskId=${created.native}`);
    expect(native.body.data.model).toBe("nano-banana-2");
    expect(JSON.parse(native.body.data.param).input.prompt).toBe("a cat through the native door");
  });
});

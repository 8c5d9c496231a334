import { deliveries } from "@ripen/db";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Answer, ClientEndpoint } from "../../worker/src/testing/client-endpoint";

// The production schedule's first tries, in milliseconds: a lost delivery is retried at once.
const SCHEDULE = [0, 10, 20, 30, 40, 50, 60, 70];

let stack: TestStack;
let endpoint: ClientEndpoint;
let key: string;

beforeAll(async () => {
  stack = await startTestStack({
    workerOptions: { deliveries: { schedule: SCHEDULE, timeoutMs: 500 } },
  });
  endpoint = await ClientEndpoint.start();
  ({ apiKey: key } = await stack.createAccount(100_000));
});
afterAll(async () => {
  await endpoint?.close();
  await stack?.close();
});
beforeEach(() => {
  stack.sandbox.configure({ generationMs: 50, failureRate: 0, callbackLossRate: 0 });
});

const ended = ["succeeded", "failed", "expired", "canceled"] as const;

const inputs: Record<string, Record<string, unknown>> = {
  "nano-banana-2": { prompt: "a banana hero", image_input: [], aspect_ratio: "1:1" },
  "google/nano-banana": { prompt: "a banana hero", image_size: "1:1", output_format: "jpeg" },
};

/** A create as a Kie client sends it: always with callBackUrl. */
async function createWithCallback(callBackUrl: string, model = "nano-banana-2") {
  const body = { model, callBackUrl, input: inputs[model] };
  const res = await stack.request("POST", "/api/v1/jobs/createTask", { key, body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { taskId: res.body.data.taskId as string, body };
}

const recordInfo = (taskId: string) =>
  stack.request("GET", `/api/v1/jobs/recordInfo?taskId=${taskId}`, { key });

async function deliveryOf(taskId: string) {
  const rows = await stack.db.db.select().from(deliveries).where(eq(deliveries.taskId, taskId));
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

describe("callBackUrl", () => {
  it("a succeeded task: the recordInfo answer is posted there, signed", async () => {
    const hook = endpoint.hook();
    const { taskId, body } = await createWithCallback(hook);
    expect(await stack.waitForTask(taskId, ended)).toBe("succeeded");
    const received = await endpoint.nthRequest(hook, 1);

    const posted = JSON.parse(received.body);
    expect(posted).toEqual((await recordInfo(taskId)).body);
    expect(posted).toMatchObject({
      code: 200,
      msg: "success",
      data: { taskId, model: "nano-banana-2", state: "success", failCode: null },
    });
    expect(JSON.parse(posted.data.param)).toEqual(body);
    expect(JSON.parse(posted.data.resultJson).resultUrls).toHaveLength(1);
    expect(received.headers).toMatchObject({
      "content-type": "application/json",
      "x-task-id": taskId,
      "webhook-signature": expect.stringMatching(/^v1,/),
    });
  });

  it("a failed task: the failed recordInfo answer is posted", async () => {
    stack.sandbox.configure({ failureRate: 1 });
    const hook = endpoint.hook();
    const { taskId } = await createWithCallback(hook, "google/nano-banana");
    expect(await stack.waitForTask(taskId, ended)).toBe("failed");
    const received = await endpoint.nthRequest(hook, 1);

    const posted = JSON.parse(received.body);
    expect(posted).toEqual((await recordInfo(taskId)).body);
    expect(posted.data).toMatchObject({
      taskId,
      model: "google/nano-banana",
      state: "fail",
      resultJson: null,
      failCode: expect.any(String),
      failMsg: expect.any(String),
    });
    expect(received.headers["x-event"]).toBe("task.failed");
  });

  it.each<[string, Answer]>([
    ["answered 500", { status: 500, body: "busy" }],
    ["dropped (no answer before the timeout)", "hang"],
  ])("a first delivery %s is retried and arrives", async (_name, firstAnswer) => {
    const hook = endpoint.hook((n) => (n === 1 ? firstAnswer : { status: 200, body: "ok" }));
    const { taskId } = await createWithCallback(hook);
    expect(await stack.waitForTask(taskId, ended)).toBe("succeeded");
    const retried = await endpoint.nthRequest(hook, 2);
    endpoint.releaseHanging();

    const [first, second] = endpoint.requestsTo(hook);
    expect(second!.body).toBe(first!.body);
    expect(second!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
    expect(JSON.parse(retried.body)).toEqual((await recordInfo(taskId)).body);
    // The delivery log says it took two tries and ended delivered.
    for (let i = 0; i < 100 && (await deliveryOf(taskId)).state !== "succeeded"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await deliveryOf(taskId)).toMatchObject({ state: "succeeded", tries: 2 });
  });

  it("a task created without callBackUrl posts nothing", async () => {
    const res = await stack.request("POST", "/api/v1/jobs/createTask", {
      key,
      body: { model: "nano-banana-2", input: { prompt: "quiet" } },
    });
    const taskId = res.body.data.taskId;
    expect(await stack.waitForTask(taskId, ended)).toBe("succeeded");
    const rows = await stack.db.db.select().from(deliveries).where(eq(deliveries.taskId, taskId));
    expect(rows).toEqual([]);
  });
});

import { deliveries } from "@ripen/db";
import { CREATE_PATH, QUERY_PATH, queryTaskResponse } from "@ripen/dialect-revid";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ClientEndpoint,
  DeliveryJobEvents,
  type Received,
} from "../../worker/src/testing/client-endpoint";

// The production schedule's tries in milliseconds: a retry is followed without waiting for it.
const SCHEDULE = [0, 10, 20, 30, 40, 50, 60, 70];

let stack: TestStack;
let endpoint: ClientEndpoint;
let jobs: DeliveryJobEvents;
let key: string;

beforeAll(async () => {
  stack = await startTestStack({
    workerOptions: { deliveries: { schedule: SCHEDULE, timeoutMs: 1_000 } },
  });
  endpoint = await ClientEndpoint.start();
  jobs = await DeliveryJobEvents.start(stack.redis, stack.prefix);
  ({ apiKey: key } = await stack.createAccount(10_000));
});
afterAll(async () => {
  await jobs?.close();
  await endpoint?.close();
  await stack?.close();
});
beforeEach(() => {
  stack.sandbox.configure({ generationMs: 50, failureRate: 0, callbackLossRate: 0 });
});

const request = (callBackUrl: string) => ({
  model: "nano-banana-pro",
  callBackUrl,
  input: { prompt: "a lemon in a spacesuit", resolution: "2K", output_format: "jpg" },
});

/** Creates through the revid door with `callBackUrl`; awaits the task's end and its delivery. */
async function endedTask(callBackUrl: string) {
  const response = await fetch(`${stack.apiUrl}${CREATE_PATH}`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: JSON.stringify(request(callBackUrl)),
  });
  const created = (await response.json()) as any;
  expect(response.status, JSON.stringify(created)).toBe(200);
  const taskId: string = created.data.taskId;
  await stack.waitForTask(taskId, ["succeeded", "failed", "expired", "canceled"]);
  const rows = await stack.db.db.select().from(deliveries).where(eq(deliveries.taskId, taskId));
  expect(rows).toHaveLength(1);
  return { taskId, deliveryId: rows[0]!.id };
}

/** The query answer, as text, exactly as a client polling would read it. */
async function queryText(taskId: string): Promise<string> {
  const response = await fetch(`${stack.apiUrl}${QUERY_PATH}?taskId=${taskId}`, {
    method: "POST",
    headers: { "x-api-key": key },
  });
  expect(response.status).toBe(200);
  return response.text();
}

/** The callback is the query answer in revid's shape, signed per Standard Webhooks. */
async function expectRevidCallback(received: Received, taskId: string) {
  expect(received.body).toBe(await queryText(taskId));
  const body = queryTaskResponse.parse(JSON.parse(received.body));
  expect(body).toMatchObject({ code: 200, msg: "success", data: { taskId } });
  expect(JSON.parse(body.data.param)).toEqual({
    model: "nano-banana-pro",
    callBackUrl: expect.stringContaining(endpoint.url),
    input: {
      prompt: "a lemon in a spacesuit",
      image_input: [],
      aspect_ratio: "1:1",
      resolution: "2K",
      output_format: "jpg",
    },
  });
  const secret = (await stack.request("GET", "/v1/webhook-secret", { key })).body.data.secret;
  expect(
    new Webhook(secret).verify(received.body, received.headers as Record<string, string>),
  ).toBeTruthy();
  return body.data;
}

describe("callBackUrl", () => {
  it("receives the query body on success", async () => {
    const url = endpoint.hook();
    const { taskId, deliveryId } = await endedTask(url);
    await jobs.waitFor(deliveryId, "completed");
    const data = await expectRevidCallback(await endpoint.nthRequest(url, 1), taskId);
    expect(data).toMatchObject({ state: "success", failCode: null, failMsg: null });
    expect(JSON.parse(data.resultJson!).resultUrls).toHaveLength(1);
    expect(data.costTime).toBe(data.completeTime! - data.createTime);
    expect(endpoint.requestsTo(url)).toHaveLength(1);
  });

  it("receives the query body on failure, state fail with failCode and failMsg", async () => {
    stack.sandbox.configure({ failureRate: 1 });
    const url = endpoint.hook();
    const { taskId, deliveryId } = await endedTask(url);
    await jobs.waitFor(deliveryId, "completed");
    const received = await endpoint.nthRequest(url, 1);
    expect(received.headers["x-event"]).toBe("task.failed");
    const data = await expectRevidCallback(received, taskId);
    expect(data).toMatchObject({
      state: "fail",
      resultJson: null,
      failCode: expect.any(String),
      failMsg: expect.any(String),
      completeTime: expect.any(Number),
    });
  });

  it("a lost first delivery (the endpoint answers 500) is retried and arrives", async () => {
    const url = endpoint.hook((n) => (n === 1 ? { status: 500, body: "down" } : { status: 200 }));
    const { taskId, deliveryId } = await endedTask(url);
    await jobs.waitFor(deliveryId, "completed");
    const tries = endpoint.requestsTo(url);
    expect(tries).toHaveLength(2);
    expect(tries[1]!.body).toBe(tries[0]!.body);
    expect(tries[1]!.headers["webhook-id"]).toBe(deliveryId);
    await expectRevidCallback(tries[1]!, taskId);
    const [row] = await stack.db.db.select().from(deliveries).where(eq(deliveries.id, deliveryId));
    expect(row).toMatchObject({ state: "succeeded", tries: 2, lastStatus: 200 });
  });

  it("without callBackUrl, no callback is sent", async () => {
    const response = await fetch(`${stack.apiUrl}${CREATE_PATH}`, {
      method: "POST",
      headers: { "x-api-key": key },
      body: JSON.stringify({ model: "google/nano-banana", input: { prompt: "a kiwi" } }),
    });
    const { taskId } = ((await response.json()) as any).data;
    await stack.waitForTask(taskId, ["succeeded"]);
    expect(
      await stack.db.db.select().from(deliveries).where(eq(deliveries.taskId, taskId)),
    ).toEqual([]);
  });
});

import { transitionTask } from "@ripen/core";
import { tasks } from "@ripen/db";
import { openEventStream, type SseEvent, startTestStack, type TestStack } from "@ripen/testkit";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Live batch progress over SSE: `GET /v1/batches/{id}/events`. No worker: the test ends the items
// as the worker would (through the stack's task ender). The streams re-read Postgres only once
// an hour here, so every update after the first came from an item's ending hinting its batch.

let stack: TestStack;
let key: string;
let otherKey: string;

beforeAll(async () => {
  stack = await startTestStack({ worker: false, taskEvents: { recheckMs: 3_600_000 } });
  ({ apiKey: key } = await stack.createAccount(100_000));
  ({ apiKey: otherKey } = await stack.createAccount(100_000));
});
afterAll(() => stack?.close());

const image = (prompt: string) => ({ model: "nano-banana-2", input: { prompt } });

async function createBatch(size: number): Promise<{ batchId: string; items: string[] }> {
  const res = await stack.request("POST", "/v1/batches", {
    key,
    body: { requests: Array.from({ length: size }, (_, i) => image(`item ${i}`)) },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const batchId = res.body.data.id as string;
  const rows = await stack.db.db
    .select({ id: tasks.id })
    .from(tasks)
    .where(eq(tasks.batchId, batchId))
    .orderBy(asc(tasks.id));
  return { batchId, items: rows.map((row) => row.id) };
}

/** Ends an item as the worker would: submitted, then its outcome, with the after-commit step. */
async function endItem(taskId: string, status: "succeeded" | "failed") {
  await transitionTask(stack.db.db, { taskId, to: "submitting", source: "worker" });
  await stack.ender.end(stack.db.db, {
    taskId,
    outcome:
      status === "succeeded"
        ? { status, output: { urls: ["https://cdn.example/a.png"], metadata: {} } }
        : { status, errorCode: "upstream_error", errorMessage: "the provider failed" },
    source: "poll",
    now: new Date(),
  });
}

const open = (batchId: string, options: { key?: string; lastEventId?: string } = {}) =>
  openEventStream(`${stack.apiUrl}/v1/batches/${batchId}/events`, options);

const dataOf = (event: SseEvent | null) => {
  expect(event?.event).toBe("batch");
  return JSON.parse(event!.data);
};

describe("GET /v1/batches/{id}/events", () => {
  it("sends the batch at once and as its items end, and ends after the batch ends", async () => {
    const { batchId, items } = await createBatch(3);
    const { status, reader } = await open(batchId, { key });
    expect(status).toBe(200);

    const first = dataOf(await reader!.next());
    const fetched = await stack.request("GET", `/v1/batches/${batchId}`, { key });
    // The same object as the batch's own URL (its elapsed time aside, which moves).
    expect({ ...first, elapsed_ms: 0 }).toEqual({ ...fetched.body.data, elapsed_ms: 0 });
    expect(first).toMatchObject({ state: "running", active: 3, progress: 0 });

    await endItem(items[0]!, "succeeded");
    expect(dataOf(await reader!.next())).toMatchObject({
      state: "running",
      succeeded: 1,
      active: 2,
    });
    await endItem(items[1]!, "failed");
    expect(dataOf(await reader!.next())).toMatchObject({ state: "running", failed: 1, active: 1 });
    await endItem(items[2]!, "succeeded");
    const last = dataOf(await reader!.next());
    expect(last).toMatchObject({ state: "ended", succeeded: 2, failed: 1, active: 0, progress: 1 });
    expect(last.ended_at).toEqual(expect.any(Number));
    // The server closes the stream after the ending event.
    expect(await reader!.rest()).toEqual([]);
    await expect.poll(() => stack.batchEvents.stats()).toEqual({ streams: 0, batches: 0 });
  });

  it("a canceled batch's stream shows the cancel and ends", async () => {
    const { batchId } = await createBatch(2);
    const { reader } = await open(batchId, { key });
    expect(dataOf(await reader!.next())).toMatchObject({ state: "running", active: 2 });
    const canceled = await stack.request("POST", `/v1/batches/${batchId}/cancel`, { key });
    expect(canceled.status).toBe(200);
    const events = [await reader!.next(), ...(await reader!.rest())];
    expect(dataOf(events.at(-1)!)).toMatchObject({ state: "canceled", active: 0 });
  });

  it("a reconnect with Last-Event-ID is sent the current state (an ended batch: once, then the end)", async () => {
    const { batchId, items } = await createBatch(1);
    await endItem(items[0]!, "succeeded");
    const { status, reader } = await open(batchId, { key, lastEventId: "whatever" });
    expect(status).toBe(200);
    const events = await reader!.rest();
    expect(events).toHaveLength(1);
    expect(dataOf(events[0]!)).toMatchObject({ state: "ended", succeeded: 1 });
  });

  it("answers before the stream in the error envelope: no key 401, another's or a malformed id 404", async () => {
    const { batchId } = await createBatch(1);
    const anonymous = await open(batchId);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe("invalid_api_key");

    const others = await open(batchId, { key: otherKey });
    expect(others.status).toBe(404);
    expect(others.body.error).toMatchObject({ code: "batch_not_found" });

    for (const id of ["not-a-batch", "task_01m91ye86y5368jnt3n3p3tvey", "batch_%27%3B"]) {
      const malformed = await open(id, { key });
      expect(malformed.status, id).toBe(404);
      expect(malformed.body.error.code).toBe("batch_not_found");
    }
    expect(stack.batchEvents.stats().streams).toBe(0);
  });
});

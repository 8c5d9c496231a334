import { endTask, transitionTask } from "@ripen/core";
import { batches, deliveries, ledgerEntries, tasks } from "@ripen/db";
import { ledgerViolations, startTestStack, type TestStack } from "@ripen/testkit";
import { and, asc, count, eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { csvField, csvLine, resultLineOf } from "./routes/v1_batches";

let stack: TestStack;

// No worker: items stay where the test puts them, and the test ends them as the worker would.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(() => stack?.close());

const image = (prompt = "a cat") => ({ model: "nano-banana-2", input: { prompt } });
const PRICE = 16; // nano-banana-2 at 1K (its default)

const submit = (key: string, body: unknown) => stack.request("POST", "/v1/batches", { key, body });

async function countsOf(accountId: string) {
  const [b] = await stack.db.db
    .select({ n: count() })
    .from(batches)
    .where(eq(batches.accountId, accountId));
  const [t] = await stack.db.db
    .select({ n: count() })
    .from(tasks)
    .where(eq(tasks.accountId, accountId));
  const [l] = await stack.db.db
    .select({ n: count() })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.accountId, accountId), sql`${ledgerEntries.kind} <> 'grant'`));
  return { batches: b!.n, tasks: t!.n, ledger: l!.n };
}

const creditsOf = async (key: string) =>
  (await stack.request("GET", "/v1/credits", { key })).body.data as {
    credits: number;
    balance: number;
    held: number;
  };

const bad = [
  image("one"),
  { model: "no-such-model", input: { prompt: "x" } },
  { model: "nano-banana-2", input: {} },
  image("four"),
  { model: "nano-banana-2", input: { prompt: "x" }, callback_url: "http://169.254.169.254/x" },
  "not an object",
];

describe("POST /v1/batches validation", () => {
  it("rejects the whole batch by default, listing every bad item by index, writing nothing", async () => {
    const { accountId, apiKey } = await stack.createAccount(10_000);
    const res = await submit(apiKey, { requests: bad });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: "invalid_request",
      type: "invalid_request_error",
    });
    expect(res.body.error.message).toMatch(/4 of the batch's items are invalid/);
    const errors = res.body.error.errors as Array<{ index: number; field?: string; code: string }>;
    expect(errors.map((e) => e.index)).toEqual([1, 2, 4, 5]);
    expect(errors[0]).toMatchObject({ index: 1, code: "model_not_found" });
    expect(errors[1]).toMatchObject({ index: 2, code: "invalid_request" });
    expect(errors[1]!.field).toMatch(/^input/);
    expect(errors[2]).toMatchObject({ index: 4, field: "callback_url" });
    expect(await countsOf(accountId)).toEqual({ batches: 0, tasks: 0, ledger: 0 });
    expect(await creditsOf(apiKey)).toMatchObject({ credits: 10_000, held: 0 });
  });

  it("with partial: true accepts the valid items, reports the others, and holds only theirs", async () => {
    const { accountId, apiKey } = await stack.createAccount(10_000);
    const res = await submit(apiKey, { requests: bad, partial: true });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const data = res.body.data;
    expect(data).toMatchObject({
      object: "batch",
      state: "running",
      total: 2,
      credits: { held: 2 * PRICE, captured: 0, released: 0, total: 2 * PRICE },
    });
    expect(data.rejected.map((e: { index: number }) => e.index)).toEqual([1, 2, 4, 5]);
    expect(await countsOf(accountId)).toEqual({ batches: 1, tasks: 2, ledger: 2 });
    expect(await creditsOf(apiKey)).toMatchObject({ credits: 10_000 - 2 * PRICE, held: 2 * PRICE });
    const summary = (await stack.request("GET", `/v1/batches/${data.id}`, { key: apiKey })).body
      .data;
    expect(summary).toMatchObject({ total: 2, active: 2, progress: 0, counts: { queued: 2 } });
    // Items are ordinary tasks, listed by batch.
    const listed = await stack.request("GET", `/v1/tasks?batch_id=${data.id}`, { key: apiKey });
    expect(listed.status).toBe(200);
    expect(listed.body.data.tasks).toHaveLength(2);
  });

  it("refuses a batch the account cannot afford: 402, nothing written", async () => {
    const { accountId, apiKey } = await stack.createAccount(PRICE * 3);
    const res = await submit(apiKey, { requests: [image(), image(), image(), image()] });
    expect(res.status).toBe(402);
    expect(res.body.error.code).toBe("insufficient_credits");
    expect(await countsOf(accountId)).toEqual({ batches: 0, tasks: 0, ledger: 0 });
    expect(await creditsOf(apiKey)).toMatchObject({ credits: PRICE * 3, held: 0 });
  });

  it("answers bad bodies, ids and empty batches in the envelope", async () => {
    const { apiKey } = await stack.createAccount(1_000);
    for (const body of [{}, { requests: [] }, { requests: "x" }, { requests: [image()], x: 1 }]) {
      const res = await submit(apiKey, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    const tooMany = await submit(apiKey, { requests: Array.from({ length: 10_001 }, () => 1) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toMatch(/at most 10000/);
    const missing = await stack.request("GET", "/v1/batches/batch_nope", { key: apiKey });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("batch_not_found");
  });

  it("keeps another account's batch out of sight", async () => {
    const a = await stack.createAccount(1_000);
    const b = await stack.createAccount(1_000);
    const { id } = (await submit(a.apiKey, { requests: [image()] })).body.data;
    for (const path of [`/v1/batches/${id}`, `/v1/batches/${id}/results`]) {
      const res = await stack.request("GET", path, { key: b.apiKey });
      expect(res.status).toBe(404);
    }
    expect(
      (await stack.request("POST", `/v1/batches/${id}/cancel`, { key: b.apiKey })).status,
    ).toBe(404);
    const list = await stack.request("GET", "/v1/batches", { key: b.apiKey });
    expect(list.body.data.batches).toEqual([]);
  });
});

const output = { urls: ["https://cdn.example/a.png"], metadata: {} };

/** Ends a queued item as succeeded, as the worker would (submitted first). */
async function succeed(taskId: string) {
  await transitionTask(stack.db.db, { taskId, to: "submitting", source: "worker" });
  await endTask(stack.db.db, {
    taskId,
    outcome: { status: "succeeded", output },
    source: "poll",
  });
}

describe("cancel, results and the batch's end", () => {
  it("cancel mid-batch refunds exactly the items that had not ended, once each", async () => {
    const { accountId, apiKey } = await stack.createAccount(10_000);
    const res = await submit(apiKey, {
      requests: Array.from({ length: 10 }, (_, i) => image(`${i}`)),
    });
    const batchId = res.body.data.id as string;
    const items = await stack.db.db
      .select({ id: tasks.id })
      .from(tasks)
      .where(eq(tasks.batchId, batchId))
      .orderBy(asc(tasks.id));
    // Four succeed and one fails, as the worker would end them; five are still queued.
    for (const { id } of items.slice(0, 4)) {
      await succeed(id);
    }
    await endTask(stack.db.db, {
      taskId: items[4]!.id,
      outcome: {
        status: "failed",
        errorCode: "upstream_error",
        errorMessage: 'bad, "quoted"\nline',
      },
      source: "poll",
    });

    const canceled = await stack.request("POST", `/v1/batches/${batchId}/cancel`, { key: apiKey });
    expect(canceled.status).toBe(200);
    expect(canceled.body.data).toMatchObject({
      state: "canceled",
      active: 0,
      progress: 1,
      counts: { succeeded: 4, failed: 1, canceled: 5, queued: 0 },
      credits: { held: 0, captured: 4 * PRICE, released: 6 * PRICE, total: 10 * PRICE },
    });
    expect(await creditsOf(apiKey)).toEqual({
      credits: 10_000 - 4 * PRICE,
      balance: 10_000 - 4 * PRICE,
      held: 0,
    });
    // One hold and one resolution per item, whatever cancels twice.
    const again = await stack.request("POST", `/v1/batches/${batchId}/cancel`, { key: apiKey });
    expect(again.body.data.counts.canceled).toBe(5);
    const ledger = await stack.db.db
      .select({ kind: ledgerEntries.kind, n: count() })
      .from(ledgerEntries)
      .where(
        inArray(
          ledgerEntries.taskId,
          items.map((i) => i.id),
        ),
      )
      .groupBy(ledgerEntries.kind)
      .orderBy(ledgerEntries.kind);
    expect(Object.fromEntries(ledger.map((r) => [r.kind, r.n]))).toEqual({
      hold: 10,
      capture: 4,
      release: 6,
    });
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
    expect(await countsOf(accountId)).toMatchObject({ tasks: 10 });

    // Results: one line per item in submission order, the failure's message escaped.
    const jsonl = await fetch(`${stack.apiUrl}/v1/batches/${batchId}/results?format=jsonl`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers.get("content-type")).toMatch(/application\/x-ndjson/);
    const lines = (await jsonl.text())
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.index)).toEqual([...Array(10).keys()]);
    expect(lines.map((l) => l.task_id)).toEqual(items.map((i) => i.id));
    expect(lines[0]).toMatchObject({
      status: "succeeded",
      model: "nano-banana-2",
      price: PRICE,
      output_urls: output.urls,
      error_code: null,
    });
    expect(lines[4]).toMatchObject({ status: "failed", error_message: 'bad, "quoted"\nline' });
    expect(lines[9]).toMatchObject({ status: "canceled", error_code: "task_canceled" });

    const csv = await fetch(`${stack.apiUrl}/v1/batches/${batchId}/results?format=csv`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(csv.headers.get("content-type")).toMatch(/text\/csv/);
    const text = await csv.text();
    expect(
      text.startsWith("index,task_id,model,status,price,output_urls,error_code,error_message\r\n"),
    ).toBe(true);
    expect(text).toContain(
      `4,${items[4]!.id},nano-banana-2,failed,16,,upstream_error,"bad, ""quoted""\nline"\r\n`,
    );
    expect(text.split("\r\n").filter(Boolean)).toHaveLength(11);
  });

  it("a batch ends when its last item ends, one by one, and writes its callback", async () => {
    const { apiKey } = await stack.createAccount(10_000);
    const res = await submit(apiKey, {
      requests: [image("a"), image("b")],
      callback_url: "http://127.0.0.1:9/batch-hook",
    });
    const batchId = res.body.data.id as string;
    const items = await stack.db.db
      .select({ id: tasks.id })
      .from(tasks)
      .where(eq(tasks.batchId, batchId))
      .orderBy(asc(tasks.id));
    expect(
      (await stack.request("POST", `/v1/tasks/${items[0]!.id}/cancel`, { key: apiKey })).status,
    ).toBe(200);
    expect(
      (await stack.request("GET", `/v1/batches/${batchId}`, { key: apiKey })).body.data.state,
    ).toBe("running");
    await succeed(items[1]!.id);
    const summary = (await stack.request("GET", `/v1/batches/${batchId}`, { key: apiKey })).body
      .data;
    expect(summary).toMatchObject({
      state: "ended",
      progress: 1,
      counts: { canceled: 1, succeeded: 1 },
    });
    expect(summary.ended_at).toEqual(expect.any(Number));
    const rows = await stack.db.db.select().from(deliveries).where(eq(deliveries.batchId, batchId));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      event: "batch.completed",
      taskId: null,
      url: "http://127.0.0.1:9/batch-hook",
    });
    expect(JSON.parse(rows[0]!.body)).toMatchObject({
      id: batchId,
      state: "ended",
      counts: { succeeded: 1, canceled: 1 },
    });
    // Canceling an ended batch changes nothing.
    const canceled = await stack.request("POST", `/v1/batches/${batchId}/cancel`, { key: apiKey });
    expect(canceled.body.data).toMatchObject({
      state: "ended",
      counts: { canceled: 1, succeeded: 1 },
    });
    expect(
      await stack.db.db.select().from(deliveries).where(eq(deliveries.batchId, batchId)),
    ).toHaveLength(1);
  });

  it("lists batches newest first with a cursor", async () => {
    const { apiKey } = await stack.createAccount(10_000);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await submit(apiKey, { requests: [image()] })).body.data.id);
    const first = await stack.request("GET", "/v1/batches?limit=2", { key: apiKey });
    expect(first.body.data.batches.map((b: { id: string }) => b.id)).toEqual([ids[2], ids[1]]);
    const next = await stack.request(
      "GET",
      `/v1/batches?limit=2&cursor=${first.body.data.next_cursor}`,
      { key: apiKey },
    );
    expect(next.body.data.batches.map((b: { id: string }) => b.id)).toEqual([ids[0]]);
    expect(next.body.data.next_cursor).toBeNull();
  });
});

describe("CSV", () => {
  it("quotes fields with commas, quotes or line breaks (RFC 4180)", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField('a "b", c')).toBe('"a ""b"", c"');
    expect(csvField("x\r\ny")).toBe('"x\r\ny"');
    expect(csvField(null)).toBe("");
    const line = resultLineOf(3, {
      id: "task_x",
      model: "m",
      status: "succeeded",
      price: 5,
      output: { urls: ["https://a/1", "https://a/2"], metadata: {} },
      errorCode: null,
      errorMessage: null,
    } as never);
    expect(csvLine(line)).toBe("3,task_x,m,succeeded,5,https://a/1 https://a/2,,\r\n");
  });
});

import { adjustCredits, endTask } from "@ripen/core";
import { createRunningTask, startTestStack, type TestStack } from "@ripen/testkit";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ADMIN_TOKEN = "admin-token-for-ledger-tests";
let stack: TestStack;
let accountId: string;
let apiKey: string;
let otherKey: string;
let succeededId: string;
let failedId: string;
let queuedId: string;

const output = { urls: ["https://files.example/a.png"], metadata: {} };

// No worker: the test ends tasks itself, so the statement's history is exactly what it wrote.
beforeAll(async () => {
  stack = await startTestStack({ worker: false, adminToken: ADMIN_TOKEN });
  ({ accountId, apiKey } = await stack.createAccount(1_000));
  ({ apiKey: otherKey } = await stack.createAccount(500));
  // Two tasks through an attempt that cost $0.08 each upstream (16 aivideoapi credits).
  ({ taskId: succeededId } = await createRunningTask(stack.db.db, accountId));
  ({ taskId: failedId } = await createRunningTask(stack.db.db, accountId));
  await endTask(stack.db.db, {
    taskId: succeededId,
    outcome: { status: "succeeded", output },
    source: "test",
  });
  await endTask(stack.db.db, {
    taskId: failedId,
    outcome: { status: "failed", errorCode: "x", errorMessage: "x" },
    source: "test",
  });
  const created = await stack.request("POST", "/v1/images/generations", {
    key: apiKey,
    body: { model: "nano-banana-2", input: { prompt: "a cat" } },
  });
  expect(created.status).toBe(200);
  queuedId = created.body.data.taskId;
  await adjustCredits(stack.db.db, {
    accountId,
    amount: -4,
    reason: "refund reversed",
    actor: "op",
  });
});
afterAll(() => stack?.close());

const get = (path: string, key = apiKey) => stack.request("GET", path, { key });
const getRaw = (path: string, headers: Record<string, string>) =>
  fetch(`${stack.apiUrl}${path}`, { headers });

describe("GET /v1/credits/ledger", () => {
  it("lists every movement newest first, with its effect and the running totals", async () => {
    const res = await get("/v1/credits/ledger");
    expect(res.status).toBe(200);
    const entries = res.body.data.entries as Array<Record<string, unknown>>;
    expect(entries.map((e) => e.kind)).toEqual([
      "adjustment",
      "hold",
      "release",
      "capture",
      "hold",
      "hold",
      "grant",
    ]);
    expect(entries[0]).toMatchObject({
      amount: -4,
      balance_change: -4,
      held_change: 0,
      reason: "refund reversed",
      actor: "op",
      task_id: null,
    });
    // Each entry's totals: the next (older) entry's plus this one's effect; the newest is now.
    const credits = await get("/v1/credits");
    const newest = entries[0]!;
    expect((newest.balance_after as number) - (newest.held_after as number)).toBe(
      credits.body.data.credits,
    );
    for (let i = 0; i + 1 < entries.length; i++) {
      const [e, older] = [entries[i]!, entries[i + 1]!];
      expect(e.balance_after).toBe((older.balance_after as number) + (e.balance_change as number));
      expect(e.held_after).toBe((older.held_after as number) + (e.held_change as number));
    }
    expect(entries.at(-1)).toMatchObject({ kind: "grant", balance_after: 1_000, held_after: 0 });
    expect(entries.find((e) => e.kind === "capture")).toMatchObject({
      task_id: succeededId,
      amount: 16,
      balance_change: -16,
      held_change: -16,
    });
    expect(entries.filter((e) => e.task_id === queuedId).map((e) => e.kind)).toEqual(["hold"]);
  });

  it("pages by cursor with the same totals, and filters by kind", async () => {
    const all = (await get("/v1/credits/ledger")).body.data.entries;
    const paged: unknown[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: any } = await get(
        `/v1/credits/ledger?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(res.status).toBe(200);
      paged.push(...res.body.data.entries);
      cursor = res.body.data.next_cursor;
    } while (cursor);
    expect(paged).toEqual(all);

    const holds = (await get("/v1/credits/ledger?kind=hold,capture&limit=2")).body.data;
    expect(holds.entries.map((e: { kind: string }) => e.kind)).toEqual(["hold", "capture"]);
    const rest = (await get(`/v1/credits/ledger?kind=hold,capture&cursor=${holds.next_cursor}`))
      .body.data;
    expect(rest.entries.map((e: { kind: string }) => e.kind)).toEqual(["hold", "hold"]);
    // Filtered pages keep the totals of the whole ledger.
    const byId = new Map(all.map((e: { id: string }) => [e.id, e]));
    for (const e of [...holds.entries, ...rest.entries]) expect(e).toEqual(byId.get(e.id));
  });

  it("answers bad parameters with a 400 naming them, in the native envelope", async () => {
    for (const [query, param] of [
      ["kind=refund", "kind"],
      ["from=yesterday", "from"],
      ["cursor=abc", "cursor"],
      ["limit=0", "limit"],
      ["colour=red", "colour"],
      ["format=xml", "format"],
      ["format=csv&limit=5", "limit"],
    ] as const) {
      const res = await get(`/v1/credits/ledger?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code, query).toBe("invalid_request");
      expect(res.body.error.message, query).toContain(param);
    }
  });

  it("exports the whole range as CSV, by format or by Accept", async () => {
    const json = (await get("/v1/credits/ledger?limit=100")).body.data.entries;
    for (const [path, headers] of [
      ["/v1/credits/ledger?format=csv", { authorization: `Bearer ${apiKey}` }],
      ["/v1/credits/ledger", { authorization: `Bearer ${apiKey}`, accept: "text/csv" }],
    ] as const) {
      const res = await getRaw(path, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/csv");
      const rows = parse(await res.text(), { columns: true }) as Record<string, string>[];
      expect(rows.map((r) => r.id)).toEqual(json.map((e: { id: string }) => e.id));
      expect(rows[0]).toMatchObject({
        kind: "adjustment",
        amount: "-4",
        reason: "refund reversed",
      });
      expect(rows[0]!.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    }
  });

  it("shows an account only its own entries", async () => {
    const res = await get("/v1/credits/ledger", otherKey);
    expect(res.body.data.entries.map((e: { kind: string }) => e.kind)).toEqual(["grant"]);
  });

  it("needs a key", async () => {
    const res = await stack.request("GET", "/v1/credits/ledger");
    expect(res.status).toBe(401);
  });
});

describe("GET /v1/usage", () => {
  it("counts the account's tasks and captured credits, by model and door", async () => {
    const res = await get("/v1/usage?group_by=model,door");
    expect(res.status).toBe(200);
    expect(res.body.data.usage).toEqual([
      { model: "nano-banana-2", door: "native", tasks: 3, charged_credits: 16 },
    ]);
    const byProvider = (await get("/v1/usage?group_by=provider")).body.data.usage;
    // The queued task has reached no provider yet.
    expect(byProvider).toEqual([
      { provider: null, tasks: 1, charged_credits: 0 },
      { provider: "aivideoapi", tasks: 2, charged_credits: 16 },
    ]);
  });

  it("groups by day by default, honours from/to, and refuses an unknown group", async () => {
    const today = new Date().toISOString().slice(0, 10);
    expect((await get("/v1/usage")).body.data.usage).toEqual([
      { day: today, tasks: 3, charged_credits: 16 },
    ]);
    const future = Math.floor(Date.now() / 1000) + 3600;
    expect((await get(`/v1/usage?from=${future}`)).body.data.usage).toEqual([]);
    const res = await get("/v1/usage?group_by=account");
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("group_by");
  });

  it("exports CSV and shows another account nothing of this one's", async () => {
    const res = await getRaw("/v1/usage?group_by=key&format=csv", {
      authorization: `Bearer ${apiKey}`,
    });
    const rows = parse(await res.text(), { columns: true });
    // Tasks written without a key (by the test, as a schedule would) have an empty key_id.
    expect(rows).toEqual([
      { key_id: "", tasks: "2", charged_credits: "16" },
      { key_id: expect.stringMatching(/^key_/), tasks: "1", charged_credits: "0" },
    ]);
    expect((await get("/v1/usage", otherKey)).body.data.usage).toEqual([]);
  });
});

describe("the admin API", () => {
  const admin = (path: string) =>
    fetch(`${stack.apiUrl}/admin/v1${path}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });

  it("reports usage of every account with upstream cost and margin", async () => {
    const res = await admin(`/usage?group_by=account,provider&account=${accountId}`);
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: any };
    // 16 credits at $0.005 = $0.08 charged; two attempts at $0.08 each upstream.
    expect(data.usage).toEqual([
      {
        account_id: accountId,
        provider: null,
        tasks: 1,
        charged_credits: 0,
        charged_usd: 0,
        upstream_usd: 0,
        margin_usd: 0,
      },
      {
        account_id: accountId,
        provider: "aivideoapi",
        tasks: 2,
        charged_credits: 16,
        charged_usd: 0.08,
        upstream_usd: 0.16,
        margin_usd: -0.08,
      },
    ]);
    const all = (await (await admin("/usage?group_by=account")).json()) as { data: any };
    expect(all.data.usage.map((r: { account_id: string }) => r.account_id)).toContain(accountId);
  });

  it("checks the ledger over the whole database", async () => {
    const res = await admin("/ledger/check");
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: any };
    expect(data).toEqual({ accounts: 2, entries: 8, drift: [] });
  });

  it("refuses a client key", async () => {
    const res = await fetch(`${stack.apiUrl}/admin/v1/usage`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(res.status).toBe(403);
  });
});

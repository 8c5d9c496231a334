import { createApiKey, createPlan } from "@ripen/core";
import { startTestStack, type TestStack } from "@ripen/testkit";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminRouter } from "./routes/admin";

// The operator's API: its own credential (ADMIN_TOKEN or an admin-scope key, never a client
// key) on every route, and an operator's day over HTTP: accounts, credits, plans, keys.

const ADMIN_TOKEN = "test-admin-token-0123456789abcdef0123";

let stack: TestStack;
let clientKey: string;
let clientAccount: string;
let adminKey: string;
let adminKeyId: string;

beforeAll(async () => {
  stack = await startTestStack({ worker: false, adminToken: ADMIN_TOKEN });
  ({ apiKey: clientKey, accountId: clientAccount } = await stack.createAccount(100));
  ({ apiKey: adminKey, keyId: adminKeyId } = await createApiKey(stack.db.db, {
    accountId: clientAccount,
    name: "ops",
    scopes: ["admin"],
  }));
});
afterAll(() => stack?.close());

async function call(
  method: string,
  path: string,
  options: { body?: unknown; key?: string | null; headers?: Record<string, string> } = {},
) {
  const key = options.key === undefined ? ADMIN_TOKEN : options.key;
  const body = method === "GET" ? undefined : options.body;
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...options.headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Every route of the admin router, read off the router itself: a new one is walked too. */
function adminRoutes(): { method: string; path: string }[] {
  const router = createAdminRouter({
    db: stack.db.db,
    clock: stack.clock,
    logger: pino({ level: "silent" }),
  } as unknown as Parameters<typeof createAdminRouter>[0]);
  const routes: { method: string; path: string }[] = [];
  for (const layer of (router as unknown as { stack: any[] }).stack) {
    if (!layer.route) continue;
    for (const method of Object.keys(layer.route.methods)) {
      routes.push({ method: method.toUpperCase(), path: layer.route.path });
    }
  }
  return routes;
}

describe("authentication, on every admin route", () => {
  const routes = (accountId = clientAccount) =>
    adminRoutes().map(({ method, path }) => ({
      method,
      path: `/admin/v1${path
        .replace(":accountId", accountId)
        .replace(":subscriptionId", "sub_01jzzzzzzzzzzzzzzzzzzzzzzz")
        .replace(":keyId", "key_01jzzzzzzzzzzzzzzzzzzzzzzz")}`,
    }));

  it("lists the routes it walks", () => {
    const listed = routes().map((r) => `${r.method} ${r.path.replace(clientAccount, "{id}")}`);
    expect(listed).toEqual(
      expect.arrayContaining([
        "POST /admin/v1/accounts",
        "GET /admin/v1/accounts",
        "GET /admin/v1/accounts/{id}",
        "PATCH /admin/v1/accounts/{id}",
        "POST /admin/v1/accounts/{id}/disable",
        "POST /admin/v1/accounts/{id}/grants",
        "POST /admin/v1/accounts/{id}/adjustments",
        "POST /admin/v1/plans",
        "GET /admin/v1/plans",
        "POST /admin/v1/accounts/{id}/subscriptions",
        "POST /admin/v1/accounts/{id}/keys",
      ]),
    );
  });

  it("no credential: 401 invalid_api_key; a client key: 403 insufficient_scope", async () => {
    for (const { method, path } of routes()) {
      const anonymous = await call(method, path, { key: null, body: {} });
      expect(anonymous.status, `${method} ${path}`).toBe(401);
      expect(anonymous.body.error).toMatchObject({
        code: "invalid_api_key",
        type: "authentication_error",
      });
      const wrong = await call(method, path, { key: "not-the-token", body: {} });
      expect(wrong.status, `${method} ${path}`).toBe(401);
      const client = await call(method, path, { key: clientKey, body: {} });
      expect(client.status, `${method} ${path}`).toBe(403);
      expect(client.body.error).toMatchObject({
        code: "insufficient_scope",
        type: "permission_error",
      });
    }
  });

  it("the admin token and an admin-scope key are let through (no 401, no 403)", async () => {
    // An account of its own: the walk disables it, among the rest.
    const { accountId } = await stack.createAccount(0);
    for (const { method, path } of routes(accountId)) {
      // Empty bodies: a 400 for a create, a 404 for an unknown key, never an auth refusal.
      for (const key of [ADMIN_TOKEN, adminKey]) {
        const { status } = await call(method, path, { key, body: {} });
        expect([401, 403], `${method} ${path}`).not.toContain(status);
        expect(status, `${method} ${path}`).toBeLessThan(500);
      }
    }
    // GETs answer 200 outright.
    expect((await call("GET", "/admin/v1/accounts", { key: adminKey })).status).toBe(200);
    expect((await call("GET", "/admin/v1/plans")).status).toBe(200);
  });

  it("an admin key's IP allowlist binds on the admin API too", async () => {
    const { apiKey: fenced } = await createApiKey(stack.db.db, {
      accountId: clientAccount,
      scopes: ["admin"],
      ipAllowlist: ["203.0.113.0/24"],
    });
    const refused = await call("GET", "/admin/v1/plans", { key: fenced });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("ip_not_allowed");
  });

  it("an unknown admin path is a 404 in the native envelope, after authentication", async () => {
    expect((await call("GET", "/admin/v1/nowhere", { key: null })).status).toBe(401);
    const missing = await call("GET", "/admin/v1/nowhere");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("invalid_request");
  });
});

describe("an operator's day, over HTTP", () => {
  it("account, plan, subscription, key; top up; adjust; disable on every door; enable", async () => {
    const created = await call("POST", "/admin/v1/accounts", {
      body: { name: "Acme", credits: 50, max_active_tasks: 5 },
    });
    expect(created.status).toBe(200);
    const account = created.body.data;
    expect(account).toMatchObject({
      name: "Acme",
      balance: 50,
      held: 0,
      available: 50,
      total_granted: 50,
      active_tasks: 0,
      max_active_tasks: 5,
      is_vip: false,
      disabled_at: null,
      subscription: null,
      keys: 0,
    });

    const plan = await call("POST", "/admin/v1/plans", {
      body: { name: "pro", monthly_credits: 1000 },
    });
    expect(plan.status).toBe(200);
    expect(plan.body.data).toMatchObject({ name: "pro", monthly_credits: 1000 });
    const duplicate = await call("POST", "/admin/v1/plans", {
      body: { name: "pro", monthly_credits: 1 },
    });
    expect(duplicate.status).toBe(409);
    expect((await call("GET", "/admin/v1/plans")).body.data.plans).toEqual([
      expect.objectContaining({ name: "pro" }),
    ]);

    const subscribed = await call("POST", `/admin/v1/accounts/${account.id}/subscriptions`, {
      body: { plan: "pro", months: 12 },
      key: adminKey,
    });
    expect(subscribed.status).toBe(200);
    expect(subscribed.body.data).toMatchObject({ plan: "pro", canceled_at: null });

    const key = await call("POST", `/admin/v1/accounts/${account.id}/keys`, {
      body: { name: "prod", scopes: ["read", "write"] },
    });
    expect(key.status).toBe(200);
    expect(key.body.data.key).toMatch(/^sk-/);
    const customerKey = key.body.data.key as string;

    const granted = await call("POST", `/admin/v1/accounts/${account.id}/grants`, {
      body: { amount: 200, reason: "top-up, invoice 42", idempotency_key: "inv-42" },
    });
    expect(granted.body.data).toMatchObject({ applied: true, balance: 1250, available: 1250 });
    const replayed = await call("POST", `/admin/v1/accounts/${account.id}/grants`, {
      body: { amount: 200, reason: "top-up, invoice 42", idempotency_key: "inv-42" },
    });
    expect(replayed.body.data).toMatchObject({ applied: false, balance: 1250 });

    const adjusted = await call("POST", `/admin/v1/accounts/${account.id}/adjustments`, {
      body: { amount: -250, reason: "refund of a double charge" },
      key: adminKey,
    });
    expect(adjusted.body.data).toMatchObject({ applied: true, balance: 1000, available: 1000 });
    const tooMuch = await call("POST", `/admin/v1/accounts/${account.id}/adjustments`, {
      body: { amount: -1001, reason: "more than there is" },
    });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.error.message).toContain("below 0");

    // The ledger carries each movement's reason and who made it.
    const ledger = await stack.db.pool.query(
      "select kind, amount::int, memo, actor from ledger_entries where account_id = $1 order by created_at, id",
      [account.id],
    );
    expect(ledger.rows).toEqual([
      { kind: "grant", amount: 50, memo: "initial grant", actor: "admin-token" },
      { kind: "grant", amount: 1000, memo: "plan pro: month 1", actor: adminKeyId },
      { kind: "grant", amount: 200, memo: "top-up, invoice 42", actor: "admin-token" },
      { kind: "adjustment", amount: -250, memo: "refund of a double charge", actor: adminKeyId },
    ]);

    const shown = await call("GET", `/admin/v1/accounts/${account.id}`);
    expect(shown.body.data).toMatchObject({
      balance: 1000,
      available: 1000,
      total_granted: 1250,
      keys: 1,
      subscription: { plan: "pro", monthly_credits: 1000 },
    });
    const vip = await call("PATCH", `/admin/v1/accounts/${account.id}`, {
      body: { is_vip: true },
    });
    expect(vip.body.data.is_vip).toBe(true);
    const nanobananaView = await call("GET", "/api/v1/account/credits", { key: customerKey });
    expect(nanobananaView.body.data).toEqual({
      credits: 1000,
      total_credits: 1250,
      subscription: { plan: "pro", end_date: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      is_vip: true,
    });

    // Every door, in its own shape.
    const doors = [
      () => call("GET", "/v1/credits", { key: customerKey }),
      () => call("GET", "/api/v1/account/credits", { key: customerKey }),
      () => call("GET", "/api/v1/jobs/recordInfo?taskId=task_x", { key: customerKey }),
      () =>
        call("POST", "/paid/get/taskid", {
          key: null,
          headers: { "x-api-key": customerKey },
          body: { taskId: "task_x" },
        }),
    ];
    const disabled = await call("POST", `/admin/v1/accounts/${account.id}/disable`);
    expect(disabled.body.data.disabled_at).toEqual(expect.any(Number));
    const refusals = await Promise.all(doors.map((door) => door()));
    expect(refusals[0]).toMatchObject({
      status: 403,
      body: { error: { code: "account_disabled" } },
    });
    expect(refusals[1]).toMatchObject({ status: 403, body: { error: { code: "FORBIDDEN" } } });
    // kie and revid have no 403 in their tables: their 401.
    expect(refusals[2]!.body.code).toBe(401);
    expect(refusals[3]!.status).toBe(401);

    await call("POST", `/admin/v1/accounts/${account.id}/enable`);
    expect((await doors[0]!()).status).toBe(200);
    expect((await doors[1]!()).status).toBe(200);

    const revoked = await call(
      "POST",
      `/admin/v1/accounts/${account.id}/keys/${key.body.data.id}/revoke`,
    );
    expect(revoked.body.data.status).toBe("revoked");
    expect((await doors[0]!()).status).toBe(401);
  });

  it("lists accounts newest first, a page at a time", async () => {
    const names = ["page-a", "page-b", "page-c"];
    for (const name of names) await call("POST", "/admin/v1/accounts", { body: { name } });
    const seen: { id: string; name: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: any } = await call(
        "GET",
        `/admin/v1/accounts?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.body.data.accounts.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.accounts);
      cursor = page.body.data.next_cursor;
    } while (cursor);
    expect(seen.slice(0, 3).map((a) => a.name)).toEqual(["page-c", "page-b", "page-a"]);
    const ids = seen.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    const [total] = (await stack.db.pool.query("select count(*)::int as n from accounts")).rows;
    expect(ids).toHaveLength(total.n);
    const bad = await call("GET", "/admin/v1/accounts?cursor=nope!");
    expect(bad.status).toBe(400);
  });

  it("refuses bad input with a 400 naming the field, unknown ids with a 404", async () => {
    const cases: [string, string, unknown, number, string?][] = [
      ["POST", "/admin/v1/accounts", {}, 400, "name"],
      ["POST", "/admin/v1/accounts", { name: "x", credits: -1 }, 400, "credits"],
      ["POST", "/admin/v1/accounts", { name: "x", color: "red" }, 400, "color"],
      ["POST", `/admin/v1/accounts/${clientAccount}/grants`, { amount: 0, reason: "x" }, 400],
      ["POST", `/admin/v1/accounts/${clientAccount}/grants`, { amount: 5 }, 400, "reason"],
      ["POST", `/admin/v1/accounts/${clientAccount}/adjustments`, { amount: 0, reason: "x" }, 400],
      ["POST", `/admin/v1/accounts/${clientAccount}/grants`, { amount: 1.5, reason: "x" }, 400],
      ["POST", "/admin/v1/accounts/acct_nope/grants", { amount: 5, reason: "x" }, 404],
      ["GET", "/admin/v1/accounts/acct_01jzzzzzzzzzzzzzzzzzzzzzzz", undefined, 404],
      ["POST", `/admin/v1/accounts/${clientAccount}/subscriptions`, { plan: "gold" }, 400],
      [
        "POST",
        `/admin/v1/accounts/${clientAccount}/subscriptions`,
        { plan: "no-such-plan", months: 1 },
        404,
      ],
    ];
    for (const [method, path, body, status, field] of cases) {
      const answer = await call(method, path, { body });
      expect(answer.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      if (field) expect(answer.body.error.message).toContain(`'${field}'`);
    }
  });
});

describe("Subscription: Required (document 001's mark, on the nanobanana door)", () => {
  it("refuses without a subscription, accepts with one, refuses again after it ends", async () => {
    const { apiKey, accountId } = await stack.createAccount(1000);
    const create = () =>
      call("POST", "/api/v1/images/generate", {
        key: apiKey,
        body: { prompt: "a subscriber's cat", model: "nano-banana-2" },
      });
    const refused = await create();
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ success: false, error: { code: "FORBIDDEN" } });
    // The native door sells nano-banana-2 under its own document, which has no such mark.
    const native = await call("POST", "/v1/images/generations", {
      key: apiKey,
      body: { model: "nano-banana-2", input: { prompt: "native" } },
    });
    expect(native.status).toBe(200);

    await createPlan(stack.db.db, { name: "monthly-0", monthlyCredits: 0 });
    const ends = Math.floor(stack.clock.now().getTime() / 1000) + 3600;
    const started = await call("POST", `/admin/v1/accounts/${accountId}/subscriptions`, {
      body: { plan: "monthly-0", ends_at: ends },
    });
    expect(started.status).toBe(200);
    expect((await create()).status).toBe(200);
    const seedream = await call("POST", "/api/v1/images/generate", {
      key: apiKey,
      body: { prompt: "x", model: "seedream4" },
    });
    expect(seedream.status).toBe(200);

    stack.clock.advance(3601 * 1000);
    expect((await create()).status).toBe(403);
    const view = await call("GET", "/api/v1/account/credits", { key: apiKey });
    expect(view.body.data.subscription).toBeNull();
  });

  it("a canceled subscription stops at once", async () => {
    const { apiKey, accountId } = await stack.createAccount(1000);
    await createPlan(stack.db.db, { name: "cancel-me", monthlyCredits: 10 });
    const started = await call("POST", `/admin/v1/accounts/${accountId}/subscriptions`, {
      body: { plan: "cancel-me", months: 1 },
    });
    const create = () =>
      call("POST", "/api/v1/images/generate", {
        key: apiKey,
        body: { prompt: "x", model: "seedream4" },
      });
    expect((await create()).status).toBe(200);
    const second = await call("POST", `/admin/v1/accounts/${accountId}/subscriptions`, {
      body: { plan: "cancel-me", months: 1 },
    });
    expect(second.status).toBe(409);
    const canceled = await call(
      "POST",
      `/admin/v1/accounts/${accountId}/subscriptions/${started.body.data.id}/cancel`,
    );
    expect(canceled.body.data.canceled_at).toEqual(expect.any(Number));
    expect((await create()).status).toBe(403);
  });
});

import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "./routes/openapi";

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  stack.clock.freeze();
});
afterAll(() => stack?.close());

const keys = (key: string) => stack.request("GET", "/v1/keys", { key });
const create = (key: string, body: unknown = {}) =>
  stack.request("POST", "/v1/keys", { key, body });
const credits = (key: string) => stack.request("GET", "/v1/credits", { key });

describe("/v1/keys", () => {
  it("creates a key whose plaintext is shown once, and lists keys without it", async () => {
    const { apiKey } = await stack.createAccount(0);
    const created = await create(apiKey, {
      name: "ci",
      scopes: ["read"],
      ip_allowlist: ["10.1.2.3/8", "2001:db8::1", "127.0.0.1"],
      rate_limit_per_minute: 5,
      spend_limit_daily: 100,
    });
    expect(created.status).toBe(200);
    const data = created.body.data;
    expect(data).toMatchObject({
      name: "ci",
      scopes: ["read"],
      status: "active",
      ip_allowlist: ["10.0.0.0/8", "2001:db8::1/128", "127.0.0.1/32"],
      rate_limit_per_minute: 5,
      spend_limit_daily: 100,
      expires_at: null,
    });
    expect(data.key).toMatch(/^sk-/);
    expect(data.key.startsWith(data.prefix)).toBe(true);
    expect((await credits(data.key)).status).toBe(200);

    const listed = await keys(apiKey);
    expect(listed.status).toBe(200);
    expect(listed.body.data.keys).toHaveLength(2);
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(data.key);
    expect(text).not.toContain(apiKey);
    expect(text).not.toMatch(/hash/);
  });

  it("refuses bad settings with a 400 naming the field", async () => {
    const { apiKey } = await stack.createAccount(0);
    for (const [body, field] of [
      [{ scopes: ["root"] }, "scopes.0"],
      [{ ip_allowlist: ["10.0.0.0/8", "not-an-ip"] }, "ip_allowlist.1"],
      [{ rate_limit_per_minute: 0 }, "rate_limit_per_minute"],
      [{ rate_limit_per_minute: 3_000_000_000 }, "rate_limit_per_minute"],
      [{ spend_limit_daily: 2 ** 60 }, "spend_limit_daily"],
      [{ expires_at: Math.floor(stack.clock.now().getTime() / 1000) - 1 }, "expires_at"],
      [{ colour: "red" }, "colour"],
    ] as const) {
      const res = await create(apiKey, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      expect(res.body.error.message).toContain(field);
    }
  });

  it("never lets a key hand out scopes it lacks; a read key cannot create at all", async () => {
    const { apiKey } = await stack.createAccount(0);
    const readKey = (await create(apiKey, { scopes: ["read"] })).body.data.key;
    const refused = await create(readKey, { scopes: ["read"] });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("insufficient_scope");
    const admin = await create(apiKey, { scopes: ["read", "write", "admin"] });
    expect(admin.status).toBe(403);
    expect(admin.body.error.code).toBe("insufficient_scope");
    expect((await keys(readKey)).status).toBe(200);
  });

  it("revokes at once: the next request with the key is refused", async () => {
    const { apiKey } = await stack.createAccount(0);
    const other = (await create(apiKey)).body.data;
    expect((await credits(other.key)).status).toBe(200); // now cached as valid
    const revoked = await stack.request("DELETE", `/v1/keys/${other.id}`, { key: apiKey });
    expect(revoked.status).toBe(200);
    expect(revoked.body.data).toMatchObject({ id: other.id, status: "revoked" });
    const after = await credits(other.key);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe("invalid_api_key");
    // The POST form, and a key revoking itself.
    const self = await stack.request("POST", `/v1/keys/${revoked.body.data.id}/revoke`, {
      key: apiKey,
    });
    expect(self.status).toBe(200);
  });

  it("rotates: the new key has the same settings, the old one works until the overlap ends", async () => {
    const { apiKey } = await stack.createAccount(0);
    const old = (await create(apiKey, { name: "svc", rate_limit_per_minute: 7 })).body.data;
    expect((await credits(old.key)).status).toBe(200);
    const rotated = await stack.request("POST", `/v1/keys/${old.id}/rotate`, {
      key: apiKey,
      body: { overlap_seconds: 3600 },
    });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.data;
    expect(fresh).toMatchObject({ name: "svc", rate_limit_per_minute: 7, status: "active" });
    expect(fresh.key).not.toBe(old.key);
    const nowSeconds = Math.floor(stack.clock.now().getTime() / 1000);
    expect(fresh.previous).toMatchObject({ id: old.id, rotated_to_id: fresh.id });
    expect(fresh.previous.expires_at).toBe(nowSeconds + 3600);

    stack.clock.advance(3_599_000);
    expect((await credits(old.key)).status).toBe(200);
    expect((await credits(fresh.key)).status).toBe(200);
    stack.clock.advance(1_000);
    const expired = await credits(old.key);
    expect(expired.status).toBe(403);
    expect(expired.body.error.code).toBe("key_expired");
    expect((await credits(fresh.key)).status).toBe(200);

    const again = await stack.request("POST", `/v1/keys/${old.id}/rotate`, { key: apiKey });
    expect(again.status).toBe(400);
    const tooLong = await stack.request("POST", `/v1/keys/${fresh.id}/rotate`, {
      key: apiKey,
      body: { overlap_seconds: 8 * 24 * 3600 },
    });
    expect(tooLong.status).toBe(400);
  });

  it("expires a key at its expires_at, by the injected clock, even while cached", async () => {
    const { apiKey } = await stack.createAccount(0);
    const at = Math.floor(stack.clock.now().getTime() / 1000) + 60;
    const key = (await create(apiKey, { expires_at: at })).body.data.key;
    expect((await credits(key)).status).toBe(200);
    stack.clock.advance(60_000);
    const res = await credits(key);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("key_expired");
  });
});

describe("tenant isolation", () => {
  it("one account's key never reads or changes another's tasks, batches, schedules or keys", async () => {
    const owner = await stack.createAccount(10_000);
    const intruder = await stack.createAccount(10_000);
    const image = { model: "nano-banana-2", input: { prompt: "a cat" } };
    const task = await stack.request("POST", "/v1/images/generations", {
      key: owner.apiKey,
      body: image,
    });
    const batch = await stack.request("POST", "/v1/batches", {
      key: owner.apiKey,
      body: { requests: [image] },
    });
    const schedule = await stack.request("POST", "/v1/schedules", {
      key: owner.apiKey,
      body: { cron: "0 8 * * *", timezone: "UTC", template: { requests: [image] } },
    });
    const key = await create(owner.apiKey);
    const ids: Record<string, string> = {
      taskId: task.body.data.taskId,
      batchId: batch.body.data.id,
      scheduleId: schedule.body.data.id,
      keyId: key.body.data.id,
    };
    for (const id of Object.values(ids)) expect(id).toBeTruthy();

    // Every path that names one of them, every method: a 404, as if it did not exist.
    const document = buildOpenApiDocument().paths ?? {};
    // Client routes only: the admin API, with its own credential, sees every account by design.
    const paths = Object.entries(document).filter(([path]) => !path.startsWith("/admin/"));
    let checked = 0;
    for (const [path, item] of paths) {
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      if (params.length === 0) continue;
      for (const method of ["get", "post", "put", "patch", "delete"]) {
        if (!(item as Record<string, unknown>)[method]) continue;
        const concrete = path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? "x");
        const res = await stack.request(method.toUpperCase(), concrete, {
          key: intruder.apiKey,
          body: method === "get" ? undefined : {},
        });
        expect(res.status, `${method} ${concrete}`).toBe(404);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
    // The doors' status queries, by query string.
    for (const path of [
      `/api/v1/images/status?task_id=${ids.taskId}`,
      `/api/v1/jobs/recordInfo?taskId=${ids.taskId}`,
      `/paid/get/taskid?taskId=${ids.taskId}`,
    ]) {
      const res = await stack.request("GET", path, { key: intruder.apiKey });
      expect(res.status, path).toBe(404);
    }
    // Lists show only the caller's own.
    // The account's statement and usage, where served, hold only its own rows as well.
    const accountViews = ["/v1/credits/ledger", "/v1/usage"].filter((path) => path in document);
    for (const path of ["/v1/tasks", "/v1/batches", "/v1/schedules", "/v1/keys", ...accountViews]) {
      const res = await stack.request("GET", path, { key: intruder.apiKey });
      expect(res.status, path).toBe(200);
      expect(JSON.stringify(res.body), path).not.toMatch(new RegExp(Object.values(ids).join("|")));
    }
    // Nothing changed: the owner still sees its task queued and its key active.
    const mine = await stack.request("GET", `/v1/keys/${ids.keyId}`, { key: owner.apiKey });
    expect(mine.body.data.status).toBe("active");
  });
});

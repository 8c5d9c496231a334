import { type ApiKeySettings, createApiKey, createTaskWriter, revokeApiKey } from "@ripen/core";
import { type Listening, listen } from "@ripen/infra";
import { startTestStack, type TestStack } from "@ripen/testkit";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiApp } from "./app";
import { createAdmission, requiredScope } from "./doors/admission";
import type { DoorDeps } from "./doors/deps";
import { createRequestRateLimiter } from "./doors/rate-limit";
import { createKieDoor } from "./routes/kie";
import { createNanobananaDoor } from "./routes/nanobanana";
import { buildOpenApiDocument } from "./routes/openapi";
import { createRevidDoor } from "./routes/revid";

type Door = "native" | "nanobanana" | "kie" | "revid";
interface Endpoint {
  door: Door;
  method: string;
  /** OpenAPI form, `{taskId}`. */
  path: string;
}

const doorOf = (path: string): Door =>
  path.startsWith("/api/v1/jobs/")
    ? "kie"
    : path.startsWith("/api/v1/")
      ? "nanobanana"
      : path.startsWith("/paid/")
        ? "revid"
        : "native";

/**
 * Every endpoint of every client door, from the OpenAPI document (the admin API, with its own
 * credential, is tested with its router).
 */
const endpoints: Endpoint[] = Object.entries(buildOpenApiDocument().paths ?? {})
  .filter(([path]) => !path.startsWith("/admin/"))
  .flatMap(([path, item]) =>
    ["get", "post", "put", "patch", "delete"]
      .filter((method) => (item as Record<string, unknown>)[method])
      .map((method) => ({ door: doorOf(path), method: method.toUpperCase(), path })),
  );

/** Express's `:param` routes, walked from a router's stack. */
function routesOf(router: unknown): { method: string; path: string }[] {
  const stack = (router as { stack?: unknown[] }).stack ?? [];
  return stack.flatMap((layer) => {
    const { route, handle } = layer as {
      route?: { path: string | string[]; methods: Record<string, boolean> };
      handle?: unknown;
    };
    if (route) {
      const paths = Array.isArray(route.path) ? route.path : [route.path];
      return Object.keys(route.methods).flatMap((method) =>
        paths.map((path) => ({ method: method.toUpperCase(), path })),
      );
    }
    return handle && (handle as { stack?: unknown }).stack ? routesOf(handle) : [];
  });
}

const openApiForm = (path: string) => path.replace(/:(\w+)/g, "{$1}");

/** What each door answers for an admission refusal: its status and its own code. */
function expectRefused(
  door: Door,
  res: { status: number; body: any },
  kind: "unauthenticated" | "key_expired" | "insufficient_scope" | "ip_not_allowed",
): void {
  const where = `${door} ${res.status} ${JSON.stringify(res.body)}`;
  if (door === "native") {
    const code = kind === "unauthenticated" ? "invalid_api_key" : kind;
    expect(res.status, where).toBe(kind === "unauthenticated" ? 401 : 403);
    expect(res.body.error.code, where).toBe(code);
  } else if (door === "nanobanana") {
    expect(res.status, where).toBe(kind === "unauthenticated" ? 401 : 403);
    expect(res.body.error.code, where).toBe(
      kind === "unauthenticated" ? "UNAUTHORIZED" : "FORBIDDEN",
    );
  } else {
    // kie and revid have no 403: every refusal is their 401, code in the body as well.
    expect(res.status, where).toBe(401);
    expect(res.body.code, where).toBe(401);
  }
}

const admitted = (res: { status: number; body: any }) =>
  res.status !== 401 && res.status !== 403 && res.body?.code !== 401;

let stack: TestStack;
let plain: Listening;
let proxied: Listening;
let accountId: string;

const app = (trustedProxies: string[]) =>
  createApiApp({
    db: stack.db.db,
    enqueue: async () => {},
    logger: pino({ level: "silent" }),
    clock: stack.clock,
    ender: stack.ender,
    schedules: stack.scheduleQueue,
    userUrls: { allowLoopback: true },
    rateLimit: { defaultPerMinute: 1_000_000 },
    trustedProxies,
  });

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ accountId } = await stack.createAccount(1_000));
  plain = await listen(app([]), { port: 0, host: "127.0.0.1", name: "API" });
  proxied = await listen(app(["127.0.0.1/8", "::1"]), { port: 0, host: "127.0.0.1", name: "API" });
});
afterAll(async () => {
  await plain?.close();
  await proxied?.close();
  await stack?.close();
});

/** One request as the door's clients send it: revid's `x-api-key`, everyone else's Bearer. */
async function call(
  base: string,
  endpoint: Endpoint,
  key: string | null,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const path = endpoint.path.replace(/\{\w+\}/g, "x");
  const response = await fetch(`${base}${path}`, {
    method: endpoint.method,
    headers: {
      ...(key
        ? endpoint.door === "revid"
          ? { "x-api-key": key }
          : { authorization: `Bearer ${key}` }
        : {}),
      ...(endpoint.method === "GET" ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: endpoint.method === "GET" ? undefined : "{}",
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: response.status, body };
}

const keyWith = async (settings: ApiKeySettings) =>
  (await createApiKey(stack.db.db, { accountId, ...settings })).apiKey;

describe("the route table", () => {
  it("covers every route the doors serve", () => {
    const documented = new Set(endpoints.map((e) => `${e.method} ${e.path}`));
    const deps = {
      db: stack.db.db,
      tasks: createTaskWriter(stack.db.db),
      enqueue: async () => {},
      clock: stack.clock,
      logger: pino({ level: "silent" }),
      userUrls: { allowLoopback: true },
      admission: createAdmission({ rateLimiter: createRequestRateLimiter() }),
    } satisfies DoorDeps;
    const nativeRouter = (
      app([]) as unknown as { router: { stack: { handle: unknown }[] } }
    ).router.stack
      .map((layer) => layer.handle)
      .find((handle) => routesOf(handle).some((r) => r.path === "/v1/images/generations"));
    const served = [
      ...routesOf(nativeRouter),
      ...routesOf(createNanobananaDoor(deps, {})),
      ...routesOf(createKieDoor(deps, {})),
      ...routesOf(createRevidDoor(deps, {})),
    ].map((r) => `${r.method} ${openApiForm(r.path)}`);
    expect(served.length).toBeGreaterThan(20);
    for (const route of served) expect(documented, route).toContain(route);
    for (const door of ["native", "nanobanana", "kie", "revid"]) {
      expect(endpoints.some((e) => e.door === door)).toBe(true);
    }
  });

  it("reads are GET and the documented read-only POSTs; everything else is a write", () => {
    const reads = endpoints
      .filter((e) => requiredScope(e.method, e.path) === "read" && e.method !== "GET")
      .map((e) => `${e.method} ${e.path}`)
      .sort();
    expect(reads).toEqual([
      "POST /api/v1/account/calculate-cost",
      "POST /paid/get/taskid",
      "POST /v1/cost",
    ]);
  });
});

describe.each(["native", "nanobanana", "kie", "revid"] as const)("every %s endpoint", (door) => {
  const ofDoor = () => endpoints.filter((e) => e.door === door);

  it("refuses no key, a revoked key and an expired key, in the door's envelope", async () => {
    const revokedKey = await createApiKey(stack.db.db, { accountId });
    await revokeApiKey(stack.db.db, { accountId, keyId: revokedKey.keyId });
    const expired = await keyWith({ expiresAt: new Date(stack.clock.now().getTime() - 1_000) });
    for (const endpoint of ofDoor()) {
      expectRefused(door, await call(plain.url, endpoint, null), "unauthenticated");
      expectRefused(door, await call(plain.url, endpoint, revokedKey.apiKey), "unauthenticated");
      expectRefused(door, await call(plain.url, endpoint, expired), "key_expired");
    }
  });

  it("refuses a read key on every write endpoint and admits it on every read", async () => {
    const readKey = await keyWith({ scopes: ["read"] });
    const adminKey = await keyWith({ scopes: ["admin"] });
    for (const endpoint of ofDoor()) {
      const res = await call(plain.url, endpoint, readKey);
      if (requiredScope(endpoint.method, endpoint.path) === "write") {
        expectRefused(door, res, "insufficient_scope");
      } else {
        expect(admitted(res), `${endpoint.method} ${endpoint.path}`).toBe(true);
      }
      // An admin key opens the admin API only.
      expectRefused(door, await call(plain.url, endpoint, adminKey), "insufficient_scope");
    }
  });

  it("holds keys to their IP allowlist, IPv4 and IPv6, believing X-Forwarded-For only from a trusted proxy", async () => {
    const v4 = await keyWith({ ipAllowlist: ["203.0.113.0/24"] });
    const v6 = await keyWith({ ipAllowlist: ["2001:db8::/32"] });
    const loopback = await keyWith({ ipAllowlist: ["127.0.0.0/8"] });
    const xff = (value: string) => ({ "x-forwarded-for": value });
    for (const endpoint of ofDoor()) {
      const name = `${endpoint.method} ${endpoint.path}`;
      // The socket's own address.
      expectRefused(door, await call(plain.url, endpoint, v4), "ip_not_allowed");
      expect(admitted(await call(plain.url, endpoint, loopback)), name).toBe(true);
      // Forwarded by a proxy that is not trusted: the header is ignored.
      expectRefused(
        door,
        await call(plain.url, endpoint, v4, xff("203.0.113.7")),
        "ip_not_allowed",
      );
      expectRefused(
        door,
        await call(plain.url, endpoint, v6, xff("2001:db8::1")),
        "ip_not_allowed",
      );
      // Through the trusted proxy: the rightmost untrusted address is the client.
      expect(admitted(await call(proxied.url, endpoint, v4, xff("203.0.113.7"))), name).toBe(true);
      expect(admitted(await call(proxied.url, endpoint, v4, xff("::ffff:203.0.113.7"))), name).toBe(
        true,
      );
      expect(admitted(await call(proxied.url, endpoint, v6, xff("2001:db8::1"))), name).toBe(true);
      expectRefused(
        door,
        await call(proxied.url, endpoint, v6, xff("2001:db9::1")),
        "ip_not_allowed",
      );
      // A client cannot forge its address by prepending one: the hop it came from counts.
      expectRefused(
        door,
        await call(proxied.url, endpoint, v4, xff("203.0.113.7, 198.51.100.1")),
        "ip_not_allowed",
      );
      expectRefused(
        door,
        await call(proxied.url, endpoint, loopback, xff("198.51.100.1")),
        "ip_not_allowed",
      );
    }
  });
});

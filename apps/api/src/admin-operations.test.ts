import { terminalTaskStatuses } from "@ripen/db";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The operator's live views: providers (circuit, attempts, errors, latency, share), the queues,
// and the queue board behind the admin credential (Bearer, or the session cookie).

const ADMIN = "admin-token-for-operations-0123456789";
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ adminToken: ADMIN });
});
afterAll(async () => {
  await stack?.close();
});

const admin = (path: string, init: RequestInit = {}) =>
  fetch(`${stack.apiUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN}`, ...(init.headers as Record<string, string>) },
  });

describe("operator views", () => {
  it("providers: each declared one, with the attempts of the last 15 minutes", async () => {
    const { apiKey } = await stack.createAccount(1_000);
    const ids: string[] = [];
    for (const i of [1, 2, 3]) {
      const res = await stack.request("POST", "/v1/images/generations", {
        key: apiKey,
        body: { model: "nano-banana-2", input: { prompt: `ops ${i}` } },
      });
      ids.push(res.body.data.taskId);
    }
    for (const id of ids) {
      expect(await stack.waitForTask(id, [...terminalTaskStatuses], 30_000)).toBe("succeeded");
    }
    const res = await admin("/admin/v1/providers");
    expect(res.status).toBe(200);
    const providers = ((await res.json()) as { data: unknown }).data as {
      id: string;
      circuit: string;
      attempts: number;
      traffic_share: number;
      error_rate: number;
      latency_ms: { p50: number | null };
      models: string[];
    }[];
    expect(providers.map((p) => p.id).sort()).toEqual(stack.providers.list.map((p) => p.id).sort());
    const attempts = providers.reduce((sum, p) => sum + p.attempts, 0);
    expect(attempts).toBe(3);
    const used = providers.filter((p) => p.attempts > 0);
    expect(used.reduce((sum, p) => sum + p.traffic_share, 0)).toBeCloseTo(1);
    for (const p of used) {
      expect(p.circuit).toBe("closed");
      expect(p.error_rate).toBe(0);
      expect(p.latency_ms.p50).not.toBeNull();
      expect(p.models).toContain("nano-banana-2");
    }
  });

  it("queues: jobs per state of each queue, and the board's address", async () => {
    const res = await admin("/admin/v1/queues");
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as {
      data: { board_url: string; queues: ({ name: string } & Record<string, unknown>)[] };
    };
    expect(data.board_url).toBe("/admin/queues");
    expect(data.queues.map((q: { name: string }) => q.name).sort()).toEqual([
      "deliveries",
      "maintenance",
      "schedules",
      "tasks",
    ]);
    for (const q of data.queues) {
      for (const state of ["waiting", "prioritized", "active", "delayed", "failed", "completed"]) {
        expect(typeof q[state], `${q.name} ${state}`).toBe("number");
      }
    }
  });

  it("refuses both without the admin credential, in the native envelope", async () => {
    for (const path of ["/admin/v1/providers", "/admin/v1/queues"]) {
      const res = await fetch(`${stack.apiUrl}${path}`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        "invalid_api_key",
      );
    }
    const { apiKey } = await stack.createAccount(10);
    const client = await fetch(`${stack.apiUrl}/admin/v1/providers`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(client.status).toBe(403);
    const unknown = await admin("/admin/v1/queues?state=waiting");
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(
      /state/,
    );
  });

  it("the queue board: with Bearer, with the session cookie, and a 401 otherwise", async () => {
    expect((await fetch(`${stack.apiUrl}/admin/queues`)).status).toBe(401);
    const bearer = await admin("/admin/queues");
    expect(bearer.status).toBe(200);
    expect(await bearer.text()).toContain("<html");
    // Its page names a web font host; the policy keeps the browser to this origin.
    expect(bearer.headers.get("content-security-policy")).toContain("font-src 'self'");

    const session = await admin("/admin/v1/session", { method: "POST" });
    expect(session.status).toBe(200);
    const cookie = session.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/admin/i);
    const pair = cookie.split(";")[0]!;
    expect(pair).not.toContain(ADMIN);
    const withCookie = await fetch(`${stack.apiUrl}/admin/queues`, { headers: { cookie: pair } });
    expect(withCookie.status).toBe(200);
    // The board's own API answers too, with the queues it shows.
    const queues = await fetch(`${stack.apiUrl}/admin/queues/api/queues`, {
      headers: { cookie: pair },
    });
    expect(queues.status).toBe(200);

    const forged = pair.replace(/\.[^.]*$/, ".forged");
    expect(
      (await fetch(`${stack.apiUrl}/admin/queues`, { headers: { cookie: forged } })).status,
    ).toBe(401);
    const expired = `ripen_admin_session=1.${pair.split(".")[1]}`;
    expect(
      (await fetch(`${stack.apiUrl}/admin/queues`, { headers: { cookie: expired } })).status,
    ).toBe(401);
  });
});

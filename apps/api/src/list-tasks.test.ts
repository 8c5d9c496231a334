import { createTask, endTask, expiredOutcome } from "@ripen/core";
import { getModel } from "@ripen/models";
import { openTestAttempt, startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;

// No worker: every task stays in the status the test gives it.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(() => stack?.close());

const list = (apiKey: string, query = "") =>
  stack.request("GET", `/v1/tasks${query ? `?${query}` : ""}`, { key: apiKey });

/** A task written at a chosen time, as the API would have written it then. */
const taskAt = async (accountId: string, at: Date, model = "nano-banana-2") =>
  (
    await createTask(stack.db.db, {
      accountId,
      model: getModel(model),
      input: { prompt: "x" },
      now: at,
    })
  ).id;

/** Every page of a listing, following next_cursor; `between` runs after each page. */
async function allPages(apiKey: string, query: string, between?: () => Promise<void>) {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await list(apiKey, `${query}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(res.status).toBe(200);
    ids.push(...res.body.data.tasks.map((t: { id: string }) => t.id));
    cursor = res.body.data.next_cursor;
    pages++;
    await between?.();
  } while (cursor);
  return { ids, pages };
}

describe("GET /v1/tasks", () => {
  it("lists the caller's tasks newest first, in the GET /v1/tasks/{id} shape, in the envelope", async () => {
    const { apiKey } = await stack.createAccount(1_000);
    const ids: string[] = [];
    for (const prompt of ["one", "two", "three"]) {
      const res = await stack.request("POST", "/v1/images/generations", {
        key: apiKey,
        body: { model: "nano-banana-2", input: { prompt } },
      });
      ids.push(res.body.data.taskId);
    }
    await stack.request("POST", `/v1/tasks/${ids[1]}/cancel`, { key: apiKey });
    const res = await list(apiKey);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ code: 200, msg: "success", data: { next_cursor: null } });
    expect(res.body.data.tasks.map((t: { id: string }) => t.id)).toEqual([...ids].reverse());
    for (const task of res.body.data.tasks) {
      const one = await stack.request("GET", `/v1/tasks/${task.id}`, { key: apiKey });
      expect(task).toEqual(one.body);
    }
  });

  it("never lists another account's tasks", async () => {
    const a = await stack.createAccount(1_000);
    const b = await stack.createAccount(1_000);
    const now = Date.now();
    const mine = [
      await taskAt(a.accountId, new Date(now)),
      await taskAt(a.accountId, new Date(now + 1)),
    ];
    await taskAt(b.accountId, new Date(now + 2));
    const { ids } = await allPages(a.apiKey, "limit=1");
    expect(ids).toEqual([...mine].reverse());
    const empty = await stack.createAccount(1_000);
    expect((await list(empty.apiKey)).body.data).toEqual({ tasks: [], next_cursor: null });
  });

  it("filters by status in either vocabulary, by model and by creation time", async () => {
    const { apiKey, accountId } = await stack.createAccount(10_000);
    const t0 = Date.parse("2026-03-01T00:00:00Z");
    const minute = 60_000;
    const queued = await taskAt(accountId, new Date(t0));
    const succeeded = await taskAt(accountId, new Date(t0 + minute));
    const failed = await taskAt(accountId, new Date(t0 + 2 * minute));
    const expired = await taskAt(accountId, new Date(t0 + 3 * minute));
    const canceled = await taskAt(accountId, new Date(t0 + 4 * minute));
    const lite = await taskAt(accountId, new Date(t0 + 5 * minute), "nano-banana-2-lite");
    const video = await taskAt(accountId, new Date(t0 + 6 * minute), "veo-3.1-fast");
    // Only a submitted task can succeed.
    await openTestAttempt(stack.db.db, succeeded);
    await endTask(stack.db.db, {
      taskId: succeeded,
      source: "poll",
      outcome: {
        status: "succeeded",
        output: { urls: ["https://files.example/a.png"], metadata: {} },
      },
    });
    await endTask(stack.db.db, {
      taskId: failed,
      source: "poll",
      outcome: { status: "failed", errorCode: "upstream_error", errorMessage: "no" },
    });
    await endTask(stack.db.db, {
      taskId: expired,
      source: "deadline",
      outcome: expiredOutcome(),
    });
    await stack.request("POST", `/v1/tasks/${canceled}/cancel`, { key: apiKey });

    const idsOf = async (query: string) => (await allPages(apiKey, query)).ids;
    expect(await idsOf("status=pending")).toEqual([video, lite, queued]);
    expect(await idsOf("status=queued")).toEqual([video, lite, queued]);
    expect(await idsOf("status=completed")).toEqual([succeeded]);
    expect(await idsOf("status=succeeded")).toEqual([succeeded]);
    expect(await idsOf("status=failed")).toEqual([canceled, expired, failed]);
    expect(await idsOf("status=canceled")).toEqual([canceled]);
    expect(await idsOf("status=expired,canceled")).toEqual([canceled, expired]);
    expect(await idsOf("status=completed&status=expired")).toEqual([expired, succeeded]);
    expect(await idsOf("status=processing")).toEqual([]);
    expect(await idsOf("model=nano-banana-2-lite")).toEqual([lite]);
    expect(await idsOf("model=veo-3.1-fast,nano-banana-2-lite")).toEqual([video, lite]);
    expect(await idsOf("model=nano-banana-2&status=pending")).toEqual([queued]);

    const seconds = (ms: number) => Math.floor(ms / 1000);
    // created_after is inclusive, created_before exclusive: [after, before).
    expect(
      await idsOf(
        `created_after=${seconds(t0 + minute)}&created_before=${seconds(t0 + 3 * minute)}`,
      ),
    ).toEqual([failed, succeeded]);
    expect(await idsOf("created_after=2026-03-01T00:05:00Z")).toEqual([video, lite]);
    expect(await idsOf("created_before=2026-03-01T01:00:30%2B01:00")).toEqual([queued]);
    expect(await idsOf(`created_after=${seconds(t0 + 10 * minute)}`)).toEqual([]);
  });

  it("filters by the door a task came through, and refuses an unknown door", async () => {
    const { apiKey } = await stack.createAccount(1_000);
    const native = await stack.request("POST", "/v1/images/generations", {
      key: apiKey,
      body: { model: "nano-banana-2", input: { prompt: "through the native API" } },
    });
    expect(native.status).toBe(200);
    const viaDoor = await fetch(`${stack.apiUrl}/api/v1/images/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "through the nanobanana door", model: "nano-banana" }),
    });
    expect(viaDoor.status).toBe(200);
    const ids = async (query: string) =>
      ((await list(apiKey, query)).body.data.tasks as { id: string }[]).map((t) => t.id);
    expect(await ids("door=native")).toEqual([native.body.data.taskId]);
    const fromDoor = await ids("door=nanobanana");
    expect(fromDoor).toHaveLength(1);
    expect(fromDoor).not.toContain(native.body.data.taskId);
    expect(await ids("door=native,nanobanana")).toHaveLength(2);
    const bad = await list(apiKey, "door=smtp");
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(
      /'door' must be one or more of native, nanobanana, kie, revid/,
    );
  });

  it("pages without duplicates or gaps while new tasks are created, ties included", async () => {
    const { apiKey, accountId } = await stack.createAccount(100_000);
    const start = Date.now() - 3_600_000;
    const existing: string[] = [];
    // 45 tasks, in groups of 5 created at the same millisecond: the id breaks the ties.
    for (let i = 0; i < 45; i++) {
      existing.push(await taskAt(accountId, new Date(start + Math.floor(i / 5) * 1_000)));
    }
    const newestFirst = [...existing].sort().reverse();
    let created = 0;
    const { ids, pages } = await allPages(apiKey, "limit=7", async () => {
      // A client of the same account creates tasks between pages.
      for (let i = 0; i < 3; i++) {
        const res = await stack.request("POST", "/v1/images/generations", {
          key: apiKey,
          body: { model: "nano-banana-2", input: { prompt: `new ${created++}` } },
        });
        expect(res.status).toBe(200);
      }
    });
    expect(pages).toBe(7);
    expect(ids).toEqual(newestFirst);

    const { ids: again } = await allPages(apiKey, "limit=100");
    expect(again).toHaveLength(45 + created);
    expect(new Set(again).size).toBe(again.length);
  });

  it("defaults to 20 a page and allows at most 100", async () => {
    const { apiKey, accountId } = await stack.createAccount(100_000);
    const at = Date.now() - 60_000;
    for (let i = 0; i < 101; i++) await taskAt(accountId, new Date(at + i));
    const first = await list(apiKey);
    expect(first.body.data.tasks).toHaveLength(20);
    expect(first.body.data.next_cursor).toEqual(expect.any(String));
    const hundred = await list(apiKey, "limit=100");
    expect(hundred.body.data.tasks).toHaveLength(100);
    const last = await list(apiKey, `limit=100&cursor=${hundred.body.data.next_cursor}`);
    expect(last.body.data.tasks).toHaveLength(1);
    expect(last.body.data.next_cursor).toBeNull();
  });

  it("answers every bad parameter with a 400 naming it", async () => {
    const { apiKey, accountId } = await stack.createAccount(1_000);
    await taskAt(accountId, new Date());
    const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const cases: Array<[string, string]> = [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=abc", "limit"],
      ["limit=1.5", "limit"],
      ["limit=-1", "limit"],
      ["limit=", "limit"],
      ["limit=5&limit=6", "limit"],
      ["status=done", "status"],
      ["status=", "status"],
      ["status=pending,", "status"],
      ["status=__proto__", "status"],
      ["model=gpt-image", "model"],
      ["model=__proto__", "model"],
      ["created_after=yesterday", "created_after"],
      ["created_after=-5", "created_after"],
      ["created_after=99999999999999", "created_after"],
      ["created_before=2026-13-45T99:00:00Z", "created_before"],
      ["created_before=2026-03-01", "created_before"],
      ["cursor=garbage!", "cursor"],
      ["cursor=", "cursor"],
      [`cursor=${cursorOf({ a: 1 })}`, "cursor"],
      [`cursor=${cursorOf(["12", "not-a-task"])}`, "cursor"],
      [`cursor=${cursorOf(["1e9", "task_01kb0000000000000000000000"])}`, "cursor"],
      [`cursor=${Buffer.from("not json").toString("base64url")}`, "cursor"],
      ["cursor=a&cursor=b", "cursor"],
      ["page=2", "page"],
      ["__proto__=1", "__proto__"],
      ["status[]=pending", "status[]"],
    ];
    for (const [query, name] of cases) {
      const res = await list(apiKey, query);
      expect(res.status, query).toBe(400);
      expect(res.body.error, query).toMatchObject({
        code: "invalid_request",
        type: "invalid_request_error",
      });
      expect(res.body.error.message, query).toContain(name);
    }
    expect((await stack.request("GET", "/v1/tasks")).status).toBe(401);
  });

  it("does not take the place of GET /v1/tasks/{id} or its history", async () => {
    const { apiKey, accountId } = await stack.createAccount(1_000);
    const id = await taskAt(accountId, new Date());
    expect((await stack.request("GET", `/v1/tasks/${id}`, { key: apiKey })).body.id).toBe(id);
    expect((await stack.request("GET", `/v1/tasks/${id}/history`, { key: apiKey })).body.id).toBe(
      id,
    );
    const slash = await stack.request("GET", "/v1/tasks/", { key: apiKey });
    expect(slash.status).toBe(200);
    expect(slash.body.data.tasks.map((t: { id: string }) => t.id)).toEqual([id]);
  });
});

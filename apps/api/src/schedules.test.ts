import { scheduleRuns, schedules } from "@ripen/db";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

// No worker: these tests check the API and the job schedulers it keeps, not the firings.
let stack: TestStack;
let key: string;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(() => stack?.close());
beforeEach(async () => {
  ({ apiKey: key } = await stack.createAccount(1_000));
});

const template = {
  requests: [
    { model: "nano-banana-2", input: { prompt: "a morning banner" } },
    { model: "veo-3.1-fast", input: { prompt: "a cat walking", duration: 8 } },
  ],
  callback_url: "https://hooks.example/batch",
};

const create = (body: unknown, apiKey = key) =>
  stack.request("POST", "/v1/schedules", { key: apiKey, body });

const scheduler = (id: string) => stack.scheduleQueue.queue.getJobScheduler(id);

describe("schedules over the API", () => {
  it("creates, reads, lists, patches, pauses, resumes and deletes, keeping its job scheduler", async () => {
    const created = await create({
      cron: "0 8 * * *",
      timezone: "Europe/Paris",
      template,
      callback_url: "https://hooks.example/schedule",
    });
    expect(created.status).toBe(200);
    const schedule = created.body.data;
    expect(schedule).toMatchObject({
      object: "schedule",
      cron: "0 8 * * *",
      timezone: "Europe/Paris",
      state: "active",
      callback_url: "https://hooks.example/schedule",
      template: { requests: template.requests, callback_url: "https://hooks.example/batch" },
      last_run_for: null,
    });
    expect(schedule.id).toMatch(/^sched_/);
    // 08:00 in Paris is 07:00 or 06:00 UTC, depending on the season.
    expect(new Date(schedule.next_run_at).getUTCHours()).toBeOneOf([6, 7]);
    expect(await scheduler(schedule.id)).toMatchObject({
      pattern: "0 8 * * *",
      tz: "Europe/Paris",
    });
    // Nothing is charged at submit.
    const credits = await stack.request("GET", "/v1/credits", { key });
    expect(credits.body.data).toMatchObject({ credits: 1_000, held: 0 });

    const read = await stack.request("GET", `/v1/schedules/${schedule.id}`, { key });
    expect(read.body.data).toEqual(schedule);
    const list = await stack.request("GET", "/v1/schedules", { key });
    expect(list.body.data.schedules.map((s: { id: string }) => s.id)).toEqual([schedule.id]);

    const patched = await stack.request("PATCH", `/v1/schedules/${schedule.id}`, {
      key,
      body: { cron: "*/30 * * * * *", timezone: "UTC" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ cron: "*/30 * * * * *", timezone: "UTC" });
    expect(patched.body.data.template).toEqual(schedule.template);
    expect(await scheduler(schedule.id)).toMatchObject({ pattern: "*/30 * * * * *", tz: "UTC" });

    const paused = await stack.request("POST", `/v1/schedules/${schedule.id}/pause`, { key });
    expect(paused.body.data).toMatchObject({ state: "paused", next_run_at: null });
    expect(await scheduler(schedule.id)).toBeUndefined();
    // Idempotent.
    const again = await stack.request("POST", `/v1/schedules/${schedule.id}/pause`, { key });
    expect(again.body.data.state).toBe("paused");

    const resumed = await stack.request("POST", `/v1/schedules/${schedule.id}/resume`, { key });
    expect(resumed.body.data.state).toBe("active");
    expect(resumed.body.data.next_run_at).not.toBeNull();
    expect(await scheduler(schedule.id)).toMatchObject({ pattern: "*/30 * * * * *" });

    const deleted = await stack.request("DELETE", `/v1/schedules/${schedule.id}`, { key });
    expect(deleted.body.data).toEqual({ id: schedule.id, deleted: true });
    expect(await scheduler(schedule.id)).toBeUndefined();
    expect((await stack.request("GET", `/v1/schedules/${schedule.id}`, { key })).status).toBe(404);
    expect((await stack.request("GET", "/v1/schedules", { key })).body.data.schedules).toEqual([]);
    const [row] = await stack.db.db.select().from(schedules).where(eq(schedules.id, schedule.id));
    expect(row!.deletedAt).not.toBeNull();
  });

  it("takes a 6-field cron (seconds first) and defaults the time zone to UTC", async () => {
    const res = await create({ cron: "*/5 * * * * *", template });
    expect(res.status).toBe(200);
    expect(res.body.data.timezone).toBe("UTC");
    const next = new Date(res.body.data.next_run_at).getTime();
    expect(next - Date.now()).toBeLessThanOrEqual(5_000);
  });

  it("lists runs newest first with their batch or why they failed", async () => {
    const { body } = await create({ cron: "0 8 * * *", timezone: "UTC", template });
    const id = body.data.id as string;
    const at = (h: number) => new Date(Date.UTC(2026, 0, 1, h));
    await stack.db.db.insert(scheduleRuns).values([
      {
        id: "run_1",
        scheduleId: id,
        runKey: `${id}:1`,
        scheduledFor: at(1),
        state: "created",
        batchId: "batch_x",
      },
      {
        id: "run_2",
        scheduleId: id,
        runKey: `${id}:2`,
        scheduledFor: at(2),
        state: "failed",
        errorCode: "insufficient_credits",
        errorMessage: "too low",
      },
    ]);
    const runs = await stack.request("GET", `/v1/schedules/${id}/runs`, { key });
    expect(runs.status).toBe(200);
    expect(runs.body.data.runs).toMatchObject([
      {
        id: "run_2",
        schedule_id: id,
        scheduled_for: at(2).toISOString(),
        state: "failed",
        batch_id: null,
        error: { code: "insufficient_credits", message: "too low" },
      },
      { id: "run_1", state: "created", batch_id: "batch_x", error: null },
    ]);
    const limited = await stack.request("GET", `/v1/schedules/${id}/runs?limit=1`, { key });
    expect(limited.body.data.runs).toHaveLength(1);
    const bad = await stack.request("GET", `/v1/schedules/${id}/runs?limit=0`, { key });
    expect(bad.status).toBe(400);
  });
});

describe("refusals", () => {
  const cases: Array<[string, unknown, string]> = [
    ["a cron with a bad value", { cron: "61 * * * *", timezone: "UTC", template }, "cron"],
    ["a cron of 7 fields", { cron: "* * * * * * *", timezone: "UTC", template }, "cron"],
    ["a cron of 4 fields", { cron: "* * * *", timezone: "UTC", template }, "cron"],
    ["no cron", { timezone: "UTC", template }, "cron"],
    ["an unknown time zone", { cron: "0 8 * * *", timezone: "Mars/Olympus", template }, "timezone"],
    ["no template", { cron: "0 8 * * *", timezone: "UTC" }, "template"],
    [
      "a template without requests",
      { cron: "0 8 * * *", timezone: "UTC", template: { requests: [] } },
      "template.requests",
    ],
    [
      "an unknown template field",
      { cron: "0 8 * * *", timezone: "UTC", template: { ...template, priority: 1 } },
      "template.priority",
    ],
    ["an unknown field", { cron: "0 8 * * *", timezone: "UTC", template, every: 5 }, "every"],
    [
      "a schedule callback that is not a URL",
      { cron: "0 8 * * *", timezone: "UTC", template, callback_url: "nope" },
      "callback_url",
    ],
  ];
  for (const [what, body, field] of cases) {
    it(`${what} is a 400 naming '${field}', nothing written`, async () => {
      const res = await create(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      expect(res.body.error.message).toContain(`'${field}`);
      expect((await stack.request("GET", "/v1/schedules", { key })).body.data.schedules).toEqual(
        [],
      );
    });
  }

  it("a template with bad items lists every one by index", async () => {
    const res = await create({
      cron: "0 8 * * *",
      timezone: "UTC",
      template: {
        requests: [
          { model: "nano-banana-2", input: { prompt: "ok" } },
          { model: "no-such-model", input: { prompt: "x" } },
          { model: "nano-banana-2", input: { prompt: "x", resolution: "9K" } },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.errors.map((e: { index: number }) => e.index)).toEqual([1, 2]);
    expect(res.body.error.errors[0].code).toBe("model_not_found");
    expect((await stack.request("GET", "/v1/schedules", { key })).body.data.schedules).toEqual([]);
  });

  it("a PATCH with a bad cron is a 400 and changes nothing", async () => {
    const { body } = await create({ cron: "0 8 * * *", timezone: "UTC", template });
    const id = body.data.id as string;
    const res = await stack.request("PATCH", `/v1/schedules/${id}`, {
      key,
      body: { cron: "0 25 * * *" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("'cron'");
    const read = await stack.request("GET", `/v1/schedules/${id}`, { key });
    expect(read.body.data).toEqual(body.data);
  });

  it("another account's schedule, or an id that cannot exist, is a 404", async () => {
    const { body } = await create({ cron: "0 8 * * *", timezone: "UTC", template });
    const other = await stack.createAccount(10);
    for (const [method, path] of [
      ["GET", `/v1/schedules/${body.data.id}`],
      ["PATCH", `/v1/schedules/${body.data.id}`],
      ["DELETE", `/v1/schedules/${body.data.id}`],
      ["POST", `/v1/schedules/${body.data.id}/pause`],
      ["GET", `/v1/schedules/${body.data.id}/runs`],
      ["GET", "/v1/schedules/sched_nope"],
    ] as const) {
      const res = await stack.request(method, path, {
        key: other.apiKey,
        ...(method === "PATCH" ? { body: { cron: "0 9 * * *" } } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe("schedule_not_found");
    }
    expect(await scheduler(body.data.id)).toMatchObject({ pattern: "0 8 * * *" });
  });
});

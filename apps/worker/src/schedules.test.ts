import type { ChildProcess } from "node:child_process";
import { findSchedule, getCredits, startScheduleRun } from "@ripen/core";
import { batches, createDb, deliveries, scheduleRuns, schedules, tasks } from "@ripen/db";
import { getModel } from "@ripen/models";
import { defaultProviders } from "@ripen/providers";
import {
  type PrivateRedis,
  startPrivateRedis,
  startTestStack,
  type TestStack,
  until,
} from "@ripen/testkit";
import { asc, eq, inArray } from "drizzle-orm";
import pino from "pino";
import { afterEach, describe, expect, inject, it } from "vitest";
import { fireSchedule, type ScheduleFireDeps } from "./schedule-fire";
import { ClientEndpoint } from "./testing/client-endpoint";
import { killWorker, spawnWorker } from "./testing/worker-process";

// The issue asks for a minute of per-second firings with two workers; ~10 s of them keep the
// suite short and show the same thing (every firing is a run race between the two).

let stack: TestStack | undefined;
let redis: PrivateRedis | undefined;
let endpoint: ClientEndpoint | undefined;
const children: ChildProcess[] = [];

afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => killWorker(child)));
  await endpoint?.close();
  await stack?.close();
  await redis?.stop();
  stack = undefined;
  redis = undefined;
  endpoint = undefined;
});

const oneImage = { requests: [{ model: "nano-banana-2-lite", input: { prompt: "a banner" } }] };

async function createSchedule(
  s: TestStack,
  key: string,
  body: Record<string, unknown>,
): Promise<string> {
  const res = await s.request("POST", "/v1/schedules", { key, body });
  expect(res.status).toBe(200);
  return res.body.data.id as string;
}

const runsOf = (s: TestStack, scheduleId: string) =>
  s.db.db
    .select()
    .from(scheduleRuns)
    .where(eq(scheduleRuns.scheduleId, scheduleId))
    .orderBy(asc(scheduleRuns.scheduledFor));

function depsOf(s: TestStack): ScheduleFireDeps {
  return {
    db: s.db.db,
    clock: s.clock,
    logger: pino({ level: "silent" }),
    taskQueue: s.taskQueue,
    enqueueDelivery: (id) => s.deliveryQueue.enqueue(id),
    schedules: s.scheduleQueue,
    resolveModel: getModel,
  };
}

describe("firings across worker processes", () => {
  it("two workers and a per-second schedule: each firing starts one run and one batch", async () => {
    stack = await startTestStack({ worker: false });
    const { apiKey } = await stack.createAccount(1_000_000);
    children.push(await spawnWorker(stack), await spawnWorker(stack));
    const id = await createSchedule(stack, apiKey, { cron: "* * * * * *", template: oneImage });

    // A minute of firings, as the issue asks.
    await until(async () => (await runsOf(stack!, id)).length >= 60, 120_000);
    await stack.request("POST", `/v1/schedules/${id}/pause`, { key: apiKey });
    // A firing already handed to a worker finishes; then nothing more is added.
    const runs = await until(async () => {
      const before = await runsOf(stack!, id);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const after = await runsOf(stack!, id);
      return after.length === before.length && after;
    });

    expect(new Set(runs.map((r) => r.runKey)).size).toBe(runs.length);
    expect(new Set(runs.map((r) => r.scheduledFor.getTime())).size).toBe(runs.length);
    for (const run of runs) {
      expect(run.state).toBe("created");
      expect(run.scheduledFor.getUTCMilliseconds()).toBe(0);
    }
    const made = await stack.db.db
      .select()
      .from(batches)
      .where(
        inArray(
          batches.scheduleRunId,
          runs.map((r) => r.id),
        ),
      );
    expect(made).toHaveLength(runs.length);
    expect(new Set(made.map((b) => b.id))).toEqual(new Set(runs.map((r) => r.batchId)));
    const items = await stack.db.db
      .select({ id: tasks.id, batchId: tasks.batchId })
      .from(tasks)
      .where(
        inArray(
          tasks.batchId,
          made.map((b) => b.id),
        ),
      );
    expect(items).toHaveLength(runs.length);
    expect(new Set(items.map((t) => t.id)).size).toBe(runs.length);
    // `last_run_for` is the latest run's fire time.
    const schedule = await findSchedule(stack.db.db, id);
    expect(schedule!.lastRunFor).toEqual(runs.at(-1)!.scheduledFor);
  }, 180_000);

  it("the same firing started by many at once: one run, one batch", async () => {
    stack = await startTestStack({ worker: false });
    const { apiKey } = await stack.createAccount(10_000);
    const id = await createSchedule(stack, apiKey, { cron: "0 8 * * *", template: oneImage });
    const schedule = (await findSchedule(stack.db.db, id))!;
    const scheduledFor = new Date("2031-01-01T08:00:00.000Z");
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        startScheduleRun(stack!.db.db, {
          schedule,
          scheduledFor,
          now: new Date(),
          resolveModel: getModel,
        }),
      ),
    );
    expect(outcomes.filter((o) => o.outcome === "created")).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === "duplicate")).toHaveLength(7);
    expect(await runsOf(stack, id)).toHaveLength(1);
    // One batch held: its one item's price.
    expect((await getCredits(stack.db.db, schedule.accountId)).held).toBe(10);
  });
});

describe("a run no provider can start in time", () => {
  it("is recorded failed with capacity_exceeded and nothing held; a run that fits gets its projected end", async () => {
    // nanobanana, seedream4's only provider, held to 4 requests per 2 s: about one start a second.
    const providers = defaultProviders.map((p) =>
      p.id === "nanobanana" ? { ...p, limits: { requestsPerMinute: 4, rateWindowMs: 2_000 } } : p,
    );
    stack = await startTestStack({ providers });
    const s = stack;
    const { apiKey, accountId } = await s.createAccount(10_000_000);
    const seedream = (n: number) => ({
      requests: Array.from({ length: n }, (_, i) => ({
        model: "seedream4",
        input: { prompt: `scheduled ${i}` },
      })),
    });
    // 2,000 items at about one a second cannot start within their 15-minute deadlines.
    const tooBig = await createSchedule(s, apiKey, {
      cron: "* * * * * *",
      template: seedream(2_000),
    });
    const failed = await until(async () => (await runsOf(s, tooBig)).at(0));
    await s.request("POST", `/v1/schedules/${tooBig}/pause`, { key: apiKey });
    expect(failed).toMatchObject({
      state: "failed",
      batchId: null,
      errorCode: "capacity_exceeded",
    });
    expect(failed.errorMessage).toContain("seedream4");
    expect((await getCredits(s.db.db, accountId)).held).toBe(0);

    const fits = await createSchedule(s, apiKey, { cron: "* * * * * *", template: seedream(3) });
    const created = await until(async () => (await runsOf(s, fits)).find((run) => run.batchId));
    await s.request("POST", `/v1/schedules/${fits}/pause`, { key: apiKey });
    const [batch] = await s.db.db.select().from(batches).where(eq(batches.id, created.batchId!));
    expect(batch?.estimatedEndAt?.getTime()).toBeGreaterThan(batch!.createdAt.getTime());
  });
});

describe("a run that cannot be paid", () => {
  it("is recorded failed with its reason and its callback is sent, signed", async () => {
    stack = await startTestStack();
    endpoint = await ClientEndpoint.start();
    const hook = endpoint.hook();
    const { apiKey } = await stack.createAccount(5);
    const id = await createSchedule(stack, apiKey, {
      cron: "* * * * * *",
      template: oneImage,
      callback_url: hook,
    });
    const received = await endpoint.nthRequest(hook, 1);
    await stack.request("POST", `/v1/schedules/${id}/pause`, { key: apiKey });

    const [run] = await runsOf(stack, id);
    expect(run).toMatchObject({
      state: "failed",
      batchId: null,
      errorCode: "insufficient_credits",
    });
    expect(run!.errorMessage).toContain("5 available, 10 required");
    expect(received.headers["x-event"]).toBe("schedule.run_failed");
    expect(received.headers["webhook-signature"]).toMatch(/^v1,/);
    expect(JSON.parse(received.body)).toMatchObject({
      object: "schedule_run",
      id: run!.id,
      schedule_id: id,
      state: "failed",
      error: { code: "insufficient_credits" },
    });
    const [delivery] = await stack.db.db
      .select()
      .from(deliveries)
      .where(eq(deliveries.event, "schedule.run_failed"))
      .orderBy(asc(deliveries.createdAt))
      .limit(1);
    expect(delivery).toMatchObject({ url: hook, taskId: null, batchId: null });
    // The history says why.
    const history = await stack.request("GET", `/v1/schedules/${id}/runs`, { key: apiKey });
    expect(history.body.data.runs.at(-1)).toMatchObject({
      state: "failed",
      batch_id: null,
      error: { code: "insufficient_credits" },
    });
    // Nothing was held.
    const credits = await stack.request("GET", "/v1/credits", { key: apiKey });
    expect(credits.body.data).toMatchObject({ credits: 5, held: 0 });
  });
});

describe("Redis that loses everything", () => {
  it("a FLUSHALL does not lose the schedule: the watchdog rebuilds it and it fires again", async () => {
    redis = await startPrivateRedis();
    stack = await startTestStack({ redisUrl: redis.url, sweep: { everyMs: 300, graceMs: 60_000 } });
    const { apiKey } = await stack.createAccount(1_000_000);
    const id = await createSchedule(stack, apiKey, { cron: "* * * * * *", template: oneImage });
    await until(async () => (await runsOf(stack!, id)).length >= 1);

    await stack.redis.flushall();
    const flushedAt = Date.now();
    expect(await stack.scheduleQueue.has(id)).toBe(false);

    await until(async () =>
      (await runsOf(stack!, id)).some((r) => r.scheduledFor.getTime() > flushedAt + 1_000),
    );
    expect(await stack.scheduleQueue.has(id)).toBe(true);
    await stack.request("POST", `/v1/schedules/${id}/pause`, { key: apiKey });
    const runs = await runsOf(stack, id);
    expect(new Set(runs.map((r) => r.runKey)).size).toBe(runs.length);
  });
});

describe("missed firings: catch up once, then resume", () => {
  const hour = 3_600_000;
  const latestHour = () => new Date(Math.floor(Date.now() / hour) * hour);

  async function hourlySchedule(
    s: TestStack,
    key: string,
    downSince: Date,
    lastRunFor: Date | null,
  ) {
    const id = await createSchedule(s, key, { cron: "0 * * * *", template: oneImage });
    // As if it had been created (and last run) long ago, and everything was down since.
    await s.db.db
      .update(schedules)
      .set({ updatedAt: downSince, lastRunFor })
      .where(eq(schedules.id, id));
    return id;
  }

  it("at a rebuild (worker start, Redis emptied): one run for the latest missed hour", async () => {
    stack = await startTestStack();
    const { apiKey } = await stack.createAccount(1_000);
    const fiveHoursAgo = new Date(Date.now() - 5 * hour);
    const id = await hourlySchedule(stack, apiKey, fiveHoursAgo, fiveHoursAgo);
    await stack.scheduleQueue.remove(id);

    expect(await stack.worker!.rebuildSchedules()).toEqual({ schedules: 1, caughtUp: 1 });
    const runs = await runsOf(stack, id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ state: "created", scheduledFor: latestHour() });
    expect(await stack.scheduleQueue.has(id)).toBe(true);
    // Then it resumes: nothing more is owed.
    expect(await stack.worker!.rebuildSchedules()).toEqual({ schedules: 1, caughtUp: 0 });
    expect(await runsOf(stack, id)).toHaveLength(1);
  });

  /** A stack without a worker, its log lines kept, and one account's hourly schedule. */
  async function stackWithHourlySchedule() {
    const lines: Array<{ event?: string }> = [];
    const logger = pino(
      { level: "info" },
      { write: (line: string) => lines.push(JSON.parse(line)) },
    );
    const s = await startTestStack({ worker: false, logger });
    stack = s;
    const { apiKey } = await s.createAccount(1_000);
    await hourlySchedule(s, apiKey, new Date(), null);
    return { s, lines };
  }

  it("a worker started on an empty Redis rebuilds the schedules once", async () => {
    const { s, lines } = await stackWithHourlySchedule();
    await s.startWorker();
    expect(lines.filter((line) => line.event === "schedules.rebuilt")).toHaveLength(1);
  });

  it("a worker started while Postgres refuses connections starts once it is back", async () => {
    const { s, lines } = await stackWithHourlySchedule();
    const admin = createDb(inject("pgAdminUrl"), { max: 1 });
    const name = s.db.name;
    try {
      await admin.pool.query(`alter database ${name} with allow_connections false`);
      await admin.pool.query(
        "select pg_terminate_backend(pid, 10000) from pg_stat_activity where datname = $1",
        [name],
      );
      const starting = s.startWorker();
      // Postgres comes back only once the start has said it waits; a chaos run's worker,
      // started as Postgres restarted, failed its start instead.
      await Promise.race([
        until(async () => lines.some((line) => line.event === "worker.waiting_for_postgres")),
        starting,
      ]);
      await admin.pool.query(`alter database ${name} with allow_connections true`);
      await starting;
    } finally {
      await admin.pool.query(`alter database ${name} with allow_connections true`);
      await admin.close();
    }
    expect(lines.filter((line) => line.event === "schedules.rebuilt")).toHaveLength(1);
  });

  it("a stale firing (the job waited while no worker ran): one run, for the latest hour", async () => {
    stack = await startTestStack();
    const { apiKey } = await stack.createAccount(1_000);
    const id = await hourlySchedule(stack, apiKey, new Date(Date.now() - 6 * hour), null);
    const deps = depsOf(stack);
    const staleFire = new Date(latestHour().getTime() - 4 * hour);

    await fireSchedule(deps, id, staleFire);
    // The firings queued behind it are just as stale, and owe nothing more.
    await fireSchedule(deps, id, new Date(staleFire.getTime() + hour));
    await fireSchedule(deps, id, latestHour());

    const runs = await runsOf(stack, id);
    expect(runs.map((r) => r.scheduledFor)).toEqual([latestHour()]);
    expect((await findSchedule(stack.db.db, id))!.lastRunFor).toEqual(latestHour());
  });

  it("firings of a paused schedule are not owed when it resumes", async () => {
    stack = await startTestStack();
    const { apiKey } = await stack.createAccount(1_000);
    const id = await createSchedule(stack, apiKey, { cron: "0 * * * *", template: oneImage });
    await stack.request("POST", `/v1/schedules/${id}/pause`, { key: apiKey });
    // Paused since five hours ago: backdated only once paused, since a rebuild the worker runs
    // meanwhile would rightly catch up an active schedule that had been down that long.
    await stack.db.db
      .update(schedules)
      .set({ updatedAt: new Date(Date.now() - 5 * hour) })
      .where(eq(schedules.id, id));
    await stack.request("POST", `/v1/schedules/${id}/resume`, { key: apiKey });
    await stack.scheduleQueue.remove(id);
    expect(await stack.worker!.rebuildSchedules()).toEqual({ schedules: 1, caughtUp: 0 });
    expect(await runsOf(stack, id)).toHaveLength(0);
  });
});

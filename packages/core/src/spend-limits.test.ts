/**
 * Spend limits per key (hourly, daily, total), enforced by the statement that writes the hold:
 * no number of concurrent creates commits one credit past a limit, a released task gives its
 * credits back to the window it was taken from, and batches count too.
 */
import { apiKeySpend, batches, type SpendPeriod, spendPeriods, tasks } from "@ripen/db";
import { getModel } from "@ripen/models";
import { createTestDatabase, ledgerViolations, type TestDatabase } from "@ripen/testkit";
import { asc, eq } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "./accounts";
import { type ApiKeySettings, createApiKey } from "./api-keys";
import { createBatch } from "./batch-create";
import { InsufficientCredits, SpendLimitExceeded } from "./errors";
import { createTask } from "./task-create";
import { endTask } from "./task-ending/end-task";
import { transitionTask } from "./task-machine";
import { createTaskWriter } from "./task-writer";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const model = getModel("nano-banana-2");
/** nano-banana-2's price at its defaults. */
const PRICE = 16;
/** 30 s before an hour ends (and 10 h 30 s before the day does). */
const at = new Date("2030-01-07T13:59:30Z");
const later = (ms: number) => new Date(at.getTime() + ms);
const HOUR = 3_600_000;

/** An account with plenty of credit, and a key of its own with these spend limits. */
async function keyWith(spendLimits: ApiKeySettings["spendLimits"], credits = 1_000_000) {
  const { accountId } = await createAccount(db.db, { name: "spender", credits });
  const { keyId } = await createApiKey(db.db, { accountId, spendLimits });
  return { accountId, keyId };
}

const createWith = (owner: { accountId: string; keyId: string }, now = at) =>
  createTask(db.db, { ...owner, apiKeyId: owner.keyId, model, input: { prompt: "x" }, now });

/** The error a promise rejects with (it must reject). */
const refusalOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a refusal");
    },
    (error: unknown) => error,
  );

const fail = (taskId: string, now = at) =>
  endTask(db.db, {
    taskId,
    outcome: { status: "failed", errorCode: "upstream_failed", errorMessage: "failed" },
    source: "test",
    now,
  });

async function succeed(taskId: string, now = at) {
  await transitionTask(db.db, { taskId, to: "submitting", source: "test", now });
  await endTask(db.db, {
    taskId,
    outcome: { status: "succeeded", output: { urls: [], metadata: {} } },
    source: "test",
    now,
  });
}

/** The key's spend rows, as `period@window_start: spent/cap`. */
async function spendOf(keyId: string): Promise<string[]> {
  const rows = await db.db
    .select()
    .from(apiKeySpend)
    .where(eq(apiKeySpend.keyId, keyId))
    .orderBy(asc(apiKeySpend.period), asc(apiKeySpend.windowStart));
  return rows.map((r) => `${r.period}@${r.windowStart.toISOString()}: ${r.spent}/${r.cap}`);
}

describe("a key's spend limits, atomic with the hold", () => {
  it("240 creates racing through two writers commit exactly what the hourly limit allows", async () => {
    const owner = await keyWith({ hourly: 100 });
    // Two writers stand for two API processes.
    const writers = [createTaskWriter(db.db), createTaskWriter(db.db)];
    const outcomes = await Promise.all(
      Array.from({ length: 240 }, (_, i) =>
        writers[i % 2]!.create({
          ...owner,
          apiKeyId: owner.keyId,
          model,
          input: { prompt: `p${i}` },
          now: at,
        }).then(
          (task) => ({ ok: true as const, price: task.price }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
      ),
    );
    const accepted = outcomes.filter((o) => o.ok);
    // The largest multiple of the price within the limit: 6 × 16 = 96 ≤ 100 < 112.
    expect(accepted.reduce((sum, o) => sum + (o.ok ? o.price : 0), 0)).toBe(96);
    for (const o of outcomes.filter((o) => !o.ok)) {
      expect(o.ok || o.error).toBeInstanceOf(SpendLimitExceeded);
      expect(o.ok || o.error).toMatchObject({ period: "hour", limit: 100, retryAfterSeconds: 30 });
    }
    const written = await db.db.select().from(tasks).where(eq(tasks.apiKeyId, owner.keyId));
    expect(written.reduce((sum, t) => sum + t.price, 0)).toBe(96);
    expect(await spendOf(owner.keyId)).toEqual(["hour@2030-01-07T13:00:00.000Z: 96/100"]);
    expect(await ledgerViolations(db.db)).toEqual([]);
  });

  it("a refused create does not refuse its group-mates", async () => {
    const { accountId, keyId } = await keyWith({ total: 32 });
    const free = await createApiKey(db.db, { accountId });
    const writer = createTaskWriter(db.db);
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        writer
          .create({
            accountId,
            apiKeyId: i % 2 ? keyId : free.keyId,
            model,
            input: { prompt: `p${i}` },
            now: at,
          })
          .then(
            () => `${i % 2 ? "limited" : "free"} ok`,
            (error: unknown) => `${i % 2 ? "limited" : "free"} ${(error as Error).name}`,
          ),
      ),
    );
    const tally = (outcome: string) => outcomes.filter((o) => o === outcome).length;
    expect(tally("free ok")).toBe(50);
    expect(tally("limited ok")).toBe(2);
    expect(tally("limited SpendLimitExceeded")).toBe(48);
    // The refusals failed groups, whose other creates were then written alone.
    expect(writer.stats.fallbacks).toBeGreaterThan(0);
    expect(await spendOf(free.keyId)).toEqual([]);
  });

  it("a released task gives its credits back to the window it was taken from; a captured one keeps counting", async () => {
    const owner = await keyWith({ hourly: 48, total: 80 });
    const [first, second, third] = [
      await createWith(owner),
      await createWith(owner),
      await createWith(owner),
    ];
    expect(await refusalOf(createWith(owner))).toMatchObject({ period: "hour", limit: 48 });
    await fail(first!.id);
    expect(await spendOf(owner.keyId)).toEqual([
      "hour@2030-01-07T13:00:00.000Z: 32/48",
      "total@1970-01-01T00:00:00.000Z: 32/80",
    ]);
    const fourth = await createWith(owner);
    await succeed(second!.id);
    expect(await refusalOf(createWith(owner))).toMatchObject({ period: "hour", limit: 48 });
    // The next hour is a new window; the total still counts the captured and held ones (48).
    const nextHour = later(HOUR);
    await createWith(owner, nextHour);
    // Released in the next hour, the 13:00 task frees the 13:00 window, not the current one.
    await fail(third!.id, nextHour);
    expect(await spendOf(owner.keyId)).toEqual([
      "hour@2030-01-07T13:00:00.000Z: 32/48",
      "hour@2030-01-07T14:00:00.000Z: 16/48",
      "total@1970-01-01T00:00:00.000Z: 48/80",
    ]);
    await createWith(owner, nextHour);
    await createWith(owner, nextHour);
    expect(await refusalOf(createWith(owner, nextHour))).toMatchObject({
      period: "total",
      limit: 80,
      retryAfterSeconds: undefined,
    });
    await fail(fourth.id, nextHour);
    expect(await ledgerViolations(db.db)).toEqual([]);
  });

  it("names the limit that refused, with the wait until its window ends", async () => {
    const daily = await keyWith({ hourly: 1_000, daily: 40 });
    await createWith(daily);
    await createWith(daily);
    const refusal = await refusalOf(createWith(daily));
    expect(refusal).toBeInstanceOf(SpendLimitExceeded);
    // 10 h 30 s to midnight UTC.
    expect(refusal).toMatchObject({ period: "day", limit: 40, retryAfterSeconds: 36_030 });
    // Full in both its hour and its day, a create waits for the day.
    const both = await keyWith({ hourly: 32, daily: 32 });
    await createWith(both);
    await createWith(both);
    expect(await refusalOf(createWith(both))).toMatchObject({ period: "day" });
    // A single task dearer than the limit is refused outright.
    const small = await keyWith({ hourly: 10 });
    expect(await refusalOf(createWith(small))).toMatchObject({ period: "hour", limit: 10 });
    expect(await spendOf(small.keyId)).toEqual([]);
  });

  it("an account short of credit is told so, whatever its key's limits", async () => {
    const owner = await keyWith({ hourly: 1_000 }, 20);
    await createWith(owner);
    expect(await refusalOf(createWith(owner))).toBeInstanceOf(InsufficientCredits);
    expect(await spendOf(owner.keyId)).toEqual(["hour@2030-01-07T13:00:00.000Z: 16/1000"]);
  });

  it("writes nothing for a key without limits, nor for a create without a key", async () => {
    const owner = await keyWith({});
    await createWith(owner);
    await createTask(db.db, { accountId: owner.accountId, model, input: { prompt: "x" } });
    expect(await spendOf(owner.keyId)).toEqual([]);
  });

  it("counts a batch's total toward its key, refuses a batch past the limit whole, and frees a released item's credits", async () => {
    const owner = await keyWith({ daily: 100 });
    const items = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ model: "nano-banana-2", input: { prompt: `${i}` } }));
    const batch = await createBatch(db.db, {
      accountId: owner.accountId,
      apiKeyId: owner.keyId,
      requests: items(5),
      now: at,
      resolveModel: getModel,
    });
    expect(batch.price).toBe(80);
    const refused = await refusalOf(
      createBatch(db.db, {
        accountId: owner.accountId,
        apiKeyId: owner.keyId,
        requests: items(2),
        now: at,
        resolveModel: getModel,
      }),
    );
    expect(refused).toMatchObject({ period: "day", limit: 100 });
    const written = await db.db
      .select()
      .from(batches)
      .where(eq(batches.accountId, owner.accountId));
    expect(written).toHaveLength(1);
    // A single create still fits (96 ≤ 100), and then nothing does.
    await createWith(owner);
    expect(await refusalOf(createWith(owner))).toBeInstanceOf(SpendLimitExceeded);
    await fail(batch.taskIds[0]!);
    await createWith(owner);
    expect(await spendOf(owner.keyId)).toEqual(["day@2030-01-07T00:00:00.000Z: 96/100"]);
    expect(await ledgerViolations(db.db)).toEqual([]);
  });
});

/** One step of a key's life: a create at some minute, or the ending of a task created before. */
type Step =
  | { kind: "create"; minute: number }
  | { kind: "end"; pick: number; succeeded: boolean; minute: number };

const PERIODS = spendPeriods;
const windowOf = (period: SpendPeriod, time: Date) =>
  period === "total"
    ? "1970-01-01T00:00:00.000Z"
    : new Date(
        Math.floor(time.getTime() / (period === "hour" ? HOUR : 24 * HOUR)) *
          (period === "hour" ? HOUR : 24 * HOUR),
      ).toISOString();

describe("spend windows against a plain model", () => {
  it("accept and refuse exactly as the model does over any sequence of creates and endings", async () => {
    const limit = fc.option(fc.integer({ min: 1, max: 120 }), { nil: null });
    const step = fc.oneof(
      fc.record({
        kind: fc.constant("create" as const),
        minute: fc.integer({ min: 0, max: 3000 }),
      }),
      fc.record({
        kind: fc.constant("end" as const),
        pick: fc.nat(),
        succeeded: fc.boolean(),
        minute: fc.integer({ min: 0, max: 3000 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({ hour: limit, day: limit, total: limit }),
        fc.array(step, { minLength: 1, maxLength: 25 }),
        async (limits, steps: Step[]) => {
          const owner = await keyWith({
            hourly: limits.hour,
            daily: limits.day,
            total: limits.total,
          });
          const spent = new Map<string, number>();
          const open: { id: string; createdAt: Date }[] = [];
          for (const s of steps) {
            const now = later(s.minute * 60_000);
            if (s.kind === "create") {
              const full = PERIODS.filter((p) => {
                const cap = limits[p];
                return cap !== null && (spent.get(`${p}@${windowOf(p, now)}`) ?? 0) + PRICE > cap;
              });
              const outcome = await createWith(owner, now).then(
                (task) => task,
                (error: unknown) => error,
              );
              if (full.length === 0) {
                expect(outcome).not.toBeInstanceOf(Error);
                open.push({ id: (outcome as { id: string }).id, createdAt: now });
                for (const p of PERIODS) {
                  if (limits[p] === null) continue;
                  const window = `${p}@${windowOf(p, now)}`;
                  spent.set(window, (spent.get(window) ?? 0) + PRICE);
                }
              } else {
                expect(outcome).toBeInstanceOf(SpendLimitExceeded);
                // The longest wait is named: total, then day, then hour.
                expect((outcome as SpendLimitExceeded).period).toBe(
                  PERIODS.findLast((p) => full.includes(p)),
                );
              }
            } else if (open.length > 0) {
              const [task] = open.splice(s.pick % open.length, 1);
              if (s.succeeded) await succeed(task!.id, now);
              else {
                await fail(task!.id, now);
                for (const p of PERIODS) {
                  const window = `${p}@${windowOf(p, task!.createdAt)}`;
                  if (spent.has(window)) spent.set(window, spent.get(window)! - PRICE);
                }
              }
            }
          }
          const rows = await db.db
            .select()
            .from(apiKeySpend)
            .where(eq(apiKeySpend.keyId, owner.keyId));
          expect(
            new Map(rows.map((r) => [`${r.period}@${r.windowStart.toISOString()}`, r.spent])),
          ).toEqual(spent);
        },
      ),
      { numRuns: 40 },
    );
    expect(await ledgerViolations(db.db)).toEqual([]);
  });
});

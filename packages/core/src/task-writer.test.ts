import { accounts, tasks } from "@ripen/db";
import { getModel } from "@ripen/models";
import { createTestDatabase, ledgerViolations, type TestDatabase } from "@ripen/testkit";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "./accounts";
import { InsufficientCredits, InvalidRequest } from "./errors";
import { createTaskWriter } from "./task-writer";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const create = (writer: ReturnType<typeof createTaskWriter>, accountId: string, prompt = "x") =>
  writer.create({ accountId, model: getModel("nano-banana-2"), input: { prompt } });

describe("the batching task writer", () => {
  it("writes concurrent creates in batches, two writers over the same accounts, no batch failing", async () => {
    // Two writers stand for two API processes; each batch holds several of the same accounts.
    const writers = [createTaskWriter(db.db), createTaskWriter(db.db)];
    const owners = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => createAccount(db.db, { name: `a${i}`, credits: 16 * 80 })),
    );
    const created = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        create(writers[i % 2]!, owners[(i * 7 + (i % 2) * 3) % 5]!.accountId, `p${i}`),
      ),
    );
    expect(new Set(created.map((t) => t.id)).size).toBe(400);
    for (const writer of writers) {
      // Written together, and no batch failed (a deadlock between the writers would show here).
      expect(writer.stats.batches).toBeGreaterThan(0);
      expect(writer.stats.batches).toBeLessThan(100);
      expect(writer.stats.fallbacks).toBe(0);
    }
    for (const { accountId } of owners) {
      const [row] = await db.db.select().from(accounts).where(eq(accounts.id, accountId));
      expect(row).toMatchObject({ balance: 1280, held: 1280 });
    }
    expect(await ledgerViolations(db.db)).toEqual([]);
  });

  it("two writers racing on scarce credits accept exactly what each account affords", async () => {
    // Two writers stand for two API processes; their batches lock overlapping accounts.
    const writers = [createTaskWriter(db.db), createTaskWriter(db.db)];
    const affords = [5, 9, 0, 13];
    const owners = await Promise.all(
      affords.map((n, i) => createAccount(db.db, { name: `s${i}`, credits: n * 16 })),
    );
    const outcomes = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        create(writers[i % 2]!, owners[i % owners.length]!.accountId).then(
          (task) => ({ ok: true as const, accountId: task.accountId }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
      ),
    );
    const refused = outcomes.filter((o) => !o.ok);
    expect(refused.every((o) => !o.ok && o.error instanceof InsufficientCredits)).toBe(true);
    owners.forEach(({ accountId }, i) => {
      expect(outcomes.filter((o) => o.ok && o.accountId === accountId)).toHaveLength(affords[i]!);
    });
    for (const [i, { accountId }] of owners.entries()) {
      const [row] = await db.db.select().from(accounts).where(eq(accounts.id, accountId));
      expect(row).toMatchObject({ balance: affords[i]! * 16, held: affords[i]! * 16 });
      const [written] = await db.db
        .select({ n: count() })
        .from(tasks)
        .where(eq(tasks.accountId, accountId));
      expect(written?.n).toBe(affords[i]);
    }
    expect(await ledgerViolations(db.db)).toEqual([]);
  });

  it("keeps its database connections when Postgres refuses creates", async () => {
    // A refused statement used to cost its connection: every refusal opened a new one.
    const writer = createTaskWriter(db.db);
    const { accountId } = await createAccount(db.db, { name: "broke", credits: 0 });
    let opened = 0;
    const countOpened = () => opened++;
    db.pool.on("connect", countOpened);
    try {
      const refused = await Promise.allSettled(
        Array.from({ length: 50 }, () => create(writer, accountId)),
      );
      expect(
        refused.every((r) => r.status === "rejected" && r.reason instanceof InsufficientCredits),
      ).toBe(true);
    } finally {
      db.pool.off("connect", countOpened);
    }
    expect(opened).toBeLessThanOrEqual(db.pool.options.max);
  });

  it("refuses an invalid request alone, before anything is batched", async () => {
    const writer = createTaskWriter(db.db);
    const { accountId } = await createAccount(db.db, { name: "v", credits: 100 });
    const [bad, good] = await Promise.allSettled([
      writer.create({ accountId, model: getModel("nano-banana-2"), input: { prompt: "" } }),
      create(writer, accountId),
    ]);
    expect(bad.status === "rejected" && bad.reason).toBeInstanceOf(InvalidRequest);
    expect(good.status).toBe("fulfilled");
  });
});

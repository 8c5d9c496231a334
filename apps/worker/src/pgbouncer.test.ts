/**
 * Ripen behind PgBouncer in transaction mode (issue 16): the stack's pools (the API, the
 * callbacks receiver, the worker) reach the test database only through a PgBouncer started
 * here from the machine's binary, which hands each transaction whichever server connection is
 * free. Debian 12's is 1.18, which keeps no prepared statement across server connections:
 * Ripen's named statements then fail, and `DATABASE_PREPARED_STATEMENTS=unnamed` is what makes
 * the whole journey pass. Without a pgbouncer binary the file fails (`.ci/run` installs it).
 */
import { randomBytes } from "node:crypto";
import { createTaskReader, getBatchSummary } from "@ripen/core";
import {
  createDb,
  migrateDatabase,
  type PreparedStatementMode,
  tasks,
  terminalTaskStatuses,
} from "@ripen/db";
import { type PgBouncer, startPgBouncer } from "@ripen/infra";
import { endingsNotOnce, ledgerViolations, startTestStack, type TestStack } from "@ripen/testkit";
import { eq, sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";

const PRICE = 16; // nano-banana-2 at 1K
const TERMINAL = [...terminalTaskStatuses];

let bouncer: PgBouncer;
let stack: TestStack;
let noPgBouncer: unknown;

beforeAll(async () => {
  try {
    // Four server connections for the stack's twenty clients: consecutive statements of one
    // client rarely meet the same server connection.
    bouncer = await startPgBouncer({ upstreamUrl: inject("pgAdminUrl"), poolSize: 4 });
  } catch (error) {
    noPgBouncer = error;
    return;
  }
  stack = await startTestStack({
    servicesDb: (url) => createDb(bouncer.through(url), { max: 20, preparedStatements: "unnamed" }),
  });
  stack.sandbox.configure({
    generationMs: 20,
    failureRate: 0.1,
    callbackLossRate: 0.3,
    callbackDuplicateRate: 0.2,
  });
});
// Every test fails, saying what to install, rather than the file's tests reading as skipped.
beforeEach(() => {
  if (noPgBouncer) throw noPgBouncer;
});
afterAll(async () => {
  try {
    await stack?.close();
  } finally {
    await bouncer?.stop();
  }
});

/**
 * Reads a task twice as the worker does, with Ripen's named `ripen_find_tasks_and_latest_attempts`,
 * through a PgBouncer of two server connections: the first read prepares it on one; another
 * client's open transaction then holds that one, so the second read is given the other. Returns
 * what the second read met.
 */
async function readAcrossServerConnections(mode: PreparedStatementMode): Promise<string> {
  const own = await startPgBouncer({ upstreamUrl: inject("pgAdminUrl"), poolSize: 2 });
  const reader = createDb(own.through(stack.db.url), { max: 1, preparedStatements: mode });
  const holder = new pg.Client({ connectionString: own.through(stack.db.url) });
  const tasks = createTaskReader(reader.db);
  try {
    await tasks.withLatestAttempt("task_missing");
    await holder.connect();
    await holder.query("begin");
    await holder.query("select 1");
    return await tasks.withLatestAttempt("task_missing").then(
      () => "read",
      (error: { code?: string; message: string }) => `${error.code}: ${error.message}`,
    );
  } finally {
    await holder.end().catch(() => {});
    await reader.close();
    await own.stop();
  }
}

describe("through PgBouncer in transaction mode", () => {
  it("needs the switch: a named statement is lost with its server connection, an unnamed one is not", async () => {
    expect(bouncer.tracksPreparedStatements).toBe(false);
    expect(await readAcrossServerConnections("named")).toBe(
      '26000: prepared statement "ripen_find_tasks_and_latest_attempts" does not exist',
    );
    expect(await readAcrossServerConnections("unnamed")).toBe("read");
  });

  it("takes 200 creates at once (group commit), ends each task once and settles the ledger", async () => {
    const granted = 200 * PRICE + 1_000;
    const { apiKey, accountId } = await stack.createAccount(granted);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        stack.request("POST", "/v1/images/generations", {
          key: apiKey,
          body: { model: "nano-banana-2", input: { prompt: `through the pooler ${i}` } },
        }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    const ids = answers.map((answer) => answer.body.data.taskId as string);
    // Some are canceled on their way: the API's endings race the worker's and the callbacks'.
    const cancels = await Promise.all(
      ids
        .slice(0, 20)
        .map((id) => stack.request("POST", `/v1/tasks/${id}/cancel`, { key: apiKey })),
    );
    for (const cancel of cancels) expect([200, 409]).toContain(cancel.status);

    for (const id of ids) await stack.waitForTask(id, TERMINAL, 60_000);
    expect(await endingsNotOnce(stack.db.db, ids)).toEqual([]);
    const [{ succeeded } = { succeeded: 0 }] = await stack.db.db
      .select({ succeeded: sql<number>`count(*)::int` })
      .from(tasks)
      .where(sql`${tasks.accountId} = ${accountId} and ${tasks.status} = 'succeeded'`);
    expect(succeeded).toBeGreaterThan(100);
    const credits = await stack.request("GET", "/v1/credits", { key: apiKey });
    expect(credits.body.data).toMatchObject({ balance: granted - PRICE * succeeded, held: 0 });
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  }, 120_000);

  it("runs a batch to its end", async () => {
    const { apiKey, accountId } = await stack.createAccount(100 * PRICE);
    const res = await stack.request("POST", "/v1/batches", {
      key: apiKey,
      body: {
        requests: Array.from({ length: 100 }, (_, i) => ({
          model: "nano-banana-2",
          input: { prompt: `batch item ${i}` },
        })),
      },
    });
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
    const batchId = res.body.data.id as string;
    const items = await stack.db.db
      .select({ id: tasks.id })
      .from(tasks)
      .where(eq(tasks.batchId, batchId));
    expect(items).toHaveLength(100);
    for (const { id } of items) await stack.waitForTask(id, TERMINAL, 60_000);
    expect(
      await endingsNotOnce(
        stack.db.db,
        items.map((item) => item.id),
      ),
    ).toEqual([]);
    const summary = await getBatchSummary(stack.db.db, accountId, batchId);
    expect(summary).toMatchObject({ state: "ended", total: 100, active: 0, credits: { held: 0 } });
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  }, 120_000);

  it("migrates from three processes at once (a transaction's advisory lock)", async () => {
    const admin = new pg.Client({ connectionString: inject("pgAdminUrl") });
    const name = `ripen_t_${randomBytes(6).toString("hex")}`;
    await admin.connect();
    try {
      await admin.query(`create database ${name}`);
      const url = Object.assign(new URL(inject("pgAdminUrl")), { pathname: `/${name}` });
      const through = bouncer.through(url.toString());
      await Promise.all([1, 2, 3].map(() => migrateDatabase(through)));
      const migrated = createDb(url.toString(), { max: 1 });
      try {
        const { rows } = await migrated.pool.query<{ n: number; distinct: number }>(
          `select count(*)::int as n, count(distinct hash)::int as distinct
           from drizzle.__drizzle_migrations`,
        );
        expect(rows[0]!.n).toBeGreaterThan(0);
        expect(rows[0]!.n).toBe(rows[0]!.distinct);
      } finally {
        await migrated.close();
      }
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  }, 60_000);
});

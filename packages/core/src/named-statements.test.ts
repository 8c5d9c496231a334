/**
 * A named statement is planned once per connection: after five runs Postgres may keep a generic
 * plan for good, made from the table sizes of that moment. A plan made while a table was small
 * (a new deployment, every bench and test database) must not scan it whole once it has grown:
 * with a sequential scan of task_attempts in each ending's statement, every ending of a
 * 10,000-item batch cost more than the one before (the batches test took 95 s alone, 71 s
 * without it, and timed out at 240 s in a CI run).
 */
import { createDb, type DbHandle } from "@ripen/db";
import { createRunningTask, createTestDatabase, type TestDatabase } from "@ripen/testkit";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "./accounts";
import { findTasksAndLatestAttempts, findTasksWithAttempts } from "./attempts";
import { endTask } from "./task-ending/end-task";

let database: TestDatabase;
let oneConnection: DbHandle;
beforeAll(async () => {
  database = await createTestDatabase();
  // Prepared statements belong to a connection: one connection runs the work and is asked after.
  oneConnection = createDb(database.url, { max: 1 });
});
afterAll(async () => {
  await oneConnection?.close();
  await database?.drop();
});

const output = { urls: ["https://files.example/a.png"], metadata: {} };

/** Copies every row of `table` `times` times, the copies' `renamed` columns suffixed `-<n>`. */
async function grow(client: pg.PoolClient, table: string, renamed: string[], times: number) {
  const { rows } = await client.query<{ columns: string; copied: string }>(
    `select string_agg('copy.' || column_name, ', ' order by ordinal_position) as copied,
       string_agg(column_name, ', ' order by ordinal_position) as columns
     from information_schema.columns where table_name = $1 and is_generated = 'NEVER'`,
    [table],
  );
  const { columns, copied } = rows[0]!;
  const changes = renamed.map((column) => `'${column}', t.${column} || '-' || n`).join(", ");
  await client.query(
    `insert into ${table} (${columns})
     select ${copied} from ${table} t cross join generate_series(1, ${times}) n
     cross join lateral jsonb_populate_record(t, jsonb_build_object(${changes})) copy`,
  );
}

describe("named statements", () => {
  it("keep no plan that scans a grown table whole", async () => {
    const { db } = oneConnection;
    const { accountId } = await createAccount(db, { name: "plans", credits: 10_000 });
    // Each statement runs more than five times while the tables hold a few rows.
    for (let round = 0; round < 8; round++) {
      const { taskId, providerTaskId } = await createRunningTask(db, accountId);
      await findTasksAndLatestAttempts(db, [taskId]);
      await findTasksWithAttempts(db, [{ taskId, number: 1 }]);
      const callback = { provider: "aivideoapi", body: Buffer.from("{}"), headers: {} };
      const ending = await endTask(db, {
        taskId,
        outcome: { status: "succeeded", output },
        source: "callback",
        attempt: { number: 1, providerTaskId },
        callback,
      });
      expect(ending.applied).toBe(true);
    }
    const client = await oneConnection.pool.connect();
    const scans: string[] = [];
    try {
      // The tables grow to what a busy hour leaves in them, and nothing tells Postgres (no
      // ANALYZE); rolled back after, so the ledger stays whole.
      await client.query("begin");
      await grow(client, "tasks", ["id"], 2_500);
      await grow(client, "task_attempts", ["id", "task_id", "provider_task_id"], 2_500);
      await grow(client, "ledger_entries", ["id", "task_id", "idempotency_key", "hold_id"], 2_500);
      const { rows: statements } = await client.query<{ name: string; params: number }>(
        `select name, cardinality(parameter_types) as params from pg_prepared_statements
         where name like 'ripen\\_%' order by name`,
      );
      expect(statements.length).toBeGreaterThan(4);
      for (const { name, params } of statements) {
        const nulls = Array.from({ length: params }, () => "null").join(", ");
        const { rows } = await client.query<{ "QUERY PLAN": string }>(
          `explain (format text) execute ${name}(${nulls})`,
        );
        for (const { "QUERY PLAN": line } of rows) {
          const scanned = /Seq Scan on (tasks|task_attempts|ledger_entries)\b/.exec(line);
          if (scanned) scans.push(`${name}: ${scanned[0]}`);
        }
      }
    } finally {
      await client.query("rollback");
      client.release();
    }
    expect(scans).toEqual([]);
  });
});

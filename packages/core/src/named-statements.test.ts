/**
 * A named statement is planned once per connection: after five runs Postgres may keep a generic
 * plan until the table's statistics change, made from the table sizes of that moment. A plan
 * made while a table was small (a new deployment, every bench and test database), analyzed or
 * not, must not scan it whole once it has grown:
 * with a sequential scan of task_attempts in each ending's statement, every ending of a
 * 10,000-item batch cost more than the one before (the batches test took 95 s alone, 71 s
 * without it, and timed out at 240 s in a CI run).
 *
 * Nor may any statement that names its rows read every active task (open attempt, pending
 * delivery) when the statistics are from a quieter moment: the partial indexes of those looked
 * empty to the planner, which read one whole at each open, accept and ending (a 10,000-item batch
 * run after other work took 6.3 ms per open where it took 0.8 on a new database).
 */
import { createDb, type DbHandle } from "@ripen/db";
import { createRunningTask, createTestDatabase, type TestDatabase } from "@ripen/testkit";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "./accounts";
import { findTasksAndLatestAttempts, findTasksWithAttempts } from "./attempts";
import { finishDeliveryTry, giveUpDelivery, startDeliveryTry } from "./deliveries";
import { endGroup, endTask } from "./task-ending/end-task";
import { setNextWake } from "./tasks";

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

/**
 * Copies every row of `table` (those that meet `where`) `times` times, the copies' `renamed`
 * columns suffixed `-<n>`.
 */
async function grow(
  client: pg.ClientBase,
  table: string,
  renamed: string[],
  times: number,
  where = "true",
) {
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
     cross join lateral jsonb_populate_record(t, jsonb_build_object(${changes})) copy
     where ${where}`,
  );
}

describe("named statements", () => {
  it("keep no plan that scans a grown table whole", async () => {
    const { db } = oneConnection;
    const { accountId } = await createAccount(db, { name: "plans", credits: 10_000 });
    // Each statement runs more than five times while the tables hold a few rows, and again after
    // Postgres has analyzed them (a new deployment's autovacuum does, once 50 rows have changed):
    // an ANALYZE drops the kept plans, and the next ones are made from those statistics.
    for (let round = 0; round < 14; round++) {
      if (round === 8)
        await oneConnection.pool.query("analyze tasks, task_attempts, ledger_entries");
      const { taskId, providerTaskId } = await createRunningTask(db, accountId);
      await findTasksAndLatestAttempts(db, [taskId]);
      await findTasksWithAttempts(db, [{ taskId, number: 1 }]);
      await setNextWake(db, taskId, new Date(Date.now() + 1_000));
      await setNextWake(db, taskId, new Date(Date.now() + 1_000), {
        reason: "rate_limit",
        provider: "nanobanana",
      });
      const callbackEnding = {
        taskId,
        outcome: { status: "succeeded" as const, output },
        source: "callback",
        attempt: { number: 1, providerTaskId },
        callback: { provider: "aivideoapi", body: Buffer.from("{}"), headers: {} },
      };
      expect((await endTask(db, callbackEnding)).applied).toBe(true);
      // Its callback again: a duplicate reads the task it did not end.
      expect((await endTask(db, callbackEnding)).applied).toBe(false);
    }
    // The tables grow to what a busy hour leaves in them, and nothing tells Postgres (no
    // ANALYZE). From another connection: this one's foreign-key checks keep plans of their own,
    // made from the small tables' statistics, which would read the referred table whole for each
    // row copied.
    const grower = createDb(database.url, { max: 1 });
    const scans: string[] = [];
    try {
      const client = await grower.pool.connect();
      try {
        await grow(client, "tasks", ["id"], 1_500);
        await grow(client, "task_attempts", ["id", "task_id", "provider_task_id"], 1_500);
        await grow(
          client,
          "ledger_entries",
          ["id", "task_id", "idempotency_key", "hold_id"],
          1_500,
        );
      } finally {
        client.release();
      }
      const { rows: statements } = await oneConnection.pool.query<{ name: string; params: number }>(
        `select name, cardinality(parameter_types) as params from pg_prepared_statements
         where name like 'ripen\\_%' order by name`,
      );
      // The worker's read of tasks with their attempts among them, and an ending's statements.
      expect(statements.map(({ name }) => name)).toEqual(
        expect.arrayContaining([
          "ripen_find_tasks_and_latest_attempts",
          "ripen_settle_attempts",
          "ripen_resolve_holds",
          expect.stringMatching(/^ripen_transition_/),
        ]),
      );
      const asker = await oneConnection.pool.connect();
      try {
        for (const { name, params } of statements) {
          const nulls = Array.from({ length: params }, () => "null").join(", ");
          // As Postgres chooses (after five runs, a generic plan when it looks no dearer), and
          // the generic plan kept, as an ending's transaction runs them (`planByIndexes`).
          for (const generic of [false, true]) {
            await asker.query("begin");
            if (generic) await asker.query("set local plan_cache_mode = force_generic_plan");
            const { rows } = await asker.query<{ "QUERY PLAN": string }>(
              `explain (format text) execute ${name}(${nulls})`,
            );
            await asker.query("rollback");
            for (const { "QUERY PLAN": line } of rows) {
              const scanned = /Seq Scan on (tasks|task_attempts|ledger_entries)\b/.exec(line);
              if (scanned) scans.push(`${name}${generic ? " (generic)" : ""}: ${scanned[0]}`);
            }
          }
        }
      } finally {
        asker.release();
      }
    } finally {
      // The copies go, so the ledger stays whole for the database's check.
      await grower.pool.query("delete from ledger_entries where id like '%-%'");
      await grower.pool.query("delete from task_attempts where id like '%-%'");
      await grower.pool.query("delete from tasks where id like '%-%'");
      await grower.close();
    }
    expect(scans).toEqual([]);
  }, 90_000);
});

/** A plan node as `auto_explain` reports it in JSON (the fields read here). */
interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Join Filter"?: number;
  Plans?: PlanNode[];
}

/** Each scan of `tables` in `plan` with the rows it read (returned and filtered out). */
function scansOf(plan: PlanNode, tables: readonly string[]): Array<{ node: string; rows: number }> {
  const own =
    plan["Relation Name"] && tables.includes(plan["Relation Name"])
      ? [
          {
            node: `${plan["Node Type"]} on ${plan["Relation Name"]}${plan["Index Name"] ? ` using ${plan["Index Name"]}` : ""}`,
            rows:
              ((plan["Actual Rows"] ?? 0) + (plan["Rows Removed by Filter"] ?? 0)) *
              (plan["Actual Loops"] ?? 1),
          },
        ]
      : [];
  return [...own, ...(plan.Plans ?? []).flatMap((child) => scansOf(child, tables))];
}

/**
 * From now on, every statement the pool's one connection runs has its plan, as run, collected
 * (`auto_explain` at the notice level) until `stop`.
 */
async function explainEachStatement(pool: pg.Pool) {
  const plans: Array<{ query: string; plan: PlanNode }> = [];
  let explaining = true;
  const client = await pool.connect();
  try {
    await client.query("load 'auto_explain'");
    await client.query(`set auto_explain.log_min_duration = 0;
      set auto_explain.log_analyze = on; set auto_explain.log_format = json;
      set auto_explain.log_level = notice`);
    client.on("notice", (notice) => {
      if (!explaining) return;
      const text = notice.message ?? "";
      const explained = JSON.parse(text.slice(text.indexOf("{"))) as {
        "Query Text": string;
        Plan: PlanNode;
      };
      plans.push({ query: explained["Query Text"], plan: explained.Plan });
    });
  } finally {
    client.release();
  }
  return {
    plans,
    stop() {
      explaining = false;
    },
  };
}

/** The scans of `tables` in `plans` that read more than `most` rows, described. */
function heavyScans(
  plans: ReadonlyArray<{ query: string; plan: PlanNode }>,
  tables: readonly string[],
  most: number,
): string[] {
  return plans.flatMap(({ query, plan }) =>
    scansOf(plan, tables)
      .filter((scan) => scan.rows > most)
      .map(
        (scan) => `${scan.node}: ${scan.rows} rows in ${query.replace(/\s+/g, " ").slice(0, 60)}`,
      ),
  );
}

describe("statements that name their rows", () => {
  it("read those tasks, not every active one, when the statistics say few are active", async () => {
    const handle = createDb(database.url, { max: 1 });
    const { db, pool } = handle;
    let explained: Awaited<ReturnType<typeof explainEachStatement>> | undefined;
    try {
      const { accountId } = await createAccount(db, { name: "stale statistics", credits: 100_000 });
      // A quiet moment: tasks have run and ended, none is active, and Postgres analyzes then.
      for (let i = 0; i < 20; i++) {
        const { taskId, providerTaskId } = await createRunningTask(db, accountId);
        await endTask(db, {
          taskId,
          outcome: { status: "succeeded", output },
          source: "callback",
          attempt: { number: 1, providerTaskId },
        });
      }
      await pool.query("alter table tasks set (autovacuum_enabled = false)");
      await pool.query("alter table task_attempts set (autovacuum_enabled = false)");
      await pool.query("analyze tasks, task_attempts");
      // Then a batch's worth of tasks runs at once, before the next ANALYZE: 5,000 running tasks
      // with their open attempts.
      const running = await Promise.all(
        Array.from({ length: 10 }, () => createRunningTask(db, accountId)),
      );
      const client = await pool.connect();
      try {
        const ids = running.map((task) => task.taskId);
        await grow(client, "tasks", ["id"], 500, `t.id = any('{${ids.join(",")}}')`);
        await grow(
          client,
          "task_attempts",
          ["id", "task_id", "provider_task_id"],
          500,
          `t.task_id = any('{${ids.join(",")}}')`,
        );
      } finally {
        client.release();
      }
      // Every statement the connection runs from here has its plan, as run, collected.
      explained = await explainEachStatement(pool);

      // What the worker and the callbacks service do to a few of them: open and accept new
      // attempts, read tasks with their attempts, end one task and then a group.
      const fresh = await Promise.all(
        Array.from({ length: 3 }, () => createRunningTask(db, accountId)),
      );
      await findTasksAndLatestAttempts(
        db,
        running.map((task) => task.taskId),
      );
      await findTasksWithAttempts(
        db,
        running.map((task) => ({ taskId: task.taskId, number: 1 })),
      );
      // A poll's next wake-up, and a wait for a provider's limit.
      await setNextWake(db, running[0]!.taskId, new Date(Date.now() + 1_000));
      await setNextWake(db, running[1]!.taskId, new Date(Date.now() + 1_000), {
        reason: "rate_limit",
        provider: "nanobanana",
      });
      const [first, ...rest] = [...fresh, ...running];
      await endTask(db, {
        taskId: first!.taskId,
        outcome: { status: "succeeded", output },
        source: "callback",
        attempt: { number: 1, providerTaskId: first!.providerTaskId },
        callback: { provider: "aivideoapi", body: Buffer.from("{}"), headers: {} },
      });
      await endGroup(db, {
        endings: rest.map((task, i) => ({
          taskId: task.taskId,
          outcome:
            i % 2 === 0
              ? { status: "succeeded" as const, output }
              : { status: "failed" as const, errorCode: "upstream_failed", errorMessage: "x" },
          attempt: { number: 1, providerTaskId: task.providerTaskId },
        })),
        source: "callback",
        now: new Date(),
      });
    } finally {
      explained?.stop();
      // The copies have no holds: gone before the database's ledger check.
      await pool.query("delete from task_attempts where task_id like '%-%'");
      await pool.query("delete from tasks where id like '%-%'");
      await handle.close();
    }

    expect(explained?.plans.length).toBeGreaterThan(10);
    // At most a dozen tasks are named at once: a statement that reads more than a few hundred
    // rows of these tables read the active ones whole.
    expect(heavyScans(explained?.plans ?? [], ["tasks", "task_attempts"], 200)).toEqual([]);
  });

  it("a delivery's try reads its row, not every pending delivery, when few looked pending", async () => {
    const handle = createDb(database.url, { max: 1 });
    const { db, pool } = handle;
    let explained: Awaited<ReturnType<typeof explainEachStatement>> | undefined;
    try {
      const { accountId } = await createAccount(db, { name: "stale delivery statistics" });
      const insert = (state: string, count: number, prefix: string) =>
        pool.query(
          `insert into deliveries (id, account_id, event, url, body, state, next_try_at)
           select $1 || n, $2, 'task.completed', 'https://client.example/hook', '{}',
             $3::delivery_state, case when $3 = 'pending' then now() end
           from generate_series(1, $4::int) n`,
          [prefix, accountId, state, count],
        );
      // A quiet moment: every delivery so far was sent, and Postgres analyzes then.
      await insert("succeeded", 20, "dlv_sent_");
      await pool.query("alter table deliveries set (autovacuum_enabled = false)");
      await pool.query("analyze deliveries");
      // Then a burst of endings with callback URLs, before the next ANALYZE.
      await insert("pending", 5_000, "dlv_burst_");
      explained = await explainEachStatement(pool);

      const now = new Date();
      const started = await startDeliveryTry(db, {
        deliveryId: "dlv_burst_1",
        expectedTries: 0,
        now,
        leaseMs: 30_000,
      });
      expect(started).not.toBeNull();
      await finishDeliveryTry(db, {
        started: started!,
        result: { status: 503, latencyMs: 5, error: "HTTP 503", excerpt: null },
        schedule: [1_000, 5_000],
        now,
      });
      await giveUpDelivery(db, "dlv_burst_2", now);
    } finally {
      explained?.stop();
      await handle.close();
    }
    expect(explained?.plans.length).toBeGreaterThan(3);
    expect(heavyScans(explained?.plans ?? [], ["deliveries"], 200)).toEqual([]);
  });
});

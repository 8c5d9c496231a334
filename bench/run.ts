/**
 * `npm run bench [-- [--quick] [phase letters…]]`: Ripen's services each in their own process
 * (API, worker, callbacks, sandbox), driven from this process over HTTP, next to a bare express
 * baseline measured in the same run. Prints figures and ratios; asserts nothing. With letters
 * (`npm run bench -- --quick g`), only those phases run; without, all of them.
 *
 * Throwaway state: databases ripen_bench_<pid>[_create] on the Postgres server of DATABASE_URL
 * (default postgres://postgres@127.0.0.1:5432), and a private redis-server on a free port
 * (or, without redis-server on PATH, the Redis at 127.0.0.1:6379 under a unique queue prefix).
 * All of it is removed at the end, also when a phase fails or on Ctrl+C.
 */
import os from "node:os";
import { createAccount } from "@ripen/core";
import { createDb, type DbHandle, migrateDatabase } from "@ripen/db";
import { ensureRedis, freePort, redactUrl } from "@ripen/infra";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import pg from "pg";
import { answers, rssBytes, type Service, spawnService, waitUntil } from "./processes";
import { int, mib, ms, Report, ratio } from "./report";

const quick = process.argv.includes("--quick");
const PHASES = ["a", "b", "c", "d", "e", "f", "g"];
const selected = process.argv
  .slice(2)
  .filter((arg) => !arg.startsWith("-"))
  .map((arg) => arg.toLowerCase());
const unknownPhases = selected.filter((letter) => !PHASES.includes(letter));
if (unknownPhases.length > 0) {
  console.error(`unknown phase ${unknownPhases.join(", ")}: the phases are ${PHASES.join(" ")}`);
  process.exit(2);
}
const runs = (letter: string) => selected.length === 0 || selected.includes(letter);
const plan = quick
  ? {
      warmupS: 1,
      createS: 3,
      doorRounds: 2,
      doorRoundS: 2,
      e2eTasks: 300,
      callbackTasks: 50,
      callsTasks: 100,
      inflight: 1_000,
    }
  : {
      warmupS: 2,
      createS: 10,
      doorRounds: 2,
      doorRoundS: 5,
      e2eTasks: 2_000,
      callbackTasks: 200,
      callsTasks: 300,
      inflight: 10_000,
    };
/** Phase f: a batch of this many items against this many interactive creates. */
const fairness = quick ? { batch: 500, interactive: 20 } : { batch: 2_000, interactive: 50 };
const CONNECTIONS = 50;
const ACCOUNTS = 10;
const CREATE_BODY = JSON.stringify({
  model: "nano-banana-2",
  input: { prompt: "a benchmark cat" },
});
const LONG_GENERATION_MS = 3_600_000;

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
/** Closers run in reverse at the end, each bounded, whatever happened before. */
const teardown: Array<{ name: string; run: () => Promise<unknown> }> = [];
async function tearDown(): Promise<void> {
  while (teardown.length > 0) {
    const { name, run } = teardown.pop()!;
    const bounded = new Promise((_r, reject) =>
      setTimeout(() => reject(new Error("took over 30 s")), 30_000).unref(),
    );
    await Promise.race([run(), bounded]).catch((error: unknown) =>
      log(`cleanup: ${name} failed: ${(error as Error).message}`),
    );
  }
}

const report = new Report();

// ---------------------------------------------------------------------------------------------
// Infrastructure: databases, Redis, ports, services

// Only the server of DATABASE_URL is used; the bench's databases are its own.
const pgServer = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const dbName = `ripen_bench_${process.pid}`;
const dbUrl = (name: string) =>
  Object.assign(new URL(pgServer), { pathname: `/${name}` }).toString();
const prefix = `{bench-${process.pid}}`;
const createPrefix = `{bench-${process.pid}-create}`;

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: dbUrl("postgres") });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** A migrated throwaway database, dropped at the end. */
async function throwawayDatabase(name: string): Promise<DbHandle> {
  teardown.push({
    name: `drop database ${name}`,
    run: () => adminQuery(`drop database if exists ${name} with (force)`),
  });
  await adminQuery(`create database ${name}`);
  await migrateDatabase(dbUrl(name));
  const db = createDb(dbUrl(name), { max: 4 });
  teardown.push({ name: `pool of ${name}`, run: db.close });
  return db;
}

async function privateRedis(): Promise<{ url: string; label: string; shared: boolean }> {
  const url = `redis://127.0.0.1:${await freePort()}`;
  try {
    const redis = await ensureRedis({ url, log: () => {}, spawnFallback: true });
    teardown.push({ name: "redis-server", run: redis.stop });
    return { url, label: "private redis-server", shared: false };
  } catch (error) {
    log(`no private redis-server (${(error as Error).message}); using 127.0.0.1:6379`);
    return { url: "redis://127.0.0.1:6379", label: "shared, unique prefix", shared: true };
  }
}

/** Deletes every key under a queue prefix (only needed on a shared Redis). */
async function deleteKeys(redis: Redis, keyPrefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

function startService(
  name: string,
  entry: string,
  env: Record<string, string>,
  args: string[] = [],
): Service {
  // Once cleanup has begun, the phase still running must not start what nobody will stop.
  if (finishing) throw new Error("stopping");
  const service = spawnService(name, entry, env, args);
  teardown.push({ name, run: service.stop });
  return service;
}

async function createAccounts(db: DbHandle, count: number, label: string): Promise<AccountSet> {
  const accounts: Array<{ accountId: string; apiKey: string }> = [];
  for (let i = 0; i < count; i++) {
    accounts.push(await createAccount(db.db, { name: `${label}-${i}`, credits: 100_000_000 }));
  }
  return { ids: accounts.map((a) => a.accountId), keys: accounts.map((a) => a.apiKey) };
}

interface AccountSet {
  ids: string[];
  keys: string[];
}

async function statusCounts(db: DbHandle, accountIds: string[]): Promise<Record<string, number>> {
  const { rows } = await db.pool.query<{ status: string; n: number }>(
    "select status, count(*)::int as n from tasks where account_id = any($1) group by status",
    [accountIds],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

const TERMINAL = ["succeeded", "failed", "canceled", "expired"];
const sum = (counts: Record<string, number>, statuses: string[]) =>
  statuses.reduce((total, s) => total + (counts[s] ?? 0), 0);

/** How a request carries its key: native and most doors send a Bearer token, revid `x-api-key`. */
type KeyHeader = (key: string) => Record<string, string>;
const bearer: KeyHeader = (key) => ({ authorization: `Bearer ${key}` });

/** Create-task load with autocannon; keys are spread across requests in turn. */
function cannon(
  url: string,
  options: {
    keys: string[];
    duration?: number;
    amount?: number;
    connections?: number;
    body?: string;
    keyHeader?: KeyHeader;
    /** Every answer's status and time, for figures that add up over several runs. */
    onResponse?: (status: number, ms: number) => void;
  },
): Promise<autocannon.Result> {
  let next = 0;
  const { keys } = options;
  const keyHeader = options.keyHeader ?? bearer;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: "POST",
        connections: options.connections ?? CONNECTIONS,
        // autocannon rejects a duration key that is present but undefined.
        ...(options.amount === undefined
          ? { duration: options.duration }
          : { amount: options.amount }),
        timeout: 10,
        headers: { "content-type": "application/json" },
        body: options.body ?? CREATE_BODY,
        requests:
          keys.length > 0
            ? [
                {
                  setupRequest: (req) => ({
                    ...req,
                    headers: { ...req.headers, ...keyHeader(keys[next++ % keys.length]!) },
                  }),
                },
              ]
            : undefined,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    const { onResponse } = options;
    if (onResponse)
      instance.on("response", (_client, status, _bytes, ms) => onResponse(status, ms));
  });
}

const reqPerS = (r: autocannon.Result) => r.requests.total / r.duration;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cpus = os.cpus();
  const redisInfo = await privateRedis();
  const redis = new Redis(redisInfo.url, { maxRetriesPerRequest: 1 });
  redis.on("error", () => {});
  teardown.push({
    name: "redis client",
    run: async () => {
      if (redisInfo.shared) {
        await deleteKeys(redis, prefix);
        await deleteKeys(redis, createPrefix);
      }
      redis.disconnect();
    },
  });
  const pgVersion = await (async () => {
    const client = new pg.Client({ connectionString: dbUrl("postgres") });
    await client.connect();
    try {
      const { rows } = await client.query<{ v: string }>(
        "select current_setting('server_version') as v",
      );
      return rows[0]?.v ?? "?";
    } finally {
      await client.end();
    }
  })();
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info("server"))?.[1] ?? "?";
  const machine = [
    `Ripen bench${quick ? " (--quick)" : ""}${selected.length > 0 ? `, phases ${selected.join(" ")}` : ""}, ${new Date().toISOString().slice(0, 16)}Z`,
    `machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? "?"}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
      `${os.type()} ${os.release()}, Node ${process.version}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")} at start`,
    `Postgres ${pgVersion} at ${redactUrl(pgServer)}; Redis ${redisVersion} (${redisInfo.label})`,
    "Services run as separate processes (node --import tsx), NODE_ENV=production, LOG_LEVEL=warn;",
    "load comes from this process (autocannon), on the same machine.",
  ];
  console.log(machine.join("\n"));

  const ports = {
    baseline: await freePort(),
    apiCreate: await freePort(),
    api: await freePort(),
    callbacks: await freePort(),
    sandbox: await freePort(),
    workerHealth: await freePort(),
  };
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const common = {
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    REDIS_URL: redisInfo.url,
    CALLBACK_SECRET: "bench-callback-secret-0123456789",
  };

  log("creating databases");
  // Phase a gets its own database and queue prefix: the tasks it creates are never worked on, and
  // must not reach the worker (or its sweep) in the later phases.
  const createDbHandle = await throwawayDatabase(`${dbName}_create`);
  const db = await throwawayDatabase(dbName);

  let baselineReqPerS: number | undefined;
  const startBaseline = async () => {
    const baseline = startService(
      "baseline",
      "bench/baseline-server.ts",
      {
        NODE_ENV: "production",
      },
      [String(ports.baseline)],
    );
    await waitUntil("the baseline", 60_000, answers(`${url(ports.baseline)}/healthz`), baseline);
    return baseline;
  };

  // ----- a. create-task ------------------------------------------------------------------------
  await phase("a. create-task", async () => {
    const baseline = await startBaseline();
    const api = startService("api (phase a)", "apps/api/src/main.ts", {
      ...common,
      DATABASE_URL: dbUrl(`${dbName}_create`),
      QUEUE_PREFIX: createPrefix,
      API_PORT: String(ports.apiCreate),
    });
    await waitUntil("the API", 60_000, answers(`${url(ports.apiCreate)}/readyz`), api);
    const many = await createAccounts(createDbHandle, ACCOUNTS, "bench-a");
    const one = { ids: many.ids.slice(0, 1), keys: many.keys.slice(0, 1) };

    const targets = [
      { label: "baseline: express, constant JSON", url: url(ports.baseline), keys: [] },
      { label: `Ripen, ${ACCOUNTS} accounts`, url: url(ports.apiCreate), keys: many.keys },
      { label: "Ripen, 1 account", url: url(ports.apiCreate), keys: one.keys },
    ];
    const rows: string[][] = [];
    for (const target of targets) {
      const path = `${target.url}/v1/images/generations`;
      log(`a: ${target.label}: warm-up ${plan.warmupS} s, then ${plan.createS} s`);
      await cannon(path, { keys: target.keys, duration: plan.warmupS });
      const result = await cannon(path, { keys: target.keys, duration: plan.createS });
      const rate = reqPerS(result);
      baselineReqPerS ??= rate;
      rows.push([
        target.label,
        int(rate),
        ms(result.latency.p50),
        ms(result.latency.p99),
        int(result.non2xx),
        int(result.errors + result.timeouts),
        ratio(rate, baselineReqPerS),
      ]);
    }
    report.table(
      `a. create-task: ${CONNECTIONS} connections, ${plan.createS} s each (after ${plan.warmupS} s warm-up), worker not running`,
      ["target", "req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "vs baseline"],
      rows,
    );
    await api.stop();
    await baseline.stop();
  });

  // ----- g. doors: the same create through native and each front door -------------------------
  await phase("g. doors", async () => {
    const baseline = await startBaseline();
    const api = startService("api (phase g)", "apps/api/src/main.ts", {
      ...common,
      DATABASE_URL: dbUrl(`${dbName}_create`),
      QUEUE_PREFIX: createPrefix,
      API_PORT: String(ports.apiCreate),
    });
    try {
      await waitUntil("the API", 60_000, answers(`${url(ports.apiCreate)}/readyz`), api);
      await measureDoors(createDbHandle, url(ports.baseline), url(ports.apiCreate));
    } finally {
      await api.stop();
      await baseline.stop();
    }
  });

  // ----- the system for b–f --------------------------------------------------------------------
  if (!["b", "c", "d", "e", "f"].some(runs)) return;
  let sandbox: Service | undefined;
  const startSandbox = async (generationMs: number, lossRate: number) => {
    await sandbox?.stop();
    sandbox = startService(`sandbox (generation ${generationMs} ms)`, "apps/sandbox/src/main.ts", {
      NODE_ENV: "production",
      SANDBOX_PORT: String(ports.sandbox),
      SANDBOX_GENERATION_MS: String(generationMs),
      SANDBOX_CALLBACK_LOSS_RATE: String(lossRate),
    });
    await waitUntil(
      "the sandbox",
      60_000,
      answers(`${url(ports.sandbox)}/_sandbox/stats`),
      sandbox,
    );
  };
  const sandboxStats = async () =>
    (await (await fetch(`${url(ports.sandbox)}/_sandbox/stats`)).json()) as {
      created: number;
      submitCalls: number;
      statusCalls: number;
    };

  let worker: Service | undefined;
  let systemUp = false;
  await phase("start the system", async () => {
    log("starting sandbox, callbacks, worker and API");
    const env = { ...common, DATABASE_URL: dbUrl(dbName), QUEUE_PREFIX: prefix };
    const callbacks = startService("callbacks", "apps/callbacks/src/main.ts", {
      ...env,
      CALLBACKS_PORT: String(ports.callbacks),
    });
    const api = startService("api", "apps/api/src/main.ts", {
      ...env,
      API_PORT: String(ports.api),
    });
    worker = startService("worker", "apps/worker/src/main.ts", {
      ...env,
      PUBLIC_CALLBACK_URL: url(ports.callbacks),
      SANDBOX_PORT: String(ports.sandbox),
      WORKER_HEALTH_PORT: String(ports.workerHealth),
    });
    await startSandbox(0, 0);
    await waitUntil("callbacks", 60_000, answers(`${url(ports.callbacks)}/readyz`), callbacks);
    await waitUntil("the API", 60_000, answers(`${url(ports.api)}/readyz`), api);
    await waitUntil("the worker", 60_000, answers(`${url(ports.workerHealth)}/readyz`), worker);
    systemUp = true;
  });
  if (!systemUp) return;
  const createUrl = `${url(ports.api)}/v1/images/generations`;

  /** Waits until `count` tasks of these accounts are in `statuses`; returns when and how many. */
  const settle = async (
    accounts: AccountSet,
    count: number,
    statuses: string[],
    timeoutMs: number,
  ) => {
    let counts: Record<string, number> = {};
    const deadline = Date.now() + timeoutMs;
    // Out of process: the database is the only place to see it, so it is polled.
    for (;;) {
      counts = await statusCounts(db, accounts.ids);
      if (sum(counts, statuses) >= count || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { at: performance.now(), counts, timedOut: sum(counts, statuses) < count };
  };
  const describeCounts = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([status, n]) => `${status} ${int(n)}`)
      .join(", ");

  /** Waits (bounded) for the task queue to hold no job, so late polls are counted too. */
  const queueDrained = async (timeoutMs: number) => {
    const key = (name: string) => `${prefix}:tasks:${name}`;
    await waitUntil("the task queue to drain", timeoutMs, async () => {
      const [delayed, wait, active, prioritized] = await Promise.all([
        redis.zcard(key("delayed")),
        redis.llen(key("wait")),
        redis.llen(key("active")),
        redis.zcard(key("prioritized")),
      ]);
      return delayed + wait + active + prioritized === 0;
    }).catch((error: Error) => log(`d: ${error.message}`));
  };

  // ----- b. end to end -------------------------------------------------------------------------
  await phase("b. end to end", async () => {
    const accounts = await createAccounts(db, ACCOUNTS, "bench-b");
    log(`b: ${plan.e2eTasks} tasks, sandbox generation 0`);
    const before = await sandboxStats();
    const started = performance.now();
    const created = await cannon(createUrl, { keys: accounts.keys, amount: plan.e2eTasks });
    const createdIn = (performance.now() - started) / 1000;
    const accepted = created["2xx"];
    const done = await settle(accounts, accepted, TERMINAL, quick ? 30_000 : 90_000);
    const seconds = (done.at - started) / 1000;
    const succeeded = done.counts.succeeded ?? 0;
    const rate = succeeded / seconds;
    const after = await sandboxStats();
    const perTask = (n: number) => (n / Math.max(1, accepted)).toFixed(2);
    report.table(
      `b. end to end (API → worker → sandbox → callback → settled), sandbox generation 0`,
      [
        "tasks accepted",
        "created in s",
        "settled in s",
        "succeeded",
        "tasks/s",
        "vs baseline req/s",
        "status calls/task",
      ],
      [
        [
          int(accepted),
          createdIn.toFixed(1),
          seconds.toFixed(1),
          int(succeeded),
          int(rate),
          ratio(rate, baselineReqPerS),
          perTask(after.statusCalls - before.statusCalls),
        ],
      ],
      done.timedOut ? [`(stopped waiting: ${describeCounts(done.counts)})`] : [],
    );
  });

  // ----- f. fairness: interactive creates while a large batch runs -----------------------------
  await phase("f. fairness", async () => {
    const interactive = await createAccounts(db, ACCOUNTS, "bench-f");
    const batchOwner = await createAccounts(db, 1, "bench-f-batch");
    const batchUrl = `${url(ports.api)}/v1/batches`;
    /** Creates `n` interactive tasks at once; their completion times from Postgres, sorted. */
    const interactiveRound = async (keys: string[]) => {
      const ids = await Promise.all(
        Array.from({ length: fairness.interactive }, async (_, i) => {
          const res = await fetch(createUrl, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              authorization: `Bearer ${keys[i % keys.length]}`,
            },
            body: CREATE_BODY,
          });
          const body = (await res.json()) as { data?: { taskId?: string } };
          if (!body.data?.taskId) throw new Error(`create answered ${res.status}`);
          return body.data.taskId;
        }),
      );
      const completionMs = async () => {
        const { rows } = await db.pool.query<{ ms: number | null }>(
          `select (extract(epoch from (completed_at - created_at)) * 1000)::float8 as ms
           from tasks where id = any($1) and status in ('succeeded', 'failed', 'expired')`,
          [ids],
        );
        return rows.map((r) => r.ms ?? 0);
      };
      await waitUntil("the interactive tasks", quick ? 60_000 : 120_000, async () => {
        return (await completionMs()).length === ids.length;
      });
      return (await completionMs()).sort((a, b) => a - b);
    };
    log(`f: ${fairness.interactive} interactive tasks alone`);
    const alone = await interactiveRound(interactive.keys);
    log(`f: a ${int(fairness.batch)}-item batch, then ${fairness.interactive} interactive tasks`);
    // The batch's own account creates too: its batch must not starve its own interactive work.
    const started = performance.now();
    const batchRes = await fetch(batchUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${batchOwner.keys[0]}`,
      },
      body: JSON.stringify({
        requests: Array.from({ length: fairness.batch }, (_, i) => ({
          model: "nano-banana-2",
          input: { prompt: `a batch cat ${i}` },
        })),
      }),
    });
    const acceptMs = performance.now() - started;
    const batch = ((await batchRes.json()) as { data?: { id?: string } }).data;
    if (!batch?.id) throw new Error(`batch create answered ${batchRes.status}`);
    const during = await interactiveRound([...interactive.keys, batchOwner.keys[0]!]);
    const left = await db.pool.query<{ n: number }>(
      "select count(*)::int as n from tasks where batch_id = $1 and status in ('queued', 'submitting', 'running')",
      [batch.id],
    );
    const batchLeft = left.rows[0]?.n ?? 0;
    // Let the batch finish (bounded) so later phases start from an idle queue.
    const drained = await waitUntil("the batch", quick ? 60_000 : 180_000, async () => {
      const { rows } = await db.pool.query<{ state: string }>(
        "select state from batches where id = $1",
        [batch.id],
      );
      return rows[0]?.state !== "running";
    })
      .then(() => true)
      .catch(() => false);
    const batchSeconds = (performance.now() - started) / 1000;
    if (!drained) {
      await fetch(`${batchUrl}/${batch.id}/cancel`, {
        method: "POST",
        headers: { authorization: `Bearer ${batchOwner.keys[0]}` },
      });
    }
    const p = (sorted: number[], q: number) => percentile(sorted, q);
    report.table(
      `f. fairness: ${fairness.interactive} interactive creates alone, and right after a ${int(fairness.batch)}-item batch (sandbox generation 0)`,
      ["interactive", "p50 ms", "p99 ms", "max ms", "batch items left when they ended"],
      [
        ["alone", ms(p(alone, 0.5)), ms(p(alone, 0.99)), ms(alone.at(-1) ?? Number.NaN), "—"],
        [
          "with the batch",
          ms(p(during, 0.5)),
          ms(p(during, 0.99)),
          ms(during.at(-1) ?? Number.NaN),
          int(batchLeft),
        ],
      ],
      [
        `p99 with the batch / alone: ${ratio(p(during, 0.99), p(alone, 0.99))}; the batch was accepted in ${ms(acceptMs)} ms and ${drained ? `ended after ${batchSeconds.toFixed(1)} s` : "was canceled (still running at the time limit)"}.`,
      ],
    );
  });

  // ----- d. upstream calls per task ------------------------------------------------------------
  const callRows: string[][] = [];
  const callNotes: string[] = [];
  for (const [label, lossRate] of [
    ["callbacks delivered", 0],
    ["callbacks all lost", 1],
  ] as const) {
    await phase(`d. upstream calls (${label})`, async () => {
      await startSandbox(2_000, lossRate);
      const accounts = await createAccounts(db, ACCOUNTS, `bench-d${lossRate}`);
      log(`d: ${plan.callsTasks} tasks, generation 2 s, ${label}`);
      const before = await sandboxStats();
      const created = await cannon(createUrl, {
        keys: accounts.keys,
        amount: plan.callsTasks,
        connections: 10,
      });
      const done = await settle(accounts, created["2xx"], TERMINAL, 60_000);
      await queueDrained(40_000);
      const after = await sandboxStats();
      const tasks = sum(done.counts, TERMINAL) || 1;
      const submits = (after.submitCalls - before.submitCalls) / tasks;
      const statuses = (after.statusCalls - before.statusCalls) / tasks;
      callRows.push([
        label,
        int(tasks),
        submits.toFixed(2),
        statuses.toFixed(2),
        (submits + statuses).toFixed(2),
      ]);
      if (done.timedOut)
        callNotes.push(`(${label}: stopped waiting: ${describeCounts(done.counts)})`);
    });
  }
  if (callRows.length > 0) {
    report.table(
      "d. upstream calls per task (submit + status, from /_sandbox/stats), sandbox generation 2 s",
      ["callbacks", "tasks", "submit/task", "status/task", "total/task"],
      callRows,
      callNotes,
    );
  }

  // ----- c. callback received → readable -------------------------------------------------------
  await phase("c. callback → readable", async () => {
    await startSandbox(LONG_GENERATION_MS, 1);
    const accounts = await createAccounts(db, 1, "bench-c");
    const key = accounts.keys[0]!;
    log(`c: ${plan.callbackTasks} tasks held running upstream; posting their callbacks`);
    const ids: string[] = [];
    for (let i = 0; i < plan.callbackTasks; i += 10) {
      const batch = Math.min(10, plan.callbackTasks - i);
      const replies = await Promise.all(
        Array.from({ length: batch }, () =>
          fetch(createUrl, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: CREATE_BODY,
          }).then((r) => r.json() as Promise<{ data?: { taskId?: string } }>),
        ),
      );
      for (const reply of replies) if (reply.data?.taskId) ids.push(reply.data.taskId);
    }
    const running = await settle(accounts, ids.length, ["running"], 60_000);
    if (running.timedOut) log(`c: not all running: ${describeCounts(running.counts)}`);

    // The callback URL (and its token) is what the worker told the sandbox.
    const { tasks } = (await (await fetch(`${url(ports.sandbox)}/_sandbox/tasks`)).json()) as {
      tasks: Array<{ id: string; model: string; callbackUrl: string | null; createdAt: number }>;
    };
    const upstream = new Map(
      tasks.flatMap((t) => {
        const ripenId = ids.find((id) => t.callbackUrl?.includes(`/${id}/`));
        return ripenId ? [[ripenId, t] as const] : [];
      }),
    );

    // Reference: one round trip to the baseline, one request at a time.
    const baseline = await startBaseline();
    const roundTrips: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const t0 = performance.now();
      await (await fetch(`${url(ports.baseline)}/v1/x`, { method: "POST", body: "{}" })).text();
      roundTrips.push(performance.now() - t0);
    }
    await baseline.stop();

    const posted: number[] = [];
    const readable: number[] = [];
    let rejected = 0;
    let unread = 0;
    for (const id of ids) {
      const task = upstream.get(id);
      if (!task?.callbackUrl) continue;
      const now = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({
        id: task.id,
        status: "completed",
        model: task.model,
        created_at: Math.floor(task.createdAt / 1000),
        completed_at: now,
        output: {
          urls: [`${url(ports.sandbox)}/files/${task.id}.jpg`],
          metadata: { model: task.model, costTime: 1_000 },
        },
      });
      const t0 = performance.now();
      const answer = await fetch(task.callbackUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      await answer.text();
      posted.push(performance.now() - t0);
      if (answer.status !== 200) rejected++;
      const deadline = t0 + 10_000;
      let seen = false;
      while (!seen && performance.now() < deadline) {
        const read = await fetch(`${url(ports.api)}/v1/tasks/${id}`, {
          headers: { authorization: `Bearer ${key}` },
        });
        seen = ((await read.json()) as { status?: string }).status === "completed";
      }
      if (seen) readable.push(performance.now() - t0);
      else unread++;
    }
    const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
    const [p, r, b] = [sorted(posted), sorted(readable), sorted(roundTrips)];
    report.table(
      `c. provider callback → task readable as completed (${int(readable.length)} tasks, one at a time; sandbox generation 1 h, callbacks lost, so only the bench posts them)`,
      ["measure", "p50 ms", "p99 ms", "vs baseline p50"],
      [
        [
          "callback POST answered",
          ms(percentile(p, 0.5)),
          ms(percentile(p, 0.99)),
          ratio(percentile(p, 0.5), percentile(b, 0.5)),
        ],
        [
          "readable as completed (GET)",
          ms(percentile(r, 0.5)),
          ms(percentile(r, 0.99)),
          ratio(percentile(r, 0.5), percentile(b, 0.5)),
        ],
        ["baseline round trip", ms(percentile(b, 0.5)), ms(percentile(b, 0.99)), "1.00"],
      ],
      [
        ...(upstream.size < ids.length
          ? [`(${ids.length - upstream.size} of ${ids.length} tasks never reached the sandbox)`]
          : []),
        ...(rejected ? [`(${rejected} callbacks answered non-200)`] : []),
        ...(unread ? [`(${unread} tasks not readable as completed within 10 s)`] : []),
      ],
    );
  });

  // ----- e. memory with many tasks in flight ---------------------------------------------------
  await phase("e. tasks in flight", async () => {
    if (!worker) throw new Error("no worker");
    const workerPid = worker.pid;
    const accounts = await createAccounts(db, ACCOUNTS, "bench-e");
    const memory = async () => Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1]);
    const rssBefore = await rssBytes(workerPid);
    const redisBefore = await memory();
    log(`e: ${int(plan.inflight)} tasks, generation 1 h, callbacks lost`);
    let peak = rssBefore ?? 0;
    const sampler = setInterval(() => {
      void rssBytes(workerPid).then((rss) => {
        peak = Math.max(peak, rss ?? 0);
      });
    }, 250);
    const done = await (async () => {
      const created = await cannon(createUrl, { keys: accounts.keys, amount: plan.inflight });
      return settle(accounts, created["2xx"], ["running"], quick ? 40_000 : 120_000);
    })().finally(() => clearInterval(sampler));
    const rssAfter = await rssBytes(workerPid);
    peak = Math.max(peak, rssAfter ?? 0);
    const redisAfter = await memory();
    const active = sum(done.counts, ["queued", "submitting", "running"]);
    const perTask = (redisAfter - redisBefore) / Math.max(1, active);
    report.table(
      `e. ${int(plan.inflight)} tasks in flight (sandbox generation 1 h, callbacks lost; worker concurrency 50)`,
      [
        "running",
        "other active",
        "worker RSS before",
        "after",
        "peak",
        "Redis used_memory Δ",
        "Redis bytes/task",
      ],
      [
        [
          int(done.counts.running ?? 0),
          int(active - (done.counts.running ?? 0)),
          mib(rssBefore),
          mib(rssAfter),
          mib(peak),
          mib(redisAfter - redisBefore),
          int(perTask),
        ],
      ],
      done.timedOut ? [`(stopped waiting: ${describeCounts(done.counts)})`] : [],
    );
  });
}

// ---------------------------------------------------------------------------------------------
// g. doors

const DOOR_PROMPT = "a benchmark cat";

interface Tally {
  seconds: number;
  errors: number;
  statuses: Map<number, number>;
  times: number[];
}

/**
 * Phase g: an image create through the native API and through each door (its own path, body and
 * key header), the same load on each, next to the baseline. A door's create is the native create
 * plus its wire translation, so the issue asks it to stay within 10% of native; a door that falls
 * further behind, or does not create at all, is flagged rather than failing the bench.
 */
async function measureDoors(db: DbHandle, baselineUrl: string, apiUrl: string): Promise<void> {
  const creates = [
    { door: "native", path: "/v1/images/generations", body: CREATE_BODY, keyHeader: bearer },
    {
      door: "nanobanana",
      path: "/api/v1/images/generate",
      body: JSON.stringify({ prompt: DOOR_PROMPT, model: "nano-banana-2" }),
      keyHeader: bearer,
    },
    {
      door: "kie",
      path: "/api/v1/jobs/createTask",
      body: JSON.stringify({
        model: "nano-banana-2-text-to-image",
        input: { prompt: DOOR_PROMPT },
      }),
      keyHeader: bearer,
    },
    {
      door: "revid",
      path: "/paid/nano/banana/create",
      body: JSON.stringify({ model: "nano-banana-pro", input: { prompt: DOOR_PROMPT } }),
      keyHeader: ((key) => ({ "x-api-key": key })) satisfies KeyHeader,
    },
  ];
  const targets: Array<{
    label: string;
    door: string | null;
    url: string;
    body: string;
    keyHeader: KeyHeader;
    accounts: AccountSet;
  }> = [
    {
      label: "baseline: express, constant JSON",
      door: null,
      url: `${baselineUrl}/v1/images/generations`,
      body: CREATE_BODY,
      keyHeader: bearer,
      accounts: { ids: [], keys: [] },
    },
  ];
  // Accounts of its own per target, so the tasks each one created can be counted. Each is granted
  // 100,000,000 credits: holds are never released here (no worker), and a create costs tens.
  for (const create of creates) {
    targets.push({
      label: `${create.door} POST ${create.path}`,
      door: create.door,
      url: `${apiUrl}${create.path}`,
      body: create.body,
      keyHeader: create.keyHeader,
      accounts: await createAccounts(db, ACCOUNTS, `bench-g-${create.door}`),
    });
  }

  const loadOf = (target: (typeof targets)[number]) => ({
    keys: target.accounts.keys,
    body: target.body,
    keyHeader: target.keyHeader,
  });
  // One request each first: what a door that does not create answers, to name it in the report.
  const firstAnswer = new Map<string, string>();
  for (const target of targets.slice(1)) {
    const answer = await fetch(target.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...target.keyHeader(target.accounts.keys[0]!),
      },
      body: target.body,
    });
    const text = (await answer.text()).replace(/\s+/g, " ");
    firstAnswer.set(target.label, `${answer.status} ${text.slice(0, 120)}`);
  }
  for (const target of targets) {
    log(`g: ${target.label}: warm-up ${plan.warmupS} s`);
    await cannon(target.url, { ...loadOf(target), duration: plan.warmupS });
  }
  const tasksBefore = new Map<string, Map<string, number>>();
  for (const target of targets)
    tasksBefore.set(target.label, await tasksByDoor(db, target.accounts));

  const tallies = new Map<string, Tally>(
    targets.map((t) => [t.label, { seconds: 0, errors: 0, statuses: new Map(), times: [] }]),
  );
  for (let round = 0; round < plan.doorRounds; round++) {
    // The order alternates, so drift over the phase (JIT warming, tables growing, a neighbour's
    // load on this shared machine) falls on every target alike rather than on the last.
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      log(`g: round ${round + 1}/${plan.doorRounds}: ${target.label}, ${plan.doorRoundS} s`);
      const tally = tallies.get(target.label)!;
      const result = await cannon(target.url, {
        ...loadOf(target),
        duration: plan.doorRoundS,
        onResponse: (status, time) => {
          tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
          tally.times.push(time);
        },
      });
      tally.seconds += result.duration;
      tally.errors += result.errors + result.timeouts;
    }
  }

  const figures = new Map<string, ReturnType<typeof figuresOf>>();
  for (const target of targets) {
    const after = await tasksByDoor(db, target.accounts);
    const before = tasksBefore.get(target.label)!;
    const created = new Map(
      [...after].map(([door, n]) => [door, n - (before.get(door) ?? 0)] as const),
    );
    figures.set(target.label, figuresOf(tallies.get(target.label)!, created, target.door));
  }
  const native = figures.get(targets[1]!.label)!;
  const base = figures.get(targets[0]!.label)!;
  const rows = targets.map((target) => {
    const f = figures.get(target.label)!;
    return [
      target.label,
      int(f.reqPerS),
      int(f.okPerS),
      ms(f.p50),
      ms(f.p99),
      int(f.non2xx),
      int(f.errors),
      target.door ? int(f.tasks) : "—",
      ratio(f.okPerS, native.okPerS),
      ratio(f.okPerS, base.okPerS),
    ];
  });

  const notes: string[] = [];
  for (const target of targets.slice(1)) {
    const f = figures.get(target.label)!;
    const problems: string[] = [];
    if (f.non2xx > 0) {
      const codes = [...f.statuses]
        .filter(([status]) => status < 200 || status >= 300)
        .sort((x, y) => y[1] - x[1])
        .map(([status, n]) => `${status} ×${int(n)}`)
        .join(", ");
      problems.push(
        `${int(f.non2xx)} of ${int(f.answers)} answers non-2xx (${codes}); the first answer: ${firstAnswer.get(target.label)}`,
      );
    }
    if (f.errors > 0) problems.push(`${int(f.errors)} connection errors or timeouts`);
    if (f.tasks < f.ok) problems.push(`${int(f.ok)} 2xx answers but ${int(f.tasks)} tasks`);
    if (f.otherDoor > 0)
      problems.push(`${int(f.otherDoor)} tasks not recorded as door ${target.door}`);
    const share = native.okPerS > 0 ? f.okPerS / native.okPerS : Number.NaN;
    const name = target.door!;
    if (problems.length > 0) {
      notes.push(`FLAG ${name}: does not measure a create: ${problems.join("; ")}`);
    } else if (target.door !== "native") {
      notes.push(
        share < 0.9
          ? `FLAG ${name}: ${share.toFixed(2)}× native, more than 10% below`
          : `ok ${name}: ${share.toFixed(2)}× native, within 10%`,
      );
    }
  }
  for (const note of notes) log(`g: ${note}`);
  report.table(
    `g. doors: one image create through native and each door, ${CONNECTIONS} connections, ${plan.doorRounds} rounds of ${plan.doorRoundS} s each in alternating order (after ${plan.warmupS} s warm-up), ${ACCOUNTS} accounts per target, worker not running`,
    [
      "target",
      "req/s",
      "2xx/s",
      "p50 ms",
      "p99 ms",
      "non-2xx",
      "errors",
      "tasks",
      "vs native",
      "vs baseline",
    ],
    rows,
    notes,
  );
}

/** Counts of tasks these accounts hold, by the door they came through. */
async function tasksByDoor(db: DbHandle, accounts: AccountSet): Promise<Map<string, number>> {
  if (accounts.ids.length === 0) return new Map();
  const { rows } = await db.pool.query<{ door: string; n: number }>(
    "select door, count(*)::int as n from tasks where account_id = any($1) group by door",
    [accounts.ids],
  );
  return new Map(rows.map((r) => [r.door, r.n]));
}

function figuresOf(tally: Tally, created: Map<string, number>, door: string | null) {
  const answers = tally.times.length;
  let ok = 0;
  for (const [status, n] of tally.statuses) if (status >= 200 && status < 300) ok += n;
  const sorted = [...tally.times].sort((x, y) => x - y);
  const seconds = tally.seconds || 1;
  const tasks = [...created.values()].reduce((total, n) => total + n, 0);
  return {
    answers,
    ok,
    non2xx: answers - ok,
    errors: tally.errors,
    statuses: tally.statuses,
    reqPerS: answers / seconds,
    okPerS: ok / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    tasks,
    otherDoor: door ? tasks - (created.get(door) ?? 0) : 0,
  };
}

/** Runs a phase; a failure is reported in its place and the bench goes on. */
async function phase(name: string, run: () => Promise<void>): Promise<void> {
  if (finishing) return;
  const letter = /^([a-z])\. /.exec(name)?.[1];
  if (letter && !runs(letter)) return;
  const started = performance.now();
  try {
    await run();
    log(`${name}: done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } catch (error) {
    log(`${name}: failed: ${(error as Error).message}`);
    report.failed(name, error);
  }
}

let finishing = false;
async function finish(code: number): Promise<never> {
  if (!finishing) {
    finishing = true;
    console.log(report.toString());
    log("cleaning up");
    await tearDown();
  }
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  // Not once: tsx relays the terminal's Ctrl+C, so one press arrives twice, and the default
  // action of the second would end the process halfway through cleaning up.
  process.on(signal, () => {
    if (finishing) {
      log(`${signal}: still cleaning up`);
      return;
    }
    log(`${signal}: stopping`);
    void finish(130);
  });
}

const benchStarted = performance.now();
try {
  await main();
  log(`finished in ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`);
  await finish(0);
} catch (error) {
  log(`bench failed: ${(error as Error).stack ?? error}`);
  await finish(1);
}

/**
 * Create-task throughput and latency: authentication, validation, the task + hold transaction
 * and the enqueue, over real HTTP against a throwaway database. Prints figures; asserts nothing.
 *
 *   npx tsx bench/create-tasks.ts [requests=2000] [concurrency=50]
 */
import type { AddressInfo } from "node:net";
import { createApiApp } from "@ripen/api";
import { createAccount } from "@ripen/core";
import { createDb, ensureDatabase, migrateDatabase } from "@ripen/db";
import { createRedis, createTaskQueue } from "@ripen/queue";
import pg from "pg";
import pino from "pino";

const total = Number(process.argv[2] ?? 2_000);
const concurrency = Number(process.argv[3] ?? 50);
const server = process.env.DATABASE_URL ?? "postgres://postgres:postgres@127.0.0.1:5432/postgres";
const dbName = `ripen_bench_${process.pid}`;
const dbUrl = Object.assign(new URL(server), { pathname: `/${dbName}` }).toString();
const adminUrl = Object.assign(new URL(server), { pathname: "/postgres" }).toString();
const prefix = `{bench-${process.pid}}`;

await ensureDatabase(dbUrl);
await migrateDatabase(dbUrl);
const db = createDb(dbUrl, { max: 20 });
const redis = createRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const taskQueue = createTaskQueue({ connection: redis, prefix });
const app = createApiApp({
  db: db.db,
  enqueue: taskQueue.enqueue,
  logger: pino({ level: "silent" }),
});
const listening = app.listen(0, "127.0.0.1");
await new Promise((resolve) => listening.once("listening", resolve));
const base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
const { apiKey } = await createAccount(db.db, { name: "bench", credits: total * 16 });

const latencies: number[] = [];
let next = 0;
let failures = 0;
const rssBefore = process.memoryUsage().rss;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < total) {
      next++;
      const t0 = performance.now();
      const res = await fetch(`${base}/v1/images/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "nano-banana-2", input: { prompt: "a benchmark cat" } }),
      });
      await res.arrayBuffer();
      if (res.status !== 200) failures++;
      latencies.push(performance.now() - t0);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(1);
console.log(
  [
    `create-task: ${total} requests, concurrency ${concurrency}, ${failures} non-200`,
    `  throughput ${(total / seconds).toFixed(0)} req/s over ${seconds.toFixed(2)} s`,
    `  latency ms p50 ${pct(0.5)}  p95 ${pct(0.95)}  p99 ${pct(0.99)}  max ${pct(1)}`,
    `  rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB (from ${(rssBefore / 2 ** 20).toFixed(0)} MiB)`,
  ].join("\n"),
);

listening.close();
await taskQueue.queue.obliterate({ force: true });
await taskQueue.close();
await redis.quit();
await db.close();
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`drop database ${dbName} with (force)`);
await admin.end();

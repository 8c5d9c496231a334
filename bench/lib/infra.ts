/**
 * The throwaway state a run works on: databases ripen_bench_<pid>… on the Postgres server of
 * DATABASE_URL, and a private redis-server (or a unique prefix on the shared one). Everything made
 * here is registered for removal at the end.
 */
import { checkLedger, createAccount } from "@ripen/core";
import { createDb, type DbHandle, migrateDatabase } from "@ripen/db";
import { ensureRedis, freePort } from "@ripen/infra";
import type { Redis } from "ioredis";
import pg from "pg";
import { log } from "./plan";
import { onTeardown } from "./teardown";

// Only the server of DATABASE_URL is used; the bench's databases are its own.
export const pgServer = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const benchDbName = `ripen_bench_${process.pid}`;
export const dbUrl = (name: string) =>
  Object.assign(new URL(pgServer), { pathname: `/${name}` }).toString();

/** Runs one statement on the server's `postgres` database, on a connection of its own. */
export async function adminQuery<Row extends pg.QueryResultRow>(sql: string): Promise<Row[]> {
  const admin = new pg.Client({ connectionString: dbUrl("postgres") });
  await admin.connect();
  try {
    return (await admin.query<Row>(sql)).rows;
  } finally {
    await admin.end();
  }
}

/** An empty database, dropped at the end. */
export async function emptyDatabase(name: string): Promise<string> {
  onTeardown(`drop database ${name}`, () =>
    adminQuery(`drop database if exists ${name} with (force)`),
  );
  await adminQuery(`create database ${name}`);
  return dbUrl(name);
}

/** A database with Ripen's migrations applied, dropped at the end. */
export async function ripenDatabase(name: string): Promise<DbHandle> {
  const url = await emptyDatabase(name);
  await migrateDatabase(url);
  const db = createDb(url, { max: 4 });
  onTeardown(`pool of ${name}`, db.close);
  // Closers run in reverse: this runs after the services stopped, before the pool closes and
  // the database is dropped, so the books are checked once the load is over.
  onTeardown(`ledger check of ${name}`, async () => {
    const check = await checkLedger(db.db);
    log(
      `ledger check of ${name}: ${check.accounts} accounts, ${check.entries} entries, ${check.drift.length} drift`,
    );
    for (const drift of check.drift.slice(0, 20)) {
      log(`  ${drift.rule}: ${JSON.stringify(drift.row)}`);
    }
  });
  return db;
}

export interface RedisTarget {
  url: string;
  label: string;
  /** A Redis other programs use: the bench's keys must be deleted by prefix at the end. */
  shared: boolean;
}

export async function privateRedis(): Promise<RedisTarget> {
  const url = `redis://127.0.0.1:${await freePort()}`;
  try {
    const redis = await ensureRedis({ url, log: () => {}, spawnFallback: true });
    onTeardown("redis-server", redis.stop);
    return { url, label: "private redis-server", shared: false };
  } catch (error) {
    log(`no private redis-server (${(error as Error).message}); using 127.0.0.1:6379`);
    return { url: "redis://127.0.0.1:6379", label: "shared, unique prefix", shared: true };
  }
}

/** Deletes every key under a queue prefix (only needed on a shared Redis). */
export async function deleteKeys(redis: Redis, keyPrefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

export interface AccountSet {
  ids: string[];
  keys: string[];
}

/** Ripen accounts with one API key each and credits no phase runs out of. */
export async function createAccounts(
  db: DbHandle,
  count: number,
  label: string,
): Promise<AccountSet> {
  const accounts: Array<{ accountId: string; apiKey: string }> = [];
  for (let i = 0; i < count; i++) {
    accounts.push(
      await createAccount(db.db, {
        name: `${label}-${i}`,
        credits: 100_000_000,
        // A load generator, not a client: its keys must never be throttled.
        key: { rateLimitPerMinute: 1_000_000_000 },
      }),
    );
  }
  return { ids: accounts.map((a) => a.accountId), keys: accounts.map((a) => a.apiKey) };
}

export const firstOf = (accounts: AccountSet): AccountSet => ({
  ids: accounts.ids.slice(0, 1),
  keys: accounts.keys.slice(0, 1),
});

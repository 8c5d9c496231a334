import path from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";

export const migrationsFolder = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../migrations",
);

/**
 * Applies pending migrations; safe to run from several processes at once (advisory lock), also
 * through a pooler in transaction mode: the lock is the transaction's, and everything, drizzle's
 * bookkeeping included, runs in that one transaction (a session lock taken and released in
 * separate statements could be taken on one server connection and "released" on another).
 */
export async function migrateDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("begin");
    await client.query("select pg_advisory_xact_lock(72650001)");
    // drizzle wraps the migrations in begin … commit of its own: Postgres takes that begin, inside
    // ours, as a no-op (a warning), so its commit (or rollback) ends our transaction and the lock.
    await migrate(drizzle(client), { migrationsFolder });
  } finally {
    // Only a failure before drizzle's transaction leaves ours open.
    await client.query("rollback").catch(() => {});
    await client.end();
  }
}

/** Creates the database named in `url` if it does not exist, connecting to `postgres` to do so. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!name) throw new Error(`DATABASE_URL names no database: ${url}`);
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query("select 1 from pg_database where datname = $1", [name]);
    if (found.rowCount === 0) {
      await client
        .query(`create database ${pg.escapeIdentifier(name)}`)
        .catch((error: { code?: string }) => {
          // Another process created it between our check and our create.
          if (error.code !== "42P04") throw error;
        });
    }
  } finally {
    await client.end();
  }
}

import { createHash } from "node:crypto";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { PgTransaction } from "drizzle-orm/pg-core";
import pg from "pg";
import * as schema from "./schema";

export type Schema = typeof schema;
export type Database = NodePgDatabase<Schema>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Either the pool-backed database or an open transaction; services accept both. */
export type Executor = Database | Transaction;

export interface DbHandle {
  db: Database;
  pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * How the statements Ripen names (its hot paths: `pgClientOf(db).query({ name, … })`) reach
 * Postgres. `named`: prepared once per server connection, then only bound. `unnamed`: the same
 * statements without their name, parsed at every call, for a pooler that gives each transaction
 * whichever server connection is free and does not carry prepared statements across them
 * (PgBouncer in transaction mode before 1.21, or with `max_prepared_statements = 0`).
 */
export type PreparedStatementMode = "named" | "unnamed";

export interface CreateDbOptions {
  /** Largest number of connections (default 10). */
  max?: number;
  /** How long a query waits for a connection before failing (default 5000 ms). */
  connectionTimeoutMillis?: number;
  /** Default `named`; see `PreparedStatementMode`. */
  preparedStatements?: PreparedStatementMode;
}

export function createDb(url: string, options: CreateDbOptions = {}): DbHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    // Unreachable Postgres fails requests (503) instead of queueing them forever.
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
  });
  // A client that errors (server restart, terminated backend) must not crash the process. The
  // pool listens on idle clients only; a checked-out one emits "error" to no listener otherwise.
  // The failed query rejects on its own, and the pool discards the broken client on release.
  pool.on("error", () => {});
  pool.on("connect", (client) => {
    client.on("error", () => {});
    if (options.preparedStatements === "unnamed") sendUnnamed(client);
  });
  keepConnectionsOnRefusal(pool);
  const db = drizzle(pool, { schema });
  return { db, pool, close: () => pool.end() };
}

/**
 * pg's `Pool.query` throws its connection away after any failed query, a CHECK's refusal
 * included: every create refused for credit or a limit then paid for a new connection (tens of
 * milliseconds, its prepared statements lost), and a hammered key churned them. Here a query the
 * server refused keeps its connection; any other failure (a broken socket) still discards it, and
 * the pool drops a client that is no longer usable either way.
 */
function keepConnectionsOnRefusal(pool: pg.Pool): void {
  const discarding = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const keeping = async (...args: unknown[]) => {
    const client = await pool.connect();
    try {
      const result = await (client.query as (...a: unknown[]) => Promise<unknown>)(...args);
      client.release();
      return result;
    } catch (error) {
      client.release(error instanceof pg.DatabaseError ? undefined : (error as Error));
      throw error;
    }
  };
  // Callback-style calls keep pg's own path.
  (pool as unknown as { query: unknown }).query = (...args: unknown[]) =>
    typeof args[args.length - 1] === "function" ? discarding(...args) : keeping(...args);
}

/**
 * Drops the name of every query config this client is given, so a named statement is sent as
 * the unnamed one (parse, bind and execute in one round trip, nothing left on the server
 * connection). Every query of the pool, transactions' included, goes through its clients.
 */
function sendUnnamed(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: unknown }).query = (config: unknown, ...rest: unknown[]) =>
    query(isNamedConfig(config) ? { ...config, name: undefined } : config, ...rest);
}

/** A plain `{ name, text, values }` object (not a pg `Query` or cursor, which submit themselves). */
const isNamedConfig = (config: unknown): config is pg.QueryConfig =>
  typeof config === "object" &&
  config !== null &&
  typeof (config as { submit?: unknown }).submit !== "function" &&
  Boolean((config as { name?: unknown }).name);

/** Whether the executor is a transaction (and so has not committed yet). */
export const isTransaction = (executor: Executor): executor is Transaction =>
  executor instanceof PgTransaction;

/** Runs `fn` in a transaction, reusing the one `executor` already is, if any. */
export function withTransaction<T>(
  executor: Executor,
  fn: (tx: Transaction) => Promise<T>,
): Promise<T> {
  if (executor instanceof PgTransaction) return fn(executor as Transaction);
  return (executor as Database).transaction(fn);
}

/**
 * The node-postgres client behind an executor: the pool, or a transaction's own client. For the
 * few hot statements run as named prepared statements, which drizzle's `execute` cannot name.
 */
export function pgClientOf(executor: Executor): pg.Pool | pg.PoolClient {
  return (executor as unknown as { session: { client: pg.Pool | pg.PoolClient } }).session.client;
}

/**
 * From here to the transaction's end, a named statement is planned once, generically, and never
 * with a sequential scan: for a transaction whose statements are named although the tables they
 * read may grow by thousands of rows between two ANALYZEs (a task's ending). A generic plan made
 * while a table was small scanned it whole until the next ANALYZE (named-statements.test.ts); made
 * with sequential scans off, it reads by the indexes however large the table grows. One round trip.
 */
export async function planByIndexes(tx: Transaction): Promise<void> {
  await pgClientOf(tx).query(
    "set local enable_seqscan = off; set local plan_cache_mode = force_generic_plan",
  );
}

const statementNames = new Map<string, string>();

/**
 * The name of a statement whose text is built at run time (one per distinct text, so two texts
 * never share a name on a connection): `ripen_<what>_<hash of the text>`.
 */
export function statementName(what: string, text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `ripen_${what}_${createHash("sha1").update(text).digest("hex").slice(0, 12)}`;
    statementNames.set(text, name);
  }
  return name;
}

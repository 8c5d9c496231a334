/**
 * Starts the naive pipeline (bench/naive/): its API, worker and callback receiver, each in its own
 * process, on a throwaway database and a queue prefix of their own, submitting to the sandbox; or
 * its API alone, for the create phase.
 */
import { freePort } from "@ripen/infra";
import pg from "pg";
import { NAIVE_SCHEMA } from "../naive/schema";
import { type AccountSet, benchDbName, emptyDatabase } from "./infra";
import { answers, type Service, startService, waitUntil } from "./processes";
import { url } from "./ripen";
import { onTeardown } from "./teardown";

export interface NaivePipeline {
  createUrl: string;
  accounts: AccountSet;
  statusCounts(accountIds: string[]): Promise<Record<string, number>>;
  /** ANALYZE of its database, once the warm-up has filled it. */
  analyze(): Promise<unknown>;
  /** What its processes printed last, to explain a stall. */
  tails(): string;
  stop(): Promise<void>;
}

/** The naive pipeline's API alone, on a database of its own with `accountCount` funded accounts. */
export interface NaiveApi {
  createUrl: string;
  accounts: AccountSet;
  pool: pg.Pool;
  /** The environment its other processes share with it. */
  env: Record<string, string>;
  api: Service;
}

export async function startNaiveApi(
  databaseName: string,
  redisUrl: string,
  queuePrefix: string,
  accountCount: number,
): Promise<NaiveApi> {
  const databaseUrl = await emptyDatabase(databaseName);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  onTeardown(`pool of ${databaseName}`, () => pool.end());
  await pool.query(NAIVE_SCHEMA);
  const accounts: AccountSet = { ids: [], keys: [] };
  for (let i = 0; i < accountCount; i++) {
    accounts.ids.push(`naive-${i}`);
    accounts.keys.push(`naive-key-${i}`);
  }
  await pool.query(
    "insert into accounts (id, api_key, balance) select unnest($1::text[]), unnest($2::text[]), 100000000",
    [accounts.ids, accounts.keys],
  );
  const port = await freePort();
  const env = {
    NODE_ENV: "production",
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: queuePrefix,
  };
  const api = startService("naive api", "bench/naive/api.ts", { ...env, PORT: String(port) });
  await waitUntil("the naive API", 60_000, answers(`${url(port)}/healthz`), api);
  return { createUrl: `${url(port)}/v1/images/generations`, accounts, pool, env, api };
}

export async function startNaive(
  redisUrl: string,
  queuePrefix: string,
  sandboxUrl: string,
  accountCount: number,
): Promise<NaivePipeline> {
  const { createUrl, accounts, pool, env, api } = await startNaiveApi(
    `${benchDbName}_naive`,
    redisUrl,
    queuePrefix,
    accountCount,
  );
  const callbacksPort = await freePort();
  const callbacks = startService("naive callbacks", "bench/naive/callbacks.ts", {
    ...env,
    PORT: String(callbacksPort),
  });
  const worker = startService("naive worker", "bench/naive/worker.ts", {
    ...env,
    UPSTREAM_URL: `${sandboxUrl}/aivideoapi`,
    // The sandbox makes an account of any key starting sk-.
    UPSTREAM_KEY: "sk-naive-bench",
    CALLBACK_BASE_URL: url(callbacksPort),
  });
  await waitUntil("naive callbacks", 60_000, answers(`${url(callbacksPort)}/healthz`), callbacks);
  await waitUntil(
    "the naive worker",
    60_000,
    async () => worker.tail().includes("naive worker ready"),
    worker,
  );
  return {
    createUrl,
    accounts,
    async statusCounts(accountIds) {
      const { rows } = await pool.query<{ status: string; n: number }>(
        "select status, count(*)::int as n from tasks where account_id = any($1) group by status",
        [accountIds],
      );
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    },
    analyze: () => pool.query("analyze"),
    tails: () => [api, worker, callbacks].map((s) => `${s.name}:\n    ${s.tail()}`).join("\n"),
    async stop() {
      await Promise.all([api.stop(), worker.stop(), callbacks.stop()]);
    },
  };
}

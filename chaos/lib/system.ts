/**
 * Ripen as the chaos runs it: a private Postgres and Redis, the sandbox with every provider's
 * faults, the API, the callbacks service and two or more workers, each its own process.
 */
import { createDb, type DbHandle } from "@ripen/db";
import { freePort } from "@ripen/infra";
import type { SandboxFaults } from "@ripen/sandbox";
import { type AccountSet, createAccounts } from "../../bench/lib/infra";
import { commonEnv, url } from "../../bench/lib/ripen";
import { onTeardown } from "../../bench/lib/teardown";
import type { ChaosPlan } from "./plan";
import { log, ManagedService, PrivatePostgres, PrivateRedis } from "./stack";

/** Every simulated provider's faults: the figures, the same at each. */
export function sandboxFaults(plan: ChaosPlan): SandboxFaults {
  const faults = {
    rate5xx: 0.08,
    rate429: 0.05,
    retryAfterSeconds: 1,
    timeoutRate: plan.timeoutRate,
    failureRate: 0.03,
    callbackLossRate: 0.3,
    callbackDuplicateRate: 0.2,
    generationMs: 1_500,
  };
  return Object.fromEntries(["aivideoapi", "nanobanana", "kie", "revid"].map((id) => [id, faults]));
}

export interface ChaosSystem {
  postgres: PrivatePostgres;
  redis: PrivateRedis;
  /** The runner's own pool on Ripen's database. */
  db: DbHandle;
  prefix: string;
  apiUrl: string;
  sandboxUrl: string;
  sandbox: ManagedService;
  api: ManagedService;
  callbacks: ManagedService;
  workers: ManagedService[];
  accounts: AccountSet;
}

const ACCOUNTS = 8;

export async function startSystem(plan: ChaosPlan): Promise<ChaosSystem> {
  log("starting a private Postgres and redis-server");
  const [postgres, redis] = await Promise.all([PrivatePostgres.start(), PrivateRedis.start()]);
  const db = createDb(postgres.url, { max: 4 });
  onTeardown("runner's database pool", db.close);
  const prefix = "{chaos}";
  const common = {
    ...commonEnv(redis.url),
    DATABASE_URL: postgres.url,
    QUEUE_PREFIX: prefix,
    // The clients' callback receiver listens on this machine.
    USER_URLS_ALLOW_LOOPBACK: "true",
  };
  const ports = {
    sandbox: await freePort(),
    api: await freePort(),
    callbacks: await freePort(),
  };
  const apiUrl = url(ports.api);
  const sandboxUrl = url(ports.sandbox);
  const sandbox = new ManagedService(
    "sandbox",
    "apps/sandbox/src/main.ts",
    {
      NODE_ENV: "production",
      SANDBOX_PORT: String(ports.sandbox),
      SANDBOX_FAULTS: JSON.stringify(sandboxFaults(plan)),
      SANDBOX_INITIAL_CREDITS: "1000000000",
    },
    `${sandboxUrl}/_sandbox/stats`,
  );
  const api = new ManagedService(
    "api",
    "apps/api/src/main.ts",
    { ...common, API_PORT: String(ports.api) },
    `${apiUrl}/readyz`,
  );
  const callbacks = new ManagedService(
    "callbacks",
    "apps/callbacks/src/main.ts",
    { ...common, CALLBACKS_PORT: String(ports.callbacks) },
    `${url(ports.callbacks)}/readyz`,
  );
  const workers: ManagedService[] = [];
  for (let i = 1; i <= plan.workers; i++) {
    const healthPort = await freePort();
    workers.push(
      new ManagedService(
        `worker ${i}`,
        "apps/worker/src/main.ts",
        {
          ...common,
          PUBLIC_CALLBACK_URL: url(ports.callbacks),
          SANDBOX_PORT: String(ports.sandbox),
          WORKER_HEALTH_PORT: String(healthPort),
          ...(plan.sweep
            ? {
                SWEEP_EVERY_MS: String(plan.sweep.everyMs),
                SWEEP_GRACE_MS: String(plan.sweep.graceMs),
              }
            : {}),
        },
        `${url(healthPort)}/readyz`,
      ),
    );
  }
  log(`starting the sandbox, the API, the callbacks service and ${plan.workers} workers`);
  await Promise.all([sandbox, api, callbacks, ...workers].map((service) => service.start()));
  // A load generator's accounts: credits no run spends, keys never throttled.
  const accounts = await createAccounts(db, ACCOUNTS, "chaos");
  return {
    postgres,
    redis,
    db,
    prefix,
    apiUrl,
    sandboxUrl,
    sandbox,
    api,
    callbacks,
    workers,
    accounts,
  };
}

/**
 * Ripen's processes as the phases drive them: an API alone on its own database for the create
 * phases, and the whole system (API, worker, callbacks, sandbox) for the others.
 */
import type { DbHandle } from "@ripen/db";
import { freePort, startPgBouncer } from "@ripen/infra";
import type { Redis } from "ioredis";
import { type AccountSet, benchDbName, dbUrl, pgServer, ripenDatabase } from "./infra";
import { log, throughPgBouncer, workerCount } from "./plan";
import { answers, type Service, serviceLogLevel, startService, waitUntil } from "./processes";
import { int } from "./report";
import { onTeardown } from "./teardown";

export const url = (port: number) => `http://127.0.0.1:${port}`;
export const TERMINAL = ["succeeded", "failed", "canceled", "expired"];
export const ACTIVE = ["queued", "submitting", "running"];
export const sum = (counts: Record<string, number>, statuses: string[]) =>
  statuses.reduce((total, s) => total + (counts[s] ?? 0), 0);
export const describeCounts = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([status, n]) => `${status} ${int(n)}`)
    .join(", ");

/**
 * Waits until `count` tasks of these accounts are in `statuses`, or the time is up; returns when
 * and how many. Out of process, the database is the only place to see it, so it is polled.
 */
export async function waitForStatuses(
  statusCounts: (accountIds: string[]) => Promise<Record<string, number>>,
  accounts: AccountSet,
  count: number,
  statuses: string[],
  timeoutMs: number,
): Promise<{ at: number; counts: Record<string, number>; timedOut: boolean }> {
  let counts: Record<string, number> = {};
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    counts = await statusCounts(accounts.ids);
    if (sum(counts, statuses) >= count || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { at: performance.now(), counts, timedOut: sum(counts, statuses) < count };
}

/** Environment every Ripen service of the run shares. */
export function commonEnv(redisUrl: string): Record<string, string> {
  return {
    NODE_ENV: "production",
    LOG_LEVEL: serviceLogLevel,
    REDIS_URL: redisUrl,
    CALLBACK_SECRET: "bench-callback-secret-0123456789",
  };
}

export async function startApi(
  name: string,
  env: Record<string, string>,
): Promise<{ service: Service; url: string }> {
  const port = await freePort();
  const service = startService(name, "apps/api/src/main.ts", { ...env, API_PORT: String(port) });
  await waitUntil("the API", 60_000, answers(`${url(port)}/readyz`), service);
  return { service, url: url(port) };
}

export interface SandboxSettings {
  generationMs: number;
  callbackLossRate: number;
}

export interface SandboxStats {
  created: number;
  submitCalls: number;
  statusCalls: number;
  callbacksSent: number;
  callbacksLost: number;
}

/** The sandbox on one port for the whole run, restarted only when its settings change. */
export class Sandbox {
  private service: Service | undefined;
  private settings: SandboxSettings | undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return url(this.port);
  }

  async use(settings: SandboxSettings): Promise<void> {
    const current = this.settings;
    if (
      this.service &&
      !this.service.exited() &&
      current?.generationMs === settings.generationMs &&
      current.callbackLossRate === settings.callbackLossRate
    )
      return;
    await this.service?.stop();
    this.settings = settings;
    this.service = startService(
      `sandbox (generation ${settings.generationMs} ms)`,
      "apps/sandbox/src/main.ts",
      {
        NODE_ENV: "production",
        SANDBOX_PORT: String(this.port),
        SANDBOX_GENERATION_MS: String(settings.generationMs),
        SANDBOX_CALLBACK_LOSS_RATE: String(settings.callbackLossRate),
        // Each key the sandbox sees is an account with this many credits; the naive pipeline's
        // one key is billed for every task it sends in a run.
        SANDBOX_INITIAL_CREDITS: "1000000000",
      },
    );
    await waitUntil("the sandbox", 60_000, answers(`${this.url}/_sandbox/stats`), this.service);
  }

  async stats(): Promise<SandboxStats> {
    return (await (await fetch(`${this.url}/_sandbox/stats`)).json()) as SandboxStats;
  }
}

/** Ripen's services for the phases that follow a task past its create. */
export interface RipenSystem {
  db: DbHandle;
  apiUrl: string;
  /** The native image create, `POST /v1/images/generations`. */
  createUrl: string;
  /** The first of `workers`. */
  worker: Service;
  /** `--workers=N` of them (default one). */
  workers: Service[];
  sandbox: Sandbox;
  prefix: string;
  statusCounts(accountIds: string[]): Promise<Record<string, number>>;
  /** `waitForStatuses` on Ripen's tasks. */
  settle(
    accounts: AccountSet,
    count: number,
    statuses: string[],
    timeoutMs: number,
  ): Promise<{ at: number; counts: Record<string, number>; timedOut: boolean }>;
  /** Waits (bounded) for the task queue to hold no job, so late polls are counted too. */
  queueDrained(timeoutMs: number): Promise<void>;
}

export async function startRipen(
  redis: Redis,
  common: Record<string, string>,
  sandbox: Sandbox,
  firstSandbox: SandboxSettings,
  prefix: string,
): Promise<RipenSystem> {
  const db = await ripenDatabase(benchDbName);
  const ports = {
    api: await freePort(),
    callbacks: await freePort(),
  };
  const env: Record<string, string> = {
    ...common,
    DATABASE_URL: dbUrl(benchDbName),
    QUEUE_PREFIX: prefix,
  };
  if (throughPgBouncer) {
    const bouncer = await startPgBouncer({ upstreamUrl: pgServer, maxPreparedStatements: 200 });
    onTeardown("pgbouncer", bouncer.stop);
    const statements = bouncer.tracksPreparedStatements ? "named" : "unnamed";
    env.DATABASE_URL = bouncer.through(dbUrl(benchDbName));
    env.DATABASE_PREPARED_STATEMENTS = statements;
    log(
      `the services reach Postgres through PgBouncer ${bouncer.version}, statements ${statements}`,
    );
  }
  log(`starting sandbox, callbacks, ${workerCount} worker${workerCount > 1 ? "s" : ""} and API`);
  const callbacks = startService("callbacks", "apps/callbacks/src/main.ts", {
    ...env,
    CALLBACKS_PORT: String(ports.callbacks),
  });
  const api = startService("api", "apps/api/src/main.ts", { ...env, API_PORT: String(ports.api) });
  const workers: { service: Service; healthPort: number }[] = [];
  for (let i = 1; i <= workerCount; i++) {
    const healthPort = await freePort();
    const name = workerCount > 1 ? `worker ${i}` : "worker";
    const service = startService(name, "apps/worker/src/main.ts", {
      ...env,
      PUBLIC_CALLBACK_URL: url(ports.callbacks),
      SANDBOX_PORT: String(sandbox.port),
      WORKER_HEALTH_PORT: String(healthPort),
    });
    workers.push({ service, healthPort });
  }
  await sandbox.use(firstSandbox);
  await waitUntil("callbacks", 60_000, answers(`${url(ports.callbacks)}/readyz`), callbacks);
  const apiUrl = url(ports.api);
  await waitUntil("the API", 60_000, answers(`${apiUrl}/readyz`), api);
  for (const { service, healthPort } of workers) {
    await waitUntil(service.name, 60_000, answers(`${url(healthPort)}/readyz`), service);
  }

  const statusCounts = async (accountIds: string[]) => {
    const { rows } = await db.pool.query<{ status: string; n: number }>(
      "select status, count(*)::int as n from tasks where account_id = any($1) group by status",
      [accountIds],
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  };
  return {
    db,
    apiUrl,
    createUrl: `${apiUrl}/v1/images/generations`,
    worker: workers[0]!.service,
    workers: workers.map((w) => w.service),
    sandbox,
    prefix,
    statusCounts,
    settle: (accounts, count, statuses, timeoutMs) =>
      waitForStatuses(statusCounts, accounts, count, statuses, timeoutMs),
    async queueDrained(timeoutMs) {
      const key = (name: string) => `${prefix}:tasks:${name}`;
      await waitUntil("the task queue to drain", timeoutMs, async () => {
        const [delayed, wait, active, prioritized] = await Promise.all([
          redis.zcard(key("delayed")),
          redis.llen(key("wait")),
          redis.llen(key("active")),
          redis.zcard(key("prioritized")),
        ]);
        return delayed + wait + active + prioritized === 0;
      }).catch((error: Error) => log(error.message));
    },
  };
}

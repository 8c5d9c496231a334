/**
 * Ripen scaled out, as `docker compose up --scale worker=2` runs it with a second API: the
 * production entry points (two of apps/api, two of apps/worker, apps/callbacks), each its own
 * process, on one database and one Redis (this file's database and queue prefix; the test
 * stack's sandbox as every provider). Creates spread over both APIs at once, some canceled, the
 * sandbox losing and repeating callbacks: each task ends once, nothing is submitted, captured or
 * ended twice, and both workers take part. Then the same through a PgBouncer in transaction mode
 * (`DATABASE_PREPARED_STATEMENTS=unnamed`, as the machine's 1.18 needs).
 */
import { terminalTaskStatuses } from "@ripen/db";
import { freePort, type PgBouncer, startPgBouncer } from "@ripen/infra";
import {
  endingsNotOnce,
  ledgerViolations,
  startTestStack,
  TEST_CALLBACK_SECRET,
  type TestStack,
} from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { answers, type Service, spawnService, waitUntil } from "../../../bench/lib/processes";

const PRICE = 16; // nano-banana-2 at 1K
const TASKS = 200;
const TERMINAL = [...terminalTaskStatuses];
const url = (port: number) => `http://127.0.0.1:${port}`;

let stack: TestStack;
let bouncer: PgBouncer | undefined;

beforeAll(async () => {
  // The stack's own API, callbacks receiver and worker stay idle (no worker at all): the
  // processes below do the work; the stack gives the database, the prefix and the sandbox.
  stack = await startTestStack({ worker: false });
  stack.sandbox.configure({
    generationMs: 20,
    failureRate: 0.05,
    callbackLossRate: 0.3,
    callbackDuplicateRate: 0.3,
  });
});
afterAll(async () => {
  try {
    await stack?.close();
  } finally {
    await bouncer?.stop();
  }
});

interface Services {
  apiUrls: string[];
  /** How many tasks each worker process logged as submitted. */
  submittedBy: number[];
  stop(): Promise<void>;
}

/** The five processes on `databaseUrl`, resolved once each answers /readyz. */
async function startServices(databaseUrl: string, env: Record<string, string> = {}) {
  const common = {
    ...env,
    NODE_ENV: "production",
    LOG_LEVEL: "info",
    DATABASE_URL: databaseUrl,
    REDIS_URL: stack.redisUrl,
    QUEUE_PREFIX: stack.prefix,
    CALLBACK_SECRET: TEST_CALLBACK_SECRET,
  };
  const services: Service[] = [];
  const ready: Promise<void>[] = [];
  const submitted = new Map<string, number>();
  const submittedBy = (name: string) => submitted.get(name) ?? 0;
  const start = (name: string, entry: string, own: Record<string, string>, readyUrl: string) => {
    const service = spawnService(name, entry, { ...common, ...own }, [], (line) => {
      if (line.includes('"event":"task.submitted"')) submitted.set(name, submittedBy(name) + 1);
    });
    services.push(service);
    // Another process: its readiness can only be asked for.
    ready.push(waitUntil(name, 60_000, answers(`${readyUrl}/readyz`), service));
  };

  const callbacksPort = await freePort();
  start(
    "callbacks",
    "apps/callbacks/src/main.ts",
    { CALLBACKS_PORT: String(callbacksPort) },
    url(callbacksPort),
  );
  const apiUrls: string[] = [];
  for (const name of ["api 1", "api 2"]) {
    const port = await freePort();
    start(
      name,
      "apps/api/src/main.ts",
      // One key sends every create; its rate limit is not what this test is about. A small pool:
      // the test's Postgres is shared with every other test file.
      { API_PORT: String(port), RATE_LIMIT_PER_MINUTE: "1000000", API_DB_POOL_SIZE: "5" },
      url(port),
    );
    apiUrls.push(url(port));
  }
  const workers = ["worker 1", "worker 2"];
  for (const name of workers) {
    const healthPort = await freePort();
    start(
      name,
      "apps/worker/src/main.ts",
      {
        WORKER_HEALTH_PORT: String(healthPort),
        PUBLIC_CALLBACK_URL: url(callbacksPort),
        SANDBOX_URL: stack.sandboxUrl,
        POLL_BASE_MS: "50",
        POLL_MAX_MS: "500",
        SUBMIT_RETRY_BASE_MS: "20",
        SUBMIT_RETRY_MAX_MS: "200",
      },
      url(healthPort),
    );
  }
  const stop = () => Promise.all(services.map((service) => service.stop())).then(() => {});
  try {
    await Promise.all(ready);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    apiUrls,
    get submittedBy() {
      return workers.map(submittedBy);
    },
    stop,
  } satisfies Services;
}

/** TASKS creates at once, alternating between the APIs, a tenth of them then canceled. */
async function load(services: Services): Promise<string[]> {
  const { apiKey } = await stack.createAccount(TASKS * PRICE);
  const call = (i: number, path: string, body?: unknown) =>
    fetch(`${services.apiUrls[i % services.apiUrls.length]}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const created = await Promise.all(
    Array.from({ length: TASKS }, async (_, i) => {
      const res = await call(i, "/v1/images/generations", {
        model: "nano-banana-2",
        input: { prompt: `scaled out ${i}` },
      });
      const body = (await res.json()) as { data?: { taskId?: string } };
      expect(res.status, JSON.stringify(body)).toBe(200);
      return body.data!.taskId!;
    }),
  );
  // Each cancel through the other API than the create: either may meet the worker's ending.
  const cancels = await Promise.all(
    created.slice(0, TASKS / 10).map((id, i) => call(i + 1, `/v1/tasks/${id}/cancel`)),
  );
  for (const cancel of cancels) expect([200, 409]).toContain(cancel.status);
  return created;
}

async function expectEachEndedOnce(ids: string[], services: Services): Promise<void> {
  for (const id of ids) await stack.waitForTask(id, TERMINAL, 60_000);
  expect(await endingsNotOnce(stack.db.db, ids)).toEqual([]);
  expect(await ledgerViolations(stack.db.db)).toEqual([]);
  // Two workers took jobs of the one queue: neither sat idle while the other did the work.
  const submitted = services.submittedBy;
  console.log(`tasks submitted by each worker process: ${submitted.join(", ")}`);
  for (const count of submitted) expect(count).toBeGreaterThan(0);
}

describe("two APIs, two workers and a callbacks service, each its own process", () => {
  it("on one database and one Redis: each task ends once", async () => {
    const services = await startServices(stack.db.url);
    try {
      await expectEachEndedOnce(await load(services), services);
    } finally {
      await services.stop();
    }
  }, 180_000);

  it("through PgBouncer in transaction mode, statements unnamed: the same", async () => {
    bouncer = await startPgBouncer({ upstreamUrl: inject("pgAdminUrl"), poolSize: 10 });
    const services = await startServices(bouncer.through(stack.db.url), {
      DATABASE_PREPARED_STATEMENTS: "unnamed",
    });
    try {
      await expectEachEndedOnce(await load(services), services);
    } finally {
      await services.stop();
    }
  }, 180_000);
});

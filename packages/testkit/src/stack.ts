import { randomUUID } from "node:crypto";
import {
  type ApiAppOptions,
  type BatchEventStreams,
  createApiApp,
  createBatchEventStreams,
  createTaskEventStreams,
  reportSharedState,
  type TaskEventStreams,
} from "@ripen/api";
import { createCallbacksApp } from "@ripen/callbacks";
import {
  countTasksWaitingToStart,
  createAccount,
  createTaskEnder,
  type TaskEnder,
} from "@ripen/core";
import type { DbHandle, TaskStatus } from "@ripen/db";
import { listen } from "@ripen/infra";
import {
  backlogLeaver,
  buildProviders,
  createAdmissionControl,
  createProviderHealth,
  defaultProviders,
  type HealthPolicy,
  type ProviderDeclaration,
  type Providers,
} from "@ripen/providers";
import {
  createDeliveryQueue,
  createProducerRedis,
  createQueueLoadReader,
  createRedis,
  createScheduleQueue,
  createTaskEndingEffects,
  createTaskEventSubscriber,
  createTaskNotifier,
  createTaskQueue,
  type DeliveryQueue,
  everyQueue,
  type RedisConnection,
  type ScheduleQueue,
  type TaskNotifier,
  type TaskQueue,
  whenReady,
} from "@ripen/queue";
import { type Sandbox, type SandboxOptions, startSandbox } from "@ripen/sandbox";
import { logTraceFields } from "@ripen/telemetry";
import { type RetryPolicy, type RipenWorker, startWorker, type WorkerOptions } from "@ripen/worker";
import { Cluster } from "ioredis";
import pino from "pino";
import { inject } from "vitest";
import { TestClock } from "./clock";
import { createTestDatabase, type TestDatabase } from "./database";
import { waitForTask } from "./wait-for-task";
import "./provided";

export const TEST_CALLBACK_SECRET = "test-callback-secret-0123456789";

export interface TestStackOptions {
  sandbox?: Omit<SandboxOptions, "now">;
  /** Start the BullMQ workers (default true). */
  worker?: boolean;
  /** Polling policy; short by default so tests finish quickly. */
  poll?: { baseMs: number; maxMs: number; callbackGraceMs?: number };
  /** Upstream attempts per task and their backoff; short by default. */
  retry?: Partial<RetryPolicy>;
  /** A Redis of the test's own (to stop or flush it); the shared one by default. */
  redisUrl?: string;
  /** The sweep's schedule; by default it never fires on its own and tests call `sweepNow`. */
  sweep?: { everyMs: number; graceMs: number };
  /** Per-request timeout of the upstream client (default 30 s). */
  providerTimeoutMs?: number;
  /** The providers (and so the sandbox's simulators); the registry's defaults by default. */
  providers?: readonly ProviderDeclaration[];
  /** When provider circuits open; by default as in production. */
  health?: HealthPolicy;
  /**
   * Passed to the worker (BullMQ lock and stalled-job timings, concurrency, client callbacks:
   * loopback is allowed by default, the tests' client endpoints listen on 127.0.0.1).
   */
  workerOptions?: Pick<
    WorkerOptions,
    "lockDurationMs" | "stalledIntervalMs" | "concurrency" | "batchConcurrency" | "deliveries"
  >;
  /** Live status's timers, tasks' and batches' (production defaults: heartbeat 15 s, re-read 5 s). */
  taskEvents?: { heartbeatMs?: number; recheckMs?: number };
  /**
   * Which user URLs the API accepts at create. Loopback is allowed by default: the tests' client
   * endpoints listen on 127.0.0.1. SSRF tests pass `{ allowLoopback: false }`.
   */
  userUrls?: ApiAppOptions["userUrls"];
  /**
   * Requests per minute of keys without their own limit, counted in the stack's Redis under its
   * prefix. High by default: tests send many requests per key; rate-limit tests set their own.
   */
  rateLimitPerMinute?: number;
  /** `ADMIN_TOKEN` for `/admin/v1`; unset, only admin-scope keys reach it. */
  adminToken?: string;
  /**
   * The pool the API, the callbacks receiver and the worker use, made from the test database's
   * URL (a pooler in front of it, say); closed with the stack. By default the database's own
   * pool, which the test's checks use either way.
   */
  servicesDb?: (databaseUrl: string) => DbHandle;
  /** Every service's logger (a test reads its lines); silent by default (`TEST_LOG_LEVEL`). */
  logger?: pino.Logger;
}

export interface TestStack {
  db: TestDatabase;
  redisUrl: string;
  /** The worker's connection (waits out outages). */
  redis: RedisConnection;
  /** The API's connection (fails fast while Redis is away), as in production. */
  producerRedis: RedisConnection;
  /** The API's live-status subscriber connection, named `subscriberName` in CLIENT LIST. */
  subscriberRedis: RedisConnection;
  subscriberName: string;
  /** The API's live-status streams (`GET /v1/tasks/{id}/events`). */
  taskEvents: TaskEventStreams;
  /** The API's live batch progress streams (`GET /v1/batches/{id}/events`). */
  batchEvents: BatchEventStreams;
  /** Publishes live-status hints as the callbacks receiver and the API do. */
  notifier: TaskNotifier;
  /** Ends tasks as the API and the callbacks receiver do (effects on the API's connection). */
  ender: TaskEnder;
  prefix: string;
  clock: TestClock;
  sandbox: Sandbox;
  sandboxUrl: string;
  apiUrl: string;
  callbacksUrl: string;
  providers: Providers;
  taskQueue: TaskQueue;
  /** Client callbacks' jobs, on the API's connection (redeliveries, callback endings add here). */
  deliveryQueue: DeliveryQueue;
  /** Schedules' job schedulers, on the API's connection. */
  scheduleQueue: ScheduleQueue;
  worker: RipenWorker | null;
  /** Starts a worker as the stack would (when started with `worker: false`, or a second one). */
  startWorker(): Promise<RipenWorker>;
  createAccount(credits: number): Promise<{ accountId: string; apiKey: string }>;
  /** Calls the API as a client would. */
  request(
    method: string,
    path: string,
    options?: { key?: string; body?: unknown; rawBody?: string },
  ): Promise<{ status: number; body: any }>;
  waitForTask(
    taskId: string,
    statuses: readonly TaskStatus[],
    timeoutMs?: number,
  ): Promise<TaskStatus>;
  close(): Promise<void>;
}

/** Leaves nothing of this file's queues behind in the shared Redis (each master of a Cluster). */
async function deleteKeys(redis: RedisConnection, pattern: string): Promise<void> {
  for (const server of redis instanceof Cluster ? redis.nodes("master") : [redis]) {
    let cursor = "0";
    do {
      const [next, keys] = await server.scan(cursor, "MATCH", pattern, "COUNT", 500);
      if (keys.length) await server.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  }
}

/**
 * The whole system for one test file, over real HTTP: its own database (cloned from the
 * template), its own queue prefix, the sandbox upstream, the API, the callback receiver and the
 * worker. The sweep's scheduler is set far apart; tests run it with `worker.sweepNow()`.
 */
export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const logger =
    options.logger ??
    pino({ level: process.env.TEST_LOG_LEVEL ?? "silent", mixin: logTraceFields });
  const db = await createTestDatabase();
  const servicesDb = options.servicesDb?.(db.url) ?? db;
  const redisUrl = options.redisUrl ?? inject("redisUrl");
  const redis = createRedis(redisUrl);
  const producerRedis = createProducerRedis(redisUrl);
  for (const connection of [redis, producerRedis]) connection.on("error", () => {});
  const prefix = `{test-${randomUUID()}}`;
  const clock = new TestClock();
  const declarations = options.providers ?? defaultProviders;
  const sandboxServer = await startSandbox({
    port: 0,
    host: "127.0.0.1",
    generationMs: 50,
    providers: declarations,
    ...options.sandbox,
  });
  const providers = buildProviders({}, sandboxServer.url, {
    declarations,
    timeoutMs: options.providerTimeoutMs,
  });
  const taskQueue = createTaskQueue({ connection: producerRedis, prefix });
  const deliveryQueue = createDeliveryQueue({ connection: producerRedis, prefix });
  const scheduleQueue = createScheduleQueue({ connection: producerRedis, prefix });
  await whenReady(producerRedis);
  const notifier = createTaskNotifier(producerRedis, prefix);
  const subscriberName = `api-task-events:${prefix}`;
  const subscriberRedis = createRedis(redisUrl, { connectionName: subscriberName });
  subscriberRedis.on("error", () => {});
  const subscriber = createTaskEventSubscriber(subscriberRedis, prefix);
  const taskEvents = createTaskEventStreams({
    db: servicesDb.db,
    subscriber,
    logger,
    ...options.taskEvents,
  });
  const batchEvents = createBatchEventStreams({
    db: servicesDb.db,
    subscriber,
    logger,
    clock,
    ...options.taskEvents,
  });

  const apiHealth = createProviderHealth(producerRedis, prefix);
  // One ender for the API and the callbacks service, built as their production processes do.
  const ender = createTaskEnder(
    createTaskEndingEffects({
      logger,
      redis: {
        taskQueue,
        deliveryQueue,
        notifier,
        releaseSlot: apiHealth.releaseSlot,
        recordGenerations: apiHealth.generations.record,
        leaveBacklogs: backlogLeaver(apiHealth, declarations),
      },
    }),
  );
  const onLoopback = { port: 0, host: "127.0.0.1" };
  const api = await listen(
    createApiApp({
      db: servicesDb.db,
      enqueue: (task) => taskQueue.enqueue(task),
      enqueueBatch: (tasks) => taskQueue.enqueueBulk(tasks),
      enqueueDelivery: (id) => deliveryQueue.enqueue(id),
      schedules: scheduleQueue,
      logger,
      clock,
      taskEvents,
      batchEvents,
      notifier,
      ender,
      userUrls: options.userUrls ?? { allowLoopback: true },
      providers: declarations,
      capacity: createAdmissionControl(
        declarations,
        apiHealth,
        createQueueLoadReader(producerRedis, prefix, (horizonMs) =>
          countTasksWaitingToStart(servicesDb.db, horizonMs),
        ),
      ),
      adminToken: options.adminToken,
      operations: {
        health: apiHealth,
        providers: declarations,
        queues: everyQueue({ connection: producerRedis, prefix }, [
          taskQueue.queue,
          deliveryQueue.queue,
          scheduleQueue.queue,
        ]),
      },
      rateLimit: {
        redis: producerRedis,
        prefix,
        defaultPerMinute: options.rateLimitPerMinute ?? 1_000_000,
      },
    }),
    { ...onLoopback, name: "API" },
  );
  const callbacks = await listen(
    createCallbacksApp({
      db: servicesDb.db,
      providers,
      secret: TEST_CALLBACK_SECRET,
      logger,
      clock,
      ender,
      health: apiHealth,
    }),
    { ...onLoopback, name: "Callbacks" },
  );
  // What the API's `/metrics` reports of queues, circuits and credits, as in production.
  const stopReporting = reportSharedState({
    db: servicesDb.db,
    queues: [taskQueue.queue, deliveryQueue.queue, scheduleQueue.queue],
    health: apiHealth,
    providers: declarations,
  });
  const workers: RipenWorker[] = [];
  async function startStackWorker(): Promise<RipenWorker> {
    const started = await startWorker({
      db: servicesDb.db,
      connection: redis,
      prefix,
      providers,
      logger,
      clock,
      callbackBaseUrl: callbacks.url,
      callbackSecret: TEST_CALLBACK_SECRET,
      poll: options.poll ?? { baseMs: 20, maxMs: 200 },
      retry: { maxAttempts: 3, baseMs: 10, maxMs: 50, ...options.retry },
      sweep: options.sweep ?? { everyMs: 3_600_000, graceMs: 0 },
      health: options.health,
      concurrency: 20,
      ...options.workerOptions,
      deliveries: { allowLoopback: true, ...options.workerOptions?.deliveries },
    });
    workers.push(started);
    return started;
  }
  const worker = options.worker === false ? null : await startStackWorker();

  return {
    db,
    redisUrl,
    redis,
    producerRedis,
    subscriberRedis,
    subscriberName,
    taskEvents,
    batchEvents,
    notifier,
    ender,
    prefix,
    clock,
    sandbox: sandboxServer.sandbox,
    sandboxUrl: sandboxServer.url,
    apiUrl: api.url,
    callbacksUrl: callbacks.url,
    providers,
    taskQueue,
    deliveryQueue,
    scheduleQueue,
    worker,
    startWorker: startStackWorker,
    async createAccount(credits) {
      const { accountId, apiKey } = await createAccount(db.db, { name: "test", credits });
      return { accountId, apiKey };
    },
    async request(method, path, { key, body, rawBody } = {}) {
      const response = await fetch(`${api.url}${path}`, {
        method,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(body !== undefined || rawBody !== undefined
            ? { "content-type": "application/json" }
            : {}),
        },
        body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    waitForTask: (taskId, statuses, timeoutMs) => waitForTask(db, taskId, statuses, timeoutMs),
    /** Stops everything and drops the database; fails if the ledger invariants do not hold. */
    async close() {
      stopReporting();
      await Promise.all(workers.map((w) => w.close()));
      await taskQueue.close();
      await deliveryQueue.close();
      await scheduleQueue.close();
      await deleteKeys(redis, `${prefix}:*`).catch(() => {});
      // Streams a test left open end first, or closing the API would wait for them.
      await Promise.all([taskEvents.close(), batchEvents.close()]);
      await Promise.all([api.close(), callbacks.close(), sandboxServer.close()]);
      await Promise.all([redis.quit(), producerRedis.quit(), subscriberRedis.quit()]).catch(
        () => {},
      );
      if (servicesDb !== db) await servicesDb.close();
      // Drops the database after checking the ledger (`checkLedger`); drift fails the close.
      await db.drop();
    },
  };
}

/**
 * `npm start`: the whole system in one process, for local use. Finds Postgres and Redis (or starts
 * an embedded Postgres and a redis-server), migrates, and runs the sandbox, the callback receiver,
 * the worker and the API. Production runs each app's own main instead.
 */
import path from "node:path";
import {
  configureDoorPrices,
  createApiApp,
  createBatchEventStreams,
  createTaskEventStreams,
  reportSharedState,
} from "@ripen/api";
import { createCallbacksApp } from "@ripen/callbacks";
import { isSet, stackEnv } from "@ripen/config";
import { consoleBundle } from "@ripen/console";
import { countTasksWaitingToStart, createTaskEnder } from "@ripen/core";
import { createDb, ensureDatabase, migrateDatabase } from "@ripen/db";
import {
  ensurePostgres,
  ensureRedis,
  listen,
  onShutdownSignal,
  postgresCheck,
  Resources,
  redactUrl,
  redisCheck,
  repoRoot,
} from "@ripen/infra";
import { addRefresh, poolSource, redisSource } from "@ripen/metrics";
import { configurePricesOrExit } from "@ripen/models";
import { userUrlPolicyOf } from "@ripen/net";
import {
  backlogLeaver,
  buildProviders,
  createAdmissionControl,
  createProviderHealth,
  loadEnvWithProvidersOrExit,
  sandboxMountOf,
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
  everyQueue,
  whenReady,
} from "@ripen/queue";
import { sandboxOptionsFromEnv, startSandbox } from "@ripen/sandbox";
import { logTraceFields, startTracing } from "@ripen/telemetry";
import { startWorker } from "@ripen/worker";
import pino from "pino";
import { ensureAdminToken } from "./admin-token";
import { DEMO_CREDITS, ensureDemoAccount } from "./demo-account";

const { env, declarations } = loadEnvWithProvidersOrExit(stackEnv);
configurePricesOrExit(env.RIPEN_PRICES);
configurePricesOrExit(env.RIPEN_DOOR_PRICES, configureDoorPrices);
// Synchronous, so log lines and the console banner appear in the order they happened.
// With OTEL_EXPORTER_OTLP_ENDPOINT set, spans go there and log lines carry their trace id.
const tracing = await startTracing("stack");
const logger = pino(
  { level: env.LOG_LEVEL, base: { service: "stack" }, mixin: logTraceFields },
  pino.destination({ sync: true }),
);
const root = repoRoot();
const keyFile = path.join(root, ".data", "demo-api-key");
const adminTokenFile = path.join(root, ".data", "admin-token");
// Local use only: every service listens on loopback, not on the network.
const HOST = "127.0.0.1";

const resources = new Resources();
if (tracing) resources.add("tracing", tracing.shutdown);
const closeAll = () =>
  resources.closeAll({ info: (m) => logger.info(m), error: (m) => logger.error(m) });
onShutdownSignal(closeAll, { log: (m) => logger.info(m) });

try {
  await run();
} catch (error) {
  logger.fatal({ err: error }, "startup failed");
  console.error(`\nRipen could not start: ${(error as Error).message}`);
  await closeAll();
  process.exit(1);
}

async function run(): Promise<void> {
  const log = (message: string) => logger.info(message);
  // Unset, user URLs may be loopback here: the walkthrough receives its own callbacks on
  // 127.0.0.1. Private, link-local and metadata addresses stay refused.
  const userUrls = userUrlPolicyOf(
    {
      ...env,
      USER_URLS_ALLOW_LOOPBACK: isSet("USER_URLS_ALLOW_LOOPBACK")
        ? env.USER_URLS_ALLOW_LOOPBACK
        : true,
    },
    logger,
  );

  // Fallbacks only for what the operator left unset: a URL they set and mistyped must fail
  // start-up, not quietly get an empty embedded database (and a new demo key).
  const postgres = await ensurePostgres({
    url: env.DATABASE_URL,
    dataDir: path.join(root, ".data", "postgres"),
    log,
    embeddedFallback: !isSet("DATABASE_URL"),
  });
  if (postgres.embedded) resources.add("embedded postgres", postgres.stop);
  const redisService = await ensureRedis({
    url: env.REDIS_URL,
    log,
    spawnFallback: !isSet("REDIS_URL"),
  });
  if (redisService.spawned) resources.add("redis-server", redisService.stop);

  await ensureDatabase(postgres.url);
  await migrateDatabase(postgres.url);
  const db = createDb(postgres.url, { preparedStatements: env.DATABASE_PREPARED_STATEMENTS });
  resources.add("database pool", db.close);

  // The worker's connection must wait out Redis outages (BullMQ requires it for blocking calls).
  const workerRedis = createRedis(redisService.url);
  workerRedis.on("error", (error) => logger.warn({ err: error.message }, "redis (worker)"));
  resources.add("redis connection (worker)", async () => {
    await workerRedis.quit();
  });
  // The API's must fail fast instead: a task is committed before it is enqueued, so a failed
  // enqueue is left to the sweep rather than holding the client's request open.
  const apiRedis = createProducerRedis(redisService.url);
  apiRedis.on("error", (error) => logger.warn({ err: error.message }, "redis (api)"));
  resources.add("redis connection (api)", async () => {
    await apiRedis.quit();
  });

  let sandboxUrl = `http://127.0.0.1:${env.SANDBOX_PORT}`;
  if (env.SANDBOX_ENABLED) {
    const sandbox = await startSandbox({ ...sandboxOptionsFromEnv(env), host: HOST });
    resources.add("sandbox", sandbox.close);
    sandboxUrl = sandbox.url;
  }
  const providers = buildProviders(process.env, sandboxUrl, { declarations });
  const onSandbox = providers.list.filter((p) => p.sandbox).map((p) => p.id);
  if (!env.SANDBOX_ENABLED && onSandbox.length > 0) {
    logger.warn(
      { sandboxUrl, providers: onSandbox },
      "SANDBOX_ENABLED=false but these providers have no URL and key: expecting a sandbox there",
    );
  }
  const taskQueue = createTaskQueue({ connection: apiRedis, prefix: env.QUEUE_PREFIX });
  resources.add("task queue", taskQueue.close);
  const deliveryQueue = createDeliveryQueue({ connection: apiRedis, prefix: env.QUEUE_PREFIX });
  resources.add("delivery queue", deliveryQueue.close);
  const scheduleQueue = createScheduleQueue({ connection: apiRedis, prefix: env.QUEUE_PREFIX });
  resources.add("schedule queue", scheduleQueue.close);
  // Live status: committers publish hints on the fail-fast connection; the API listens on one
  // subscriber connection of its own (a subscribed connection can do nothing else).
  const onHintError = (error: unknown, taskId: string) =>
    logger.warn({ err: (error as Error).message, taskId }, "live status: redis");
  const notifier = createTaskNotifier(apiRedis, env.QUEUE_PREFIX, { onError: onHintError });
  const subscriberRedis = createRedis(redisService.url, {
    connectionName: "ripen-api-task-events",
  });
  subscriberRedis.on("error", (error) => logger.warn({ err: error.message }, "redis (subscriber)"));
  resources.add("redis subscriber connection", async () => {
    await subscriberRedis.quit();
  });

  const apiHealth = createProviderHealth(apiRedis, env.QUEUE_PREFIX);
  // The callbacks service and the API end tasks with the effects every process uses.
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
  const callbacks = await listen(
    createCallbacksApp({
      db: db.db,
      providers,
      secret: env.CALLBACK_SECRET,
      logger,
      ender,
      health: apiHealth,
      readiness: { postgres: postgresCheck(db.pool) },
      // One process: every service's figures are on the API's `/metrics`.
      serveMetrics: false,
    }),
    { port: env.CALLBACKS_PORT, host: HOST, name: "Callbacks", portVariable: "CALLBACKS_PORT" },
  );
  resources.add("callbacks server", callbacks.close);
  // Unset, the callback URL follows CALLBACKS_PORT, so changing only the port still works.
  const callbackBaseUrl = process.env.PUBLIC_CALLBACK_URL ? env.PUBLIC_CALLBACK_URL : callbacks.url;

  const worker = await startWorker({
    db: db.db,
    connection: workerRedis,
    prefix: env.QUEUE_PREFIX,
    providers,
    logger,
    callbackBaseUrl,
    callbackSecret: env.CALLBACK_SECRET,
    poll: {
      baseMs: env.POLL_BASE_MS,
      maxMs: env.POLL_MAX_MS,
      callbackGraceMs: env.POLL_CALLBACK_GRACE_MS,
    },
    retry: {
      maxAttempts: env.SUBMIT_MAX_ATTEMPTS,
      baseMs: env.SUBMIT_RETRY_BASE_MS,
      maxMs: env.SUBMIT_RETRY_MAX_MS,
    },
    sweep: { everyMs: env.SWEEP_EVERY_MS, graceMs: env.SWEEP_GRACE_MS },
    concurrency: env.WORKER_CONCURRENCY,
    batchConcurrency: env.WORKER_BATCH_CONCURRENCY,
    // The local stack receives its own callbacks (the walkthrough's listener on 127.0.0.1).
    deliveries: { concurrency: env.DELIVERY_CONCURRENCY, allowLoopback: userUrls.allowLoopback },
  });
  resources.add("worker", worker.close);

  if (!(await whenReady(apiRedis))) logger.warn("redis not ready; creates are left to the sweep");
  const subscriber = createTaskEventSubscriber(subscriberRedis, env.QUEUE_PREFIX, {
    onError: onHintError,
  });
  const taskEvents = createTaskEventStreams({ db: db.db, subscriber, logger });
  const batchEvents = createBatchEventStreams({ db: db.db, subscriber, logger });
  // Built now, so the first visitor of /console does not wait for it.
  void consoleBundle();
  // Without ADMIN_TOKEN, one made and kept in .data, so the console's operator can sign in.
  const admin = env.ADMIN_TOKEN
    ? { token: env.ADMIN_TOKEN, created: false, fromEnv: true }
    : { ...(await ensureAdminToken(adminTokenFile)), fromEnv: false };
  const api = await listen(
    createApiApp({
      db: db.db,
      enqueue: taskQueue.enqueue,
      enqueueBatch: taskQueue.enqueueBulk,
      userUrls,
      enqueueDelivery: deliveryQueue.enqueue,
      schedules: scheduleQueue,
      taskEvents,
      batchEvents,
      notifier,
      ender,
      logger,
      bodyLimit: env.API_BODY_LIMIT,
      readiness: { postgres: postgresCheck(db.pool), redis: redisCheck(apiRedis) },
      providers: declarations,
      capacity: createAdmissionControl(
        declarations,
        apiHealth,
        createQueueLoadReader(apiRedis, env.QUEUE_PREFIX, (horizonMs) =>
          countTasksWaitingToStart(db.db, horizonMs),
        ),
      ),
      adminToken: admin.token,
      operations: {
        health: apiHealth,
        providers: declarations,
        // Every queue of the prefix, the worker's maintenance queue too.
        queues: everyQueue({ connection: apiRedis, prefix: env.QUEUE_PREFIX }, [
          taskQueue.queue,
          deliveryQueue.queue,
          scheduleQueue.queue,
        ]),
      },
      metricsToken: env.METRICS_TOKEN,
      rateLimit: {
        redis: apiRedis,
        prefix: env.QUEUE_PREFIX,
        defaultPerMinute: env.RATE_LIMIT_PER_MINUTE,
      },
      trustedProxies: env.TRUSTED_PROXIES,
    }),
    { port: env.API_PORT, host: HOST, name: "API", portVariable: "API_PORT" },
  );
  addRefresh(poolSource("stack", db.pool));
  addRefresh(redisSource(apiRedis));
  reportSharedState({
    db: db.db,
    queues: [taskQueue.queue, deliveryQueue.queue, scheduleQueue.queue],
    health: apiHealth,
    providers: declarations,
  });
  // Open streams end first, or closing the server would wait for them.
  resources.add("api server", async () => {
    const closed = api.close();
    await Promise.all([taskEvents.close(), batchEvents.close()]);
    await closed;
  });

  const demo = await ensureDemoAccount(db.db, keyFile);
  const relativeKeyFile = path.relative(process.cwd(), keyFile) || keyFile;

  const idWidth = Math.max(...providers.list.map((p) => p.id.length));
  const lines = [
    "",
    "Ripen is running (all services in one process; Ctrl+C stops it)",
    `  API        ${api.url}   (health: /healthz, /readyz)`,
    `  Callbacks  ${callbacks.url}   (providers are told ${callbackBaseUrl})`,
    env.SANDBOX_ENABLED
      ? `  Sandbox    ${sandboxUrl}   (one simulator per provider, at ${sandboxUrl}/{provider})`
      : "  Sandbox    disabled (SANDBOX_ENABLED=false)",
    ...providers.list.map(
      (p, i) =>
        `  ${i === 0 ? "Providers" : "         "}  ${p.id.padEnd(idWidth)} ${p.dialect.padEnd(11)}→ ${p.sandbox ? `sandbox ${sandboxUrl}${sandboxMountOf(p.id)}` : p.baseUrl}`,
    ),
    `  Worker     concurrency ${env.WORKER_CONCURRENCY}, queue prefix ${env.QUEUE_PREFIX}`,
    `  Postgres   ${redactUrl(postgres.url)}${postgres.embedded ? "   (embedded, data in .data/postgres)" : ""}`,
    `  Redis      ${redactUrl(redisService.url)}${redisService.spawned ? "   (started by Ripen, in memory)" : ""}`,
    "",
  ];
  if (demo.state === "created") {
    lines.push(
      demo.databaseInUse
        ? `No saved demo key authenticates against this database: created the demo account ${demo.accountId} with ${DEMO_CREDITS} credits.`
        : `Created the demo account ${demo.accountId} with ${DEMO_CREDITS} credits.`,
      `Demo API key: ${demo.apiKey}`,
      `(shown once; saved to ${relativeKeyFile})`,
    );
  } else {
    lines.push(
      demo.switched
        ? `The demo account ${demo.accountId} of this database: its API key is now in ${relativeKeyFile}.`
        : `The demo account exists; its API key is in ${relativeKeyFile}.`,
    );
  }
  lines.push(
    admin.fromEnv
      ? "Admin token: ADMIN_TOKEN's (operator sign-in at /console)"
      : `Admin token: ${admin.token}   (${admin.created ? "created, " : ""}kept in ${path.relative(process.cwd(), adminTokenFile) || adminTokenFile}; operator sign-in at /console)`,
  );
  lines.push(
    "",
    "Try it:",
    `  export KEY=$(cat ${relativeKeyFile})`,
    `  curl -s ${api.url}/v1/images/generations -H "Authorization: Bearer $KEY" \\`,
    `    -H 'content-type: application/json' -d '{"model":"nano-banana-2","input":{"prompt":"a cat"}}'`,
  );
  console.log(`${lines.join("\n")}\n`);
}

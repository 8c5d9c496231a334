/**
 * The API alone, for production (one process per service). Applies pending migrations on start;
 * Postgres and Redis must already be running.
 */
import { apiEnv, loadEnvOrExit, providersEnv } from "@ripen/config";
import { consoleBundle } from "@ripen/console";
import { countTasksWaitingToStart, createTaskEnder } from "@ripen/core";
import { createDb, migrateDatabase } from "@ripen/db";
import {
  checkPostgres,
  checkRedis,
  listen,
  postgresCheck,
  redisCheck,
  runService,
} from "@ripen/infra";
import { addRefresh, poolSource, redisSource } from "@ripen/metrics";
import { configurePricesOrExit } from "@ripen/models";
import { userUrlPolicyOf } from "@ripen/net";
import {
  backlogLeaver,
  createAdmissionControl,
  createProviderHealth,
  providerDeclarationsOrExit,
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
import { logTraceFields, startTracing } from "@ripen/telemetry";
import pino from "pino";
import { createApiApp } from "./app";
import { createBatchEventStreams } from "./batch-event-streams";
import { configureDoorPrices } from "./doors/pricing";
import { reportSharedState } from "./shared-state-metrics";
import { createTaskEventStreams } from "./task-event-streams";

const env = loadEnvOrExit(apiEnv.extend(providersEnv.shape));
configurePricesOrExit(env.RIPEN_PRICES);
configurePricesOrExit(env.RIPEN_DOOR_PRICES, configureDoorPrices);
// With OTEL_EXPORTER_OTLP_ENDPOINT set, spans go there and log lines carry their trace id.
const tracing = await startTracing("api");
const logger = pino({ level: env.LOG_LEVEL, base: { service: "api" }, mixin: logTraceFields });
await runService("api", logger, async (resources) => {
  // A URL that does not answer fails here, in one line naming it, not at the first request.
  await checkPostgres(env.DATABASE_URL);
  await checkRedis(env.REDIS_URL);
  await migrateDatabase(env.DATABASE_URL);
  const db = createDb(env.DATABASE_URL, {
    max: env.API_DB_POOL_SIZE,
    preparedStatements: env.DATABASE_PREPARED_STATEMENTS,
  });
  if (tracing) resources.add("tracing", tracing.shutdown);
  resources.add("database pool", db.close);

  // Fail fast: a task is committed before it is enqueued, and a failed enqueue is left to the
  // worker's sweep, so a Redis outage must not hold client requests open.
  const redis = createProducerRedis(env.REDIS_URL);
  redis.on("error", (error) => logger.warn({ err: error.message }, "redis"));
  resources.add("redis connection", async () => {
    await redis.quit();
  });
  const taskQueue = createTaskQueue({ connection: redis, prefix: env.QUEUE_PREFIX });
  if (!(await whenReady(redis))) logger.warn("redis not ready; creates are left to the sweep");
  resources.add("task queue", taskQueue.close);
  // Redeliveries (and a cancel's callback) add their job here; the sweep covers a failed add.
  const deliveryQueue = createDeliveryQueue({ connection: redis, prefix: env.QUEUE_PREFIX });
  resources.add("delivery queue", deliveryQueue.close);
  // Schedules' job schedulers change with their schedule, in its transaction (else a 503).
  const scheduleQueue = createScheduleQueue({ connection: redis, prefix: env.QUEUE_PREFIX });
  resources.add("schedule queue", scheduleQueue.close);

  // Live status: one subscriber connection for every SSE stream of this process. It waits out
  // Redis outages (ioredis subscribes again on reconnect); meanwhile streams re-read Postgres.
  const subscriberRedis = createRedis(env.REDIS_URL, { connectionName: "ripen-api-task-events" });
  subscriberRedis.on("error", (error) => logger.warn({ err: error.message }, "redis (subscriber)"));
  resources.add("redis subscriber connection", async () => {
    await subscriberRedis.quit();
  });
  const onHintError = (error: unknown, taskId: string) =>
    logger.warn({ err: (error as Error).message, taskId }, "live status: redis");
  const subscriber = createTaskEventSubscriber(subscriberRedis, env.QUEUE_PREFIX, {
    onError: onHintError,
  });
  const taskEvents = createTaskEventStreams({ db: db.db, subscriber, logger });
  const batchEvents = createBatchEventStreams({ db: db.db, subscriber, logger });

  const notifier = createTaskNotifier(redis, env.QUEUE_PREFIX, { onError: onHintError });
  const declarations = providerDeclarationsOrExit(process.env);
  const health = createProviderHealth(redis, env.QUEUE_PREFIX);
  // Cancels end tasks here: the same effects after commit as every other process's endings.
  const ender = createTaskEnder(
    createTaskEndingEffects({
      logger,
      redis: {
        taskQueue,
        deliveryQueue,
        notifier,
        releaseSlot: health.releaseSlot,
        recordGenerations: health.generations.record,
        leaveBacklogs: backlogLeaver(health, declarations),
      },
    }),
  );
  // Built now, so the first visitor of /console does not wait for it.
  void consoleBundle();
  const app = createApiApp({
    db: db.db,
    enqueue: taskQueue.enqueue,
    enqueueBatch: taskQueue.enqueueBulk,
    userUrls: userUrlPolicyOf(env, logger),
    enqueueDelivery: deliveryQueue.enqueue,
    schedules: scheduleQueue,
    taskEvents,
    batchEvents,
    notifier,
    ender,
    logger,
    bodyLimit: env.API_BODY_LIMIT,
    readiness: { postgres: postgresCheck(db.pool), redis: redisCheck(redis) },
    providers: declarations,
    capacity: createAdmissionControl(
      declarations,
      health,
      createQueueLoadReader(redis, env.QUEUE_PREFIX, (horizonMs) =>
        countTasksWaitingToStart(db.db, horizonMs),
      ),
    ),
    adminToken: env.ADMIN_TOKEN,
    operations: {
      health,
      providers: declarations,
      // Every queue of the prefix, the worker's maintenance queue too.
      queues: everyQueue({ connection: redis, prefix: env.QUEUE_PREFIX }, [
        taskQueue.queue,
        deliveryQueue.queue,
        scheduleQueue.queue,
      ]),
    },
    metricsToken: env.METRICS_TOKEN,
    rateLimit: { redis, prefix: env.QUEUE_PREFIX, defaultPerMinute: env.RATE_LIMIT_PER_MINUTE },
    trustedProxies: env.TRUSTED_PROXIES,
  });
  addRefresh(poolSource("api", db.pool));
  addRefresh(redisSource(redis));
  reportSharedState({
    db: db.db,
    queues: [taskQueue.queue, deliveryQueue.queue, scheduleQueue.queue],
    health,
    providers: declarations,
  });
  // Every interface: in a container the port is published from outside.
  const server = await listen(app, { port: env.API_PORT, name: "API", portVariable: "API_PORT" });
  // Open streams end first (clients reconnect elsewhere with Last-Event-ID), or closing the
  // server would wait for them.
  resources.add("api server", async () => {
    const closed = server.close();
    await Promise.all([taskEvents.close(), batchEvents.close()]);
    await closed;
  });
  logger.info({ port: env.API_PORT }, "api listening");
});

/**
 * The provider callback receiver alone, for production: the only service providers reach. It
 * needs the database migrated (the API and worker do that). Redis is optional: with REDIS_URL
 * set it publishes live-status hints when a callback ends a task; without, SSE streams learn of
 * those endings by their periodic re-read.
 */
import { callbacksEnv, isSet, providersEnv } from "@ripen/config";
import { createDb } from "@ripen/db";
import { checkPostgres, listen, postgresCheck, runService } from "@ripen/infra";
import { buildProviders, loadEnvWithProvidersOrExit } from "@ripen/providers";
import {
  createDeliveryQueue,
  createProducerRedis,
  createTaskNotifier,
  type DeliveryQueue,
  type TaskNotifier,
} from "@ripen/queue";
import pino from "pino";
import { createCallbacksApp } from "./app";

const { env, declarations } = loadEnvWithProvidersOrExit(callbacksEnv.extend(providersEnv.shape));
const logger = pino({ level: env.LOG_LEVEL, base: { service: "callbacks" } });
await runService("callbacks", logger, async (resources) => {
  await checkPostgres(env.DATABASE_URL);
  const db = createDb(env.DATABASE_URL);
  resources.add("database pool", db.close);
  // Callbacks are parsed with each provider's dialect; the clients' upstream URLs are unused
  // here, so the sandbox fallback address does not matter. Without Redis it cannot wake a
  // task's job: a task whose attempt failed upstream moves on at its next poll.
  const providers = buildProviders(process.env, "http://127.0.0.1:3100", { declarations });
  let notifier: TaskNotifier | undefined;
  // Without Redis, a client callback's job is added by the worker's sweep once it is due.
  let deliveryQueue: DeliveryQueue | undefined;
  if (isSet("REDIS_URL")) {
    // Fail fast: a hint is dropped while Redis is away, never holding a provider's callback.
    const redis = createProducerRedis(env.REDIS_URL);
    redis.on("error", (error) => logger.warn({ err: error.message }, "redis"));
    resources.add("redis connection", async () => {
      await redis.quit();
    });
    notifier = createTaskNotifier(redis, env.QUEUE_PREFIX, {
      onError: (error, taskId) =>
        logger.warn({ err: (error as Error).message, taskId }, "live-status hint not sent"),
    });
    deliveryQueue = createDeliveryQueue({ connection: redis, prefix: env.QUEUE_PREFIX });
    resources.add("delivery queue", deliveryQueue.close);
  }
  const app = createCallbacksApp({
    db: db.db,
    providers,
    secret: env.CALLBACK_SECRET,
    notifier,
    enqueueDelivery: deliveryQueue?.enqueue,
    logger,
    readiness: { postgres: postgresCheck(db.pool) },
  });
  const server = await listen(app, {
    port: env.CALLBACKS_PORT,
    name: "Callbacks",
    portVariable: "CALLBACKS_PORT",
  });
  resources.add("callbacks server", server.close);
  logger.info({ port: env.CALLBACKS_PORT }, "callbacks listening");
});

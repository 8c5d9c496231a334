/**
 * The API alone, for production (one process per service). Applies pending migrations on start;
 * Postgres and Redis must already be running.
 */
import { apiEnv, loadEnvOrExit, providersEnv } from "@ripen/config";
import { createDb, migrateDatabase } from "@ripen/db";
import {
  checkPostgres,
  checkRedis,
  listen,
  postgresCheck,
  redisCheck,
  runService,
} from "@ripen/infra";
import { configurePricesOrExit } from "@ripen/models";
import { createProducerRedis, createTaskQueue, whenReady } from "@ripen/queue";
import pino from "pino";
import { createApiApp } from "./app";

const env = loadEnvOrExit(apiEnv.extend(providersEnv.shape));
configurePricesOrExit(env.RIPEN_PRICES);
const logger = pino({ level: env.LOG_LEVEL, base: { service: "api" } });
await runService("api", logger, async (resources) => {
  // A URL that does not answer fails here, in one line naming it, not at the first request.
  await checkPostgres(env.DATABASE_URL);
  await checkRedis(env.REDIS_URL);
  await migrateDatabase(env.DATABASE_URL);
  const db = createDb(env.DATABASE_URL, { max: env.API_DB_POOL_SIZE });
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

  const app = createApiApp({
    db: db.db,
    enqueue: taskQueue.enqueue,
    logger,
    bodyLimit: env.API_BODY_LIMIT,
    readiness: { postgres: postgresCheck(db.pool), redis: redisCheck(redis) },
  });
  // Every interface: in a container the port is published from outside.
  const server = await listen(app, { port: env.API_PORT, name: "API", portVariable: "API_PORT" });
  resources.add("api server", server.close);
  logger.info({ port: env.API_PORT }, "api listening");
});

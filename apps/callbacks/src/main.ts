/**
 * The provider callback receiver alone, for production: the only service providers reach. It
 * needs the database migrated (the API and worker do that). Redis is optional: with REDIS_URL
 * set it publishes live-status hints when a callback ends a task; without, SSE streams learn of
 * those endings by their periodic re-read.
 */
import { callbacksEnv, isSet, providersEnv } from "@ripen/config";
import { createDb } from "@ripen/db";
import { checkPostgres, listen, postgresCheck, runService } from "@ripen/infra";
import { addRefresh, poolSource, redisSource } from "@ripen/metrics";
import { buildProviders, loadEnvWithProvidersOrExit } from "@ripen/providers";
import { createProducerRedis } from "@ripen/queue";
import { logTraceFields, startTracing } from "@ripen/telemetry";
import pino from "pino";
import { createCallbacksApp } from "./app";
import { createCallbacksEnder } from "./ender";

const { env, declarations } = loadEnvWithProvidersOrExit(callbacksEnv.extend(providersEnv.shape));
// With OTEL_EXPORTER_OTLP_ENDPOINT set, spans go there and log lines carry their trace id.
const tracing = await startTracing("callbacks");
const logger = pino({
  level: env.LOG_LEVEL,
  base: { service: "callbacks" },
  mixin: logTraceFields,
});
await runService("callbacks", logger, async (resources) => {
  await checkPostgres(env.DATABASE_URL);
  const db = createDb(env.DATABASE_URL, {
    preparedStatements: env.DATABASE_PREPARED_STATEMENTS,
  });
  if (tracing) resources.add("tracing", tracing.shutdown);
  resources.add("database pool", db.close);
  // Callbacks are parsed with each provider's dialect; the clients' upstream URLs are unused
  // here, so the sandbox fallback address does not matter. Without Redis it cannot wake a
  // task's job: a task whose attempt failed upstream moves on at its next poll.
  const providers = buildProviders(process.env, "http://127.0.0.1:3100", { declarations });
  let redis: ReturnType<typeof createProducerRedis> | undefined;
  if (isSet("REDIS_URL")) {
    // Fail fast: a hint is dropped while Redis is away, never holding a provider's callback.
    redis = createProducerRedis(env.REDIS_URL);
    redis.on("error", (error) => logger.warn({ err: error.message }, "redis"));
    const connection = redis;
    resources.add("redis connection", async () => {
      await connection.quit();
    });
  }
  // Without Redis, a client callback's job is added by the worker's sweep once it is due, and a
  // task whose attempt failed upstream moves on at its next poll.
  const { ender, health, close } = createCallbacksEnder({
    logger,
    redis: redis ? { connection: redis, prefix: env.QUEUE_PREFIX } : undefined,
    providers,
  });
  resources.add("task and delivery queues", close);
  const app = createCallbacksApp({
    db: db.db,
    providers,
    secret: env.CALLBACK_SECRET,
    ender,
    health,
    logger,
    readiness: { postgres: postgresCheck(db.pool) },
    metricsToken: env.METRICS_TOKEN,
  });
  addRefresh(poolSource("callbacks", db.pool));
  if (redis) addRefresh(redisSource(redis));
  const server = await listen(app, {
    port: env.CALLBACKS_PORT,
    name: "Callbacks",
    portVariable: "CALLBACKS_PORT",
  });
  // Providers post callbacks in bursts (a batch's items end together). Node's default keeps an
  // idle connection 5 s, so each burst dialed anew; a minute keeps a provider's senders warm
  // (longer than a sender's own idle timeout, so the sender is the one that closes).
  server.server.keepAliveTimeout = 65_000;
  server.server.headersTimeout = 66_000;
  resources.add("callbacks server", server.close);
  logger.info({ port: env.CALLBACKS_PORT }, "callbacks listening");
});

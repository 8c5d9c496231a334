/**
 * The BullMQ workers alone, for production; run as many as the load needs. Applies pending
 * migrations on start; Postgres and Redis must already be running.
 */
import { workerServiceEnv } from "@ripen/config";
import { createDb, migrateDatabase } from "@ripen/db";
import {
  checkPostgres,
  checkRedis,
  postgresCheck,
  redisCheck,
  runService,
  serveHealth,
} from "@ripen/infra";
import { addRefresh, metricsHandler, poolSource, redisSource } from "@ripen/metrics";
import { configurePricesOrExit } from "@ripen/models";
import { userUrlPolicyOf } from "@ripen/net";
import { buildProviders, loadEnvWithProvidersOrExit } from "@ripen/providers";
import { createRedis } from "@ripen/queue";
import { logTraceFields, startTracing } from "@ripen/telemetry";
import pino from "pino";
import { startWorker } from "./worker";

const { env, declarations } = loadEnvWithProvidersOrExit(workerServiceEnv);
configurePricesOrExit(env.RIPEN_PRICES);
// With OTEL_EXPORTER_OTLP_ENDPOINT set, spans go there and log lines carry their trace id.
const tracing = await startTracing("worker");
const logger = pino({ level: env.LOG_LEVEL, base: { service: "worker" }, mixin: logTraceFields });
// Closing waits for active jobs (each is one short provider call), hence the longer allowance.
await runService(
  "worker",
  logger,
  async (resources) => {
    // A URL that does not answer fails here, in one line naming it.
    await checkPostgres(env.DATABASE_URL);
    await checkRedis(env.REDIS_URL);
    await migrateDatabase(env.DATABASE_URL);
    const db = createDb(env.DATABASE_URL, {
      preparedStatements: env.DATABASE_PREPARED_STATEMENTS,
    });
    if (tracing) resources.add("tracing", tracing.shutdown);
    resources.add("database pool", db.close);

    const redis = createRedis(env.REDIS_URL);
    redis.on("error", (error) => logger.warn({ err: error.message }, "redis"));
    resources.add("redis connection", async () => {
      await redis.quit();
    });

    // A provider without its URL and key goes to a sandbox on this host (as `npm start` runs it).
    const sandboxUrl = env.SANDBOX_URL ?? `http://127.0.0.1:${env.SANDBOX_PORT}`;
    const providers = buildProviders(process.env, sandboxUrl, { declarations });
    for (const provider of providers.list) {
      if (provider.sandbox)
        logger.warn({ provider: provider.id, url: provider.baseUrl }, "using the sandbox");
    }
    const worker = await startWorker({
      db: db.db,
      connection: redis,
      prefix: env.QUEUE_PREFIX,
      providers,
      logger,
      callbackBaseUrl: env.PUBLIC_CALLBACK_URL,
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
      // Client callbacks: loopback only with USER_URLS_ALLOW_LOOPBACK (see @ripen/net).
      deliveries: {
        concurrency: env.DELIVERY_CONCURRENCY,
        allowLoopback: userUrlPolicyOf(env, logger).allowLoopback,
      },
    });
    resources.add("worker", worker.close);

    // The worker serves no traffic; this gives orchestrators the same probes as the other services.
    const health = await serveHealth({
      port: env.WORKER_HEALTH_PORT,
      name: "Worker health",
      portVariable: "WORKER_HEALTH_PORT",
      checks: { postgres: postgresCheck(db.pool), redis: redisCheck(redis) },
      onFailure: (check, error) => logger.warn({ err: error, check }, "not ready"),
      metrics: metricsHandler({ token: env.METRICS_TOKEN }),
    });
    addRefresh(poolSource("worker", db.pool));
    addRefresh(redisSource(redis));
    resources.add("health server", health.close);
    logger.info(
      {
        concurrency: env.WORKER_CONCURRENCY,
        prefix: env.QUEUE_PREFIX,
        providers: Object.fromEntries(providers.list.map((p) => [p.id, p.baseUrl])),
        healthPort: env.WORKER_HEALTH_PORT,
      },
      "worker started",
    );
  },
  { shutdownTimeoutMs: 30_000 },
);

/**
 * The provider callback receiver alone, for production: the only service providers reach. It
 * needs the database migrated (the API and worker do that) and no Redis.
 */
import { callbacksEnv, providersEnv } from "@ripen/config";
import { createDb } from "@ripen/db";
import { checkPostgres, listen, postgresCheck, runService } from "@ripen/infra";
import { buildProviders, loadEnvWithProvidersOrExit } from "@ripen/providers";
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
  const app = createCallbacksApp({
    db: db.db,
    providers,
    secret: env.CALLBACK_SECRET,
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

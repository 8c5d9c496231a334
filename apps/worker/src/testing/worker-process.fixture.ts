/**
 * A worker in a process of its own, for tests that kill it with SIGKILL mid-operation or run
 * several workers at once. Settings come from the environment the test passes (TEST_PROVIDERS:
 * the provider declarations as JSON, default the registry's); it prints "ready" once it takes jobs.
 */
import { createDb } from "@ripen/db";
import { buildProviders, defaultProviders } from "@ripen/providers";
import { createRedis } from "@ripen/queue";
import pino from "pino";
import { startWorker } from "../worker";

const setting = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const db = createDb(setting("DATABASE_URL"));
const redis = createRedis(setting("REDIS_URL"));
await startWorker({
  db: db.db,
  connection: redis,
  prefix: setting("QUEUE_PREFIX"),
  providers: buildProviders({}, setting("SANDBOX_URL"), {
    declarations: process.env.TEST_PROVIDERS
      ? JSON.parse(process.env.TEST_PROVIDERS)
      : defaultProviders,
  }),
  logger: pino({ level: "silent" }),
  callbackBaseUrl: setting("CALLBACKS_URL"),
  callbackSecret: setting("CALLBACK_SECRET"),
  poll: { baseMs: 20, maxMs: 200 },
  sweep: { everyMs: 3_600_000, graceMs: 0 },
  // WORKER_DEFAULT_LOCKS keeps BullMQ's lock and stalled-job settings as production has them.
  ...(process.env.WORKER_DEFAULT_LOCKS ? {} : { lockDurationMs: 1_000 }),
});
console.log("ready");

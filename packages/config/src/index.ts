import { z } from "zod";

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const positiveMs = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const rate = z.coerce.number().min(0).max(1).default(0);

/** The development callback secret; production must set its own (checked at start). */
export const DEV_CALLBACK_SECRET = "ripen-dev-callback-secret";

export const sharedEnv = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DATABASE_URL: z.url().default("postgres://postgres:postgres@127.0.0.1:5432/ripen"),
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  /** Braces make it a Redis Cluster hash tag, so every key of a queue lands on one slot. */
  QUEUE_PREFIX: z.string().min(1).default("{ripen}"),
  CALLBACK_SECRET: z.string().min(16).default(DEV_CALLBACK_SECRET),
});

export const apiEnv = sharedEnv.extend({
  API_PORT: port(3000),
  /** Largest accepted request body. */
  API_BODY_LIMIT: z.string().default("1mb"),
});

export const callbacksEnv = sharedEnv.extend({
  CALLBACKS_PORT: port(3001),
});

export const providersEnv = z.object({
  /** Unset: the embedded sandbox. Set both to call the real provider. */
  AIVIDEOAPI_BASE_URL: z.url().optional(),
  AIVIDEOAPI_API_KEY: z.string().min(1).optional(),
});

export const workerEnv = sharedEnv.extend(providersEnv.shape).extend({
  /** Base URL the providers can reach apps/callbacks at. */
  PUBLIC_CALLBACK_URL: z.url().default("http://127.0.0.1:3001"),
  WORKER_CONCURRENCY: z.coerce.number().int().positive().default(50),
  POLL_BASE_MS: positiveMs(2_000),
  POLL_MAX_MS: positiveMs(30_000),
  SWEEP_EVERY_MS: positiveMs(30_000),
  /** How long an active task may sit untouched before the sweep checks it has live work. */
  SWEEP_GRACE_MS: positiveMs(60_000),
});

export const sandboxEnv = z.object({
  SANDBOX_PORT: port(3100),
  /** Interface the standalone sandbox listens on; containers need 0.0.0.0. */
  SANDBOX_HOST: z.string().min(1).default("127.0.0.1"),
  /** How the sandbox names itself in result URLs. Defaults to http://127.0.0.1:{SANDBOX_PORT}. */
  SANDBOX_PUBLIC_URL: z.url().optional(),
  SANDBOX_GENERATION_MS: z.coerce.number().int().min(0).default(3_000),
  SANDBOX_FAILURE_RATE: rate,
  SANDBOX_CALLBACK_LOSS_RATE: rate,
  SANDBOX_CALLBACK_DUPLICATE_RATE: rate,
  SANDBOX_INITIAL_CREDITS: z.coerce.number().int().min(0).default(1_000_000),
});

export const stackEnv = apiEnv
  .extend(callbacksEnv.shape)
  .extend(workerEnv.shape)
  .extend(sandboxEnv.shape)
  .extend({
    /** Start the sandbox simulators in the same process. */
    SANDBOX_ENABLED: z
      .enum(["true", "false"])
      .default("true")
      .transform((v) => v === "true"),
  });

export type SharedEnv = z.infer<typeof sharedEnv>;
export type ApiEnv = z.infer<typeof apiEnv>;
export type CallbacksEnv = z.infer<typeof callbacksEnv>;
export type WorkerEnv = z.infer<typeof workerEnv>;
export type SandboxEnv = z.infer<typeof sandboxEnv>;
export type StackEnv = z.infer<typeof stackEnv>;

/**
 * Parses the environment once at boot; a typo fails here, naming every bad variable, rather than
 * at the first request.
 */
export function loadEnv<S extends z.ZodType>(
  schema: S,
  source: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const env = parsed.data as z.infer<S>;
  const shared = env as Partial<SharedEnv>;
  if (shared.NODE_ENV === "production" && shared.CALLBACK_SECRET === DEV_CALLBACK_SECRET) {
    throw new Error("Invalid configuration:\n  CALLBACK_SECRET: must be set in production");
  }
  return env;
}

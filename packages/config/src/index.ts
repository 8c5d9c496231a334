import { z } from "zod";
import { isRedisClusterUrl, parseRedisClusterUrl, redisHashTag } from "./redis-url";

export {
  isRedisClusterUrl,
  parseRedisClusterUrl,
  type RedisClusterTarget,
  redisHashTag,
} from "./redis-url";

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const positiveMs = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const rate = z.coerce.number().min(0).max(1).default(0);

// z.url() alone accepts "localhost:3001" (scheme "localhost:"), which then fails every request;
// each URL names the schemes its client speaks.
export const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });
const postgresUrl = z.url({
  protocol: /^postgres(ql)?$/,
  error: "must be a postgres:// or postgresql:// URL",
});
const singleRedisUrl = z.url({ protocol: /^rediss?$/ });
const redisUrl = z.string().superRefine((value, ctx) => {
  if (!isRedisClusterUrl(value)) {
    if (!singleRedisUrl.safeParse(value).success) {
      ctx.addIssue({
        code: "custom",
        message:
          "must be a redis:// or rediss:// URL, or redis+cluster://host:port,… for a Cluster",
      });
    }
    return;
  }
  try {
    parseRedisClusterUrl(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
});

/** The development callback secret; production must set its own (checked at start). */
export const DEV_CALLBACK_SECRET = "ripen-dev-callback-secret";

export const sharedEnv = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Unset: localhost, and `npm start` may start an embedded Postgres; set: must answer. */
  DATABASE_URL: postgresUrl.default("postgres://postgres:postgres@127.0.0.1:5432/ripen"),
  /**
   * `named`: Ripen's hot statements are prepared once per connection. `unnamed`: sent without
   * their name, for a pooler in transaction mode that does not track prepared statements
   * (PgBouncer before 1.21, or with max_prepared_statements = 0).
   */
  DATABASE_PREPARED_STATEMENTS: z
    .enum(["named", "unnamed"], { error: 'must be "named" or "unnamed"' })
    .default("named"),
  /**
   * Unset: localhost, and `npm start` may spawn redis-server; set: must answer. A Redis Cluster
   * is `redis+cluster://[user:password@]host:port[,host:port…]` (see `./redis-url`).
   */
  REDIS_URL: redisUrl.default("redis://127.0.0.1:6379"),
  /**
   * Braces make it a Redis Cluster hash tag: every key Ripen writes starts with it, so all of
   * them (queues, provider limits, rate limits) share one slot, as multi-key scripts need.
   */
  QUEUE_PREFIX: z.string().min(1).default("{ripen}"),
  CALLBACK_SECRET: z.string().min(16).default(DEV_CALLBACK_SECRET),
  /**
   * Whether user URLs (callback URLs, input image URLs) may be loopback (127.0.0.0/8, ::1,
   * localhost). Off by default; `npm start` turns it on when unset, so the walkthrough can
   * receive its own callbacks. Private, link-local and metadata ranges are refused regardless.
   */
  USER_URLS_ALLOW_LOOPBACK: z
    .enum(["true", "false"], { error: 'must be "true" or "false"' })
    .default("false")
    .transform((v) => v === "true"),
  /**
   * `GET /metrics` on every service asks for `Authorization: Bearer <METRICS_TOKEN>` when set;
   * unset, it is open (a private network, or a scraper beside the service).
   */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
});

export const apiEnv = sharedEnv.extend({
  API_PORT: port(3000),
  /** Largest accepted request body. */
  API_BODY_LIMIT: z.string().default("1mb"),
  /** Postgres connections of one API process: a create holds one for a single statement. */
  API_DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(20),
  /** Requests per minute of an API key without its own limit (001: 60), across all API processes. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  /**
   * Comma-separated CIDRs or addresses of the reverse proxies in front of the API: only from them
   * is X-Forwarded-For believed (for key IP allowlists). Default none: the socket's address.
   */
  TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((list) =>
      list
        .split(",")
        .map((entry) => entry.trim())
        .filter(Boolean),
    ),
  /**
   * The operator's credential for `/admin/v1` (`Authorization: Bearer …`); unset, only API keys
   * with the `admin` scope reach it. At least 32 characters: it can do anything.
   */
  ADMIN_TOKEN: z.string().min(32, "must be at least 32 characters").optional(),
});

export const callbacksEnv = sharedEnv.extend({
  CALLBACKS_PORT: port(3001),
});

/**
 * The providers' own variables (`{ID}_BASE_URL`, `{ID}_API_KEY` for each provider of the
 * registry) are added by `@ripen/providers`, which derives them from its declarations.
 */
export const providersEnv = z.object({
  /** JSON array: providers added to (or changed from) the defaults, e.g. a second kie host. */
  RIPEN_PROVIDERS: z.string().optional(),
  /** JSON keyed by model id: prices replacing the documented defaults. */
  RIPEN_PRICES: z.string().optional(),
  /**
   * JSON keyed by door (`nanobanana`, `kie`, `revid`): each door's price list, replacing its
   * document's figures; read by the API, which charges creates.
   */
  RIPEN_DOOR_PRICES: z.string().optional(),
});

export const workerEnv = sharedEnv.extend(providersEnv.shape).extend({
  /** Base URL the providers can reach apps/callbacks at. */
  PUBLIC_CALLBACK_URL: httpUrl.default("http://127.0.0.1:3001"),
  WORKER_CONCURRENCY: z.coerce.number().int().positive().default(50),
  /**
   * Of those, the steps batch items may take at once (default 2/5): the rest stay free for
   * interactive tasks. At most WORKER_CONCURRENCY.
   */
  WORKER_BATCH_CONCURRENCY: z.coerce.number().int().positive().optional(),
  /** Client callbacks one worker sends at once (their own queue; a hung endpoint holds one ≤ 15 s). */
  DELIVERY_CONCURRENCY: z.coerce.number().int().positive().default(50),
  /**
   * The first poll's wait, and the fixed part of each later one (which adds a tenth of the time
   * the attempt has run): a finished generation is found within 10% of its time plus this.
   */
  POLL_BASE_MS: positiveMs(1_000),
  POLL_MAX_MS: positiveMs(30_000),
  /**
   * Added to the first poll of a task whose provider sends callbacks, so fewer polls race the
   * callback; 0 by default, since it delays finding a task whose callback was lost by as much.
   */
  POLL_CALLBACK_GRACE_MS: z.coerce.number().int().min(0).default(0),
  /** Upstream submissions a task may make in all (retries of refused submits, lost tasks). */
  SUBMIT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
  /** Wait before retrying a refused submit, doubling per attempt up to SUBMIT_RETRY_MAX_MS. */
  SUBMIT_RETRY_BASE_MS: positiveMs(2_000),
  SUBMIT_RETRY_MAX_MS: positiveMs(60_000),
  SWEEP_EVERY_MS: positiveMs(15_000),
  /** How far past its expected wake-up (`next_wake_at`) a task's job may be before the sweep re-adds it. */
  SWEEP_GRACE_MS: positiveMs(30_000),
});

export const sandboxEnv = z.object({
  SANDBOX_PORT: port(3100),
  /** Interface the standalone sandbox listens on; containers need 0.0.0.0. */
  SANDBOX_HOST: z.string().min(1).default("127.0.0.1"),
  /** How the sandbox names itself in result URLs. Defaults to http://127.0.0.1:{SANDBOX_PORT}. */
  SANDBOX_PUBLIC_URL: httpUrl.optional(),
  SANDBOX_GENERATION_MS: z.coerce.number().int().min(0).default(3_000),
  SANDBOX_FAILURE_RATE: rate,
  SANDBOX_CALLBACK_LOSS_RATE: rate,
  SANDBOX_CALLBACK_DUPLICATE_RATE: rate,
  SANDBOX_INITIAL_CREDITS: z.coerce.number().int().min(0).default(1_000_000),
  /** JSON keyed by provider id: each simulated provider's faults (see apps/sandbox/src/faults.ts). */
  SANDBOX_FAULTS: z.string().optional(),
  /** JSON array, as RIPEN_PROVIDERS: which providers the sandbox simulates. */
  RIPEN_PROVIDERS: z.string().optional(),
});

/** The standalone worker, which also needs to know where a local sandbox listens. */
export const workerServiceEnv = workerEnv
  .extend(sandboxEnv.pick({ SANDBOX_PORT: true }).shape)
  .extend({
    /** The standalone worker's /healthz and /readyz (the stack serves them on the API). */
    WORKER_HEALTH_PORT: port(3002),
    /** Where providers without a URL and key are simulated; default http://127.0.0.1:{SANDBOX_PORT}. */
    SANDBOX_URL: httpUrl.optional(),
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
export type WorkerServiceEnv = z.infer<typeof workerServiceEnv>;
export type SandboxEnv = z.infer<typeof sandboxEnv>;
export type StackEnv = z.infer<typeof stackEnv>;

export type Source = Record<string, string | undefined>;

/**
 * Whether the operator set a variable. Empty counts as unset, as `VAR=` in an env file or
 * `${VAR:-}` in compose mean "no value", not "an empty value".
 */
export function isSet(name: string, source: Source = process.env): boolean {
  const value = source[name];
  return value !== undefined && value !== "";
}

export interface ConfigIssue {
  variable: string;
  message: string;
}

/** The configuration cannot run; `message` names every bad variable, one per line. */
export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(
      `Invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

/** Hosts only this machine reaches: a provider told to call them back never can. */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.toLowerCase();
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    /^127\.\d+\.\d+\.\d+$/.test(host) ||
    host === "[::1]" ||
    host === "0.0.0.0" ||
    host === "[::]"
  );
}

export interface CrossCheck {
  /** Variables the check reads; it runs only when the schema has them all and they parsed. */
  reads: string[];
  check(env: Record<string, unknown>, source: Source): ConfigIssue[];
}

/** A backoff's base must not exceed its cap. */
function baseWithinMax(base: string, max: string): CrossCheck {
  return {
    reads: [base, max],
    check: (env) =>
      (env[base] as number) > (env[max] as number)
        ? [{ variable: base, message: `must not exceed ${max} (${env[max]}), got ${env[base]}` }]
        : [],
  };
}

const crossChecks: CrossCheck[] = [
  {
    reads: ["REDIS_URL", "QUEUE_PREFIX"],
    check: (env) =>
      isRedisClusterUrl(env.REDIS_URL as string) && !redisHashTag(env.QUEUE_PREFIX as string)
        ? [
            {
              variable: "QUEUE_PREFIX",
              message:
                "must hold a hash tag, e.g. {ripen}, when REDIS_URL is a Redis Cluster: BullMQ's " +
                `scripts need every key of a queue in one slot (got ${JSON.stringify(env.QUEUE_PREFIX)})`,
            },
          ]
        : [],
  },
  baseWithinMax("POLL_BASE_MS", "POLL_MAX_MS"),
  baseWithinMax("SUBMIT_RETRY_BASE_MS", "SUBMIT_RETRY_MAX_MS"),
  {
    reads: ["NODE_ENV", "CALLBACK_SECRET"],
    check: (env, source) =>
      env.NODE_ENV === "production" &&
      (!isSet("CALLBACK_SECRET", source) || env.CALLBACK_SECRET === DEV_CALLBACK_SECRET)
        ? [
            {
              variable: "CALLBACK_SECRET",
              message: "must be set in production (its own, not the development default)",
            },
          ]
        : [],
  },
];

/** A connection URL for logs and errors, its password hidden (a cluster's host list too). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = "***";
    return parsed.toString();
  } catch {
    // Not one WHATWG URL (several hosts): the user info is still all before the first "@".
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*:)[^@/?#]*@/i, "$1***@");
  }
}

/** The value as it may appear in an error: secrets never, URLs without their password. */
function shown(name: string, value: string): string {
  if (/SECRET|KEY|PASSWORD|TOKEN/.test(name)) return "";
  const text = redactUrl(value);
  return ` (got ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text)})`;
}

/**
 * Parses the environment once at boot; a typo or an inconsistent combination fails here, naming
 * every bad variable in one error, rather than at the first request. Empty values count as unset.
 */
export function loadEnv<S extends z.ZodObject>(
  schema: S,
  source: Source = process.env,
  /** Checks of the variables a package adds (the providers' pairs, say). */
  extraChecks: readonly CrossCheck[] = [],
): z.infer<S> {
  const given: Source = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== "") given[name] = value;
  }
  // Field by field, so the cross-field checks can still run on the fields that parsed.
  const env: Record<string, unknown> = {};
  const issues: ConfigIssue[] = [];
  const bad = new Set<string>();
  for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const parsed = field.safeParse(given[name]);
    if (parsed.success) {
      if (parsed.data !== undefined) env[name] = parsed.data;
      continue;
    }
    bad.add(name);
    const message = parsed.error.issues[0]?.message ?? "is invalid";
    const value = given[name];
    issues.push({
      variable: name,
      message: value === undefined ? message : message + shown(name, value),
    });
  }
  for (const { reads, check } of [...crossChecks, ...extraChecks]) {
    if (reads.every((name) => name in schema.shape && !bad.has(name))) {
      issues.push(...check(env, given));
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return env as z.infer<S>;
}

/**
 * `loadEnv` for a process's entry point: a bad configuration prints its message (no stack trace,
 * which says nothing about the operator's mistake) and exits with code 1.
 */
export function loadEnvOrExit<S extends z.ZodObject>(
  schema: S,
  source: Source = process.env,
  extraChecks: readonly CrossCheck[] = [],
): z.infer<S> {
  try {
    return loadEnv(schema, source, extraChecks);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

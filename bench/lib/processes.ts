import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { repoRoot, SERVICE_NODE_FLAGS } from "@ripen/infra";
import { isFinishing, onTeardown } from "./teardown";

export interface Service {
  name: string;
  /** The node process itself (spawned without npx, so this is what /proc reports on). */
  pid: number;
  /** The last lines it printed, to explain a failure. */
  tail(): string;
  exited(): boolean;
  /** Its exit code once it has exited (null while running, or when a signal ended it). */
  exitCode(): number | null;
  stop(): Promise<void>;
}

/** Variables a service inherits from the bench; the rest of the bench's environment is not its. */
const INHERITED = ["PATH", "HOME", "LANG", "TMPDIR"];

const fileNameOf = (serviceName: string) => serviceName.replace(/[^\w.-]+/g, "_");

/**
 * `BENCH_CPU_PROF=<dir>` runs every service under `node --cpu-prof`: each writes its profiles
 * into `<dir>/<service name>/` when it stops (start-up included), for Chrome DevTools or
 * speedscope. One file per thread: tsx's loader runs in a thread of its own, so the service's
 * work is in the largest file. NODE_OPTIONS cannot carry --cpu-prof, hence a switch of the
 * bench's own.
 */
function profileArgs(name: string): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return [];
  return ["--cpu-prof", `--cpu-prof-dir=${dir}/${fileNameOf(name)}`];
}

/**
 * `BENCH_LOG_DIR=<dir>` keeps every service's log lines in `<dir>/<service name>.log` (appended
 * to: empty the folder between runs), at
 * `BENCH_LOG_LEVEL` (`warn` unless set; `info` has each task's lifecycle events with their
 * times, to follow where a phase's tasks waited).
 */
export const serviceLogLevel = process.env.BENCH_LOG_LEVEL ?? "warn";

/** The services' entries that run compiled (`useBuiltServices`), by their TypeScript entry. */
const builtEntries = new Map<string, string>();

/**
 * Compiles Ripen's services (`npm run build`) and runs them from `dist/` from now on, as
 * production does: a service killed and started again is back in about half the time tsx takes
 * to load it (1.3 against 2.4 s here, idle), which is what a chaos run's kills are made of.
 */
export async function useBuiltServices(): Promise<number> {
  // Loaded here: esbuild is only needed by the runs that compile.
  const { buildServices, builtEntryOf, services } = await import("../../scripts/build");
  const ms = await buildServices();
  for (const service of services) {
    builtEntries.set(`apps/${service}/src/main.ts`, builtEntryOf(service));
  }
  return ms;
}

/**
 * Runs `node --import tsx <entry> [args]` (or, after `useBuiltServices`, the service's compiled
 * file) from the repository root with `env` (plus PATH); `onLine` hears each line it prints
 * (stdout and stderr).
 */
export function spawnService(
  name: string,
  entry: string,
  env: Record<string, string>,
  args: string[] = [],
  onLine?: (line: string) => void,
): Service {
  const base = Object.fromEntries(
    INHERITED.flatMap((key) => (process.env[key] ? [[key, process.env[key]]] : [])),
  );
  const built = builtEntries.get(entry);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...SERVICE_NODE_FLAGS,
      ...profileArgs(name),
      ...(built ? ["--enable-source-maps", built] : ["--import", "tsx", entry]),
      ...args,
    ],
    {
      cwd: repoRoot(),
      env: { ...base, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  const logDir = process.env.BENCH_LOG_DIR;
  // Appended: a service started again (a chaos run's kills) keeps the lines of its earlier runs.
  if (logDir) {
    child.stdout?.pipe(createWriteStream(`${logDir}/${fileNameOf(name)}.log`, { flags: "a" }));
  }
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  if (onLine) {
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on("line", onLine);
    }
  }
  let done = false;
  let code: number | null = null;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", (exitCode) => {
      done = true;
      code = exitCode;
      resolve();
    }),
  );
  if (child.pid === undefined) throw new Error(`${name}: could not spawn ${entry}`);
  return {
    name,
    pid: child.pid,
    tail: () => lines.slice(-12).join("\n    "),
    exited: () => done,
    exitCode: () => code,
    async stop() {
      if (done) return;
      child.kill("SIGTERM");
      // The worker drains its active jobs on SIGTERM; past this, it is killed.
      const timedOut = await Promise.race([exit.then(() => false), sleep(15_000).then(() => true)]);
      if (timedOut) {
        child.kill("SIGKILL");
        await exit;
      }
    },
  };
}

/** Spawns a service that the bench's cleanup stops, whatever happens meanwhile. */
export function startService(
  name: string,
  entry: string,
  env: Record<string, string>,
  args: string[] = [],
): Service {
  if (isFinishing()) throw new Error("stopping");
  const service = spawnService(name, entry, env, args);
  onTeardown(name, service.stop);
  return service;
}

/**
 * Polls `probe` until it answers true. The services run in other processes, so there is no event
 * to await; a service that exits meanwhile fails the wait with what it printed.
 */
export async function waitUntil(
  what: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
  service?: Service,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (service?.exited()) {
      throw new Error(`${service.name} exited while waiting for ${what}:\n    ${service.tail()}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      const tail = service ? `; its last output:\n    ${service.tail()}` : "";
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${tail}`);
    }
    await sleep(everyMs);
  }
}

/** True once `url` answers 2xx. */
export const answers = (url: string, init?: RequestInit) => async () =>
  (await fetch(url, { ...init, signal: AbortSignal.timeout(2_000) })).ok;

/** Resident memory of a process, from /proc (Linux). */
export async function rssBytes(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

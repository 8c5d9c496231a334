/**
 * What a phase is and what it is given. A phase declares what it needs; the runner starts that
 * (once per run, shared with the phases after it) and hands the phase a context to use it.
 */
import type { DbHandle } from "@ripen/db";
import { freePort } from "@ripen/infra";
import type autocannon from "autocannon";
import type { Redis } from "ioredis";
import { cannon } from "./cannon";
import { benchDbName, dbUrl, deleteKeys, type RedisTarget, ripenDatabase } from "./infra";
import { log, plan } from "./plan";
import { answers, type Service, startService, waitUntil } from "./processes";
import type { Table } from "./report";
import {
  commonEnv,
  type RipenSystem,
  Sandbox,
  type SandboxSettings,
  startApi,
  startRipen,
  url,
} from "./ripen";
import type { Measurements } from "./targets";
import { onTeardown } from "./teardown";

export interface Needs {
  /** Ripen's whole system (API, worker, callbacks), with the sandbox set so before the phase. */
  system?: SandboxSettings;
  /** The baseline's req/s in this run, measured once by the first phase that needs it. */
  baseline?: boolean;
}

/** A phase's table, and its figures that issue 14's targets judge. */
export interface Section extends Table {
  measured?: Measurements;
}

export interface Phase {
  /** Its letter on the command line and in the report. */
  letter: string;
  title: string;
  needs: Needs;
  run(ctx: BenchContext): Promise<Section>;
}

export interface BenchContext {
  redis: Redis;
  redisTarget: RedisTarget;
  /** Environment every Ripen service shares. */
  common: Record<string, string>;
  /** Ripen's whole system; only for a phase that declares `needs.system`. */
  readonly ripen: RipenSystem;
  /** The baseline's figures in this run; only for a phase that declares `needs.baseline`. */
  readonly baseline: autocannon.Result;
  /** The express baseline in a process of its own; the caller stops it. */
  startBaseline(): Promise<{ service: Service; url: string }>;
  /**
   * The database and queue prefix of the create phases (a, g): the tasks they create are never
   * worked on, and must not reach the worker (or its sweep) of the other phases.
   */
  createDatabase(): Promise<DbHandle>;
  /** An API alone on the create database, worker not running; the caller stops it. */
  startCreateApi(name: string): Promise<{ service: Service; url: string }>;
  /** A queue prefix of this run, its keys deleted at the end on a shared Redis. */
  queuePrefix(label: string): string;
}

/** The context and the runner's side of it: preparing what a phase needs. */
export function createContext(redis: Redis, redisTarget: RedisTarget) {
  const common = commonEnv(redisTarget.url);
  const once = <T>(make: () => Promise<T>) => {
    let made: Promise<T> | undefined;
    return () => {
      made ??= make();
      return made;
    };
  };
  let ripen: RipenSystem | undefined;
  let baseline: autocannon.Result | undefined;
  let starting: Promise<RipenSystem> | undefined;

  const queuePrefix = (label: string) => {
    const prefix = `{bench-${process.pid}${label ? `-${label}` : ""}}`;
    if (redisTarget.shared) onTeardown(`keys ${prefix}`, () => deleteKeys(redis, prefix));
    return prefix;
  };
  const createPrefix = queuePrefix("create");
  const createDatabase = once(() => ripenDatabase(`${benchDbName}_create`));

  const startBaseline = async () => {
    const port = await freePort();
    const service = startService(
      "baseline",
      "bench/baseline-server.ts",
      { NODE_ENV: "production" },
      [String(port)],
    );
    await waitUntil("the baseline", 60_000, answers(`${url(port)}/healthz`), service);
    return { service, url: url(port) };
  };
  const measureBaseline = once(async () => {
    const { service, url: baseUrl } = await startBaseline();
    try {
      const path = `${baseUrl}/v1/images/generations`;
      log(`baseline: warm-up ${plan.warmupS} s, then ${plan.createS} s`);
      await cannon(path, { keys: [], duration: plan.warmupS });
      return await cannon(path, { keys: [], duration: plan.createS });
    } finally {
      await service.stop();
    }
  });
  // Started by the first phase that needs it, with that phase's sandbox; a failure to start is
  // then every such phase's failure, reported in its place.
  const system = (first: SandboxSettings) => {
    starting ??= freePort().then((port) =>
      startRipen(redis, common, new Sandbox(port), first, queuePrefix("")),
    );
    return starting;
  };

  const ctx: BenchContext = {
    redis,
    redisTarget,
    common,
    get ripen() {
      if (!ripen) throw new Error("the phase did not declare needs.system");
      return ripen;
    },
    get baseline() {
      if (!baseline) throw new Error("the phase did not declare needs.baseline");
      return baseline;
    },
    startBaseline,
    createDatabase,
    async startCreateApi(name) {
      await createDatabase();
      return startApi(name, {
        ...common,
        DATABASE_URL: dbUrl(`${benchDbName}_create`),
        QUEUE_PREFIX: createPrefix,
      });
    },
    queuePrefix,
  };

  /** Starts (or reuses) what the phase declares, before it runs. */
  async function prepare(needs: Needs): Promise<void> {
    if (needs.baseline) baseline = await measureBaseline();
    if (needs.system) {
      ripen = await system(needs.system);
      await ripen.sandbox.use(needs.system);
    }
  }
  return { ctx, prepare };
}

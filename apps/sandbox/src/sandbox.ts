import { EventEmitter, setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";
import type { DialectName } from "@ripen/db";
import { defaultProviders, sandboxMountOf } from "@ripen/providers";
import express, { type Express, type Router } from "express";
import { createAivideoapiSimulator } from "./dialects/aivideoapi";
import { createKieSimulator, defaultKieSettings, type KieSimulatorSettings } from "./dialects/kie";
import {
  createNanobananaSimulator,
  defaultNanobananaSettings,
  type NanobananaSimulatorSettings,
} from "./dialects/nanobanana";
import {
  createRevidSimulator,
  defaultRevidSettings,
  type RevidSimulatorSettings,
} from "./dialects/revid";
import {
  type ProviderFaults,
  providerFaults,
  type SandboxFaults,
  seededRandom,
  seedOf,
} from "./faults";
import { contentTypes, renderImage } from "./images";
import {
  createKit,
  emptyStats,
  type InjectedFault,
  type KitEvents,
  type KitSettings,
  type KitShared,
  type ProviderStats,
  type SimTask,
  type SimulatorKit,
} from "./kit";

export interface SandboxOptions {
  /** How the sandbox names itself in result URLs, e.g. http://127.0.0.1:3100 (no trailing slash). Can be set after listen via sandbox.setPublicUrl(). */
  publicUrl?: string;
  /** Time from create to completed/failed (default 3000); a provider's faults may set its own. */
  generationMs?: number;
  /** 0..1, share of tasks that end failed. */
  failureRate?: number;
  /** 0..1, share of callbacks never sent. */
  callbackLossRate?: number;
  /** 0..1, share of callbacks sent twice. */
  callbackDuplicateRate?: number;
  /** Credits each new key starts with (default 1_000_000). */
  initialCredits?: number;
  /** Faults per provider id (SANDBOX_FAULTS). */
  faults?: SandboxFaults;
  /** The providers to simulate, each at `/{id}` (default: the registry's defaults). */
  providers?: readonly { id: string; dialect: DialectName }[];
  /** Injectable RNG for every provider; default: each provider's own seeded generator. */
  random?: () => number;
  /** Injectable clock in ms, default Date.now. */
  now?: () => number;
  /** Used for callback POSTs. */
  fetch?: typeof fetch;
}

export type SandboxSettings = Partial<
  Omit<SandboxOptions, "fetch" | "now" | "random" | "faults" | "providers">
>;

export interface SandboxStats extends ProviderStats {
  byProvider: Record<string, ProviderStats>;
}

export type SandboxEvents = KitEvents;

/** What `GET /_sandbox/tasks` tells an out-of-process harness about a task. */
export interface SandboxTaskInfo {
  id: string;
  provider: string;
  model: string;
  callbackUrl: string | null;
  createdAt: number;
  /** Its outcome so far: a harness counts what the upstream was paid for (`succeeded`). */
  state: "running" | "succeeded" | "failed";
  /** Credits charged at create (refunded if it failed). */
  cost: number;
}

export type SubmitFailureStatus = 429 | 500 | 503;

/** Each dialect's own simulator switches (kie's and revid's errors as HTTP 200, nanobanana's rate). */
export interface DialectSettings {
  aivideoapi: Record<string, never>;
  nanobanana: NanobananaSimulatorSettings;
  kie: KieSimulatorSettings;
  revid: RevidSimulatorSettings;
}

export interface Sandbox {
  /** Mount-ready app: each provider under `/{id}`, files under /files. */
  app: Express;
  /** Changes settings at runtime; applies to tasks created afterwards. */
  configure(changes: SandboxSettings): void;
  /** Replaces one provider's faults (as SANDBOX_FAULTS would set them). */
  setFaults(provider: string, faults: ProviderFaults): void;
  /** The next `count` creates at `provider` (default aivideoapi) answer this error (default 503). */
  failNextSubmits(count: number, status?: SubmitFailureStatus, provider?: string): void;
  /**
   * The next `count` creates at `provider` that create a task (charged, callback scheduled) hold
   * their answer for `ms`: a client with a shorter timeout sees an unknown outcome, yet the task
   * exists.
   */
  stallNextSubmits(count: number, ms: number, provider?: string): void;
  /**
   * What a restart of the upstreams does: every task is forgotten (queries answer "not found")
   * and pending callbacks are cancelled. Balances are kept.
   */
  forgetTasks(): void;
  /** A provider's simulator switches, changed in place by tests. */
  dialectSettings<D extends DialectName>(provider: string): DialectSettings[D];
  /** Emits `created` for each task, so a test can await it instead of sleeping. */
  readonly events: EventEmitter<SandboxEvents>;
  setPublicUrl(url: string): void;
  readonly stats: SandboxStats;
  /** Cancels pending callbacks and aborts those in flight. */
  close(): Promise<void>;
}

const stripSlashes = (url: string) => url.replace(/\/+$/, "");

function checkSettings(changes: SandboxSettings): void {
  const rates = ["failureRate", "callbackLossRate", "callbackDuplicateRate"] as const;
  for (const name of rates) {
    const value = changes[name];
    if (value !== undefined && !(value >= 0 && value <= 1)) {
      throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
    }
  }
  const { generationMs, initialCredits } = changes;
  if (generationMs !== undefined && !(Number.isFinite(generationMs) && generationMs >= 0)) {
    throw new RangeError(`generationMs must be a non-negative number, got ${generationMs}`);
  }
  if (initialCredits !== undefined && !(Number.isFinite(initialCredits) && initialCredits >= 0)) {
    throw new RangeError(`initialCredits must be a non-negative number, got ${initialCredits}`);
  }
}

/** Small real MP4s (H.264, 1 s), one per aspect ratio family; see assets/README.md. */
const videoFiles = new Map<string, Buffer>();
function videoFor(aspectRatio: string): Buffer {
  const name = { "9:16": "9x16", "1:1": "1x1", "4:3": "4x3" }[aspectRatio] ?? "16x9";
  let bytes = videoFiles.get(name);
  if (!bytes) {
    bytes = readFileSync(new URL(`../assets/video-${name}.mp4`, import.meta.url));
    videoFiles.set(name, bytes);
  }
  return bytes;
}

const simulators: {
  [D in DialectName]: (kit: SimulatorKit, settings: DialectSettings[D]) => Router;
} = {
  aivideoapi: (kit) => createAivideoapiSimulator(kit),
  nanobanana: createNanobananaSimulator,
  kie: createKieSimulator,
  revid: createRevidSimulator,
};

const defaultSettingsOf: { [D in DialectName]: () => DialectSettings[D] } = {
  aivideoapi: () => ({}),
  nanobanana: defaultNanobananaSettings,
  kie: defaultKieSettings,
  revid: defaultRevidSettings,
};

/** Simulators of every configured provider (documents 000 to 004), state in memory. */
export function createSandbox(options: SandboxOptions = {}): Sandbox {
  checkSettings(options);
  const settings: KitSettings = {
    publicUrl: options.publicUrl === undefined ? undefined : stripSlashes(options.publicUrl),
    generationMs: options.generationMs ?? 3_000,
    failureRate: options.failureRate ?? 0,
    callbackLossRate: options.callbackLossRate ?? 0,
    callbackDuplicateRate: options.callbackDuplicateRate ?? 0,
    initialCredits: options.initialCredits ?? 1_000_000,
  };
  const closing = new AbortController();
  // Aborted by forgetTasks() and at close: callbacks already on the wire die with them. Every
  // callback in flight listens to it, hence no listener limit.
  const newLifetime = () => {
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    return controller;
  };
  let lifetime = newLifetime();
  const queued = new Map<string, { faults: InjectedFault[]; stalls: number[] }>();
  const queueOf = (provider: string) => {
    let entry = queued.get(provider);
    if (!entry) {
      entry = { faults: [], stalls: [] };
      queued.set(provider, entry);
    }
    return entry;
  };
  const stats: SandboxStats = { ...emptyStats(), byProvider: {} };
  const shared: KitShared = {
    settings,
    now: options.now ?? Date.now,
    fetch: options.fetch,
    tasks: new Map(),
    timers: new Set(),
    closing: closing.signal,
    lifetime: () => lifetime.signal,
    stats,
    events: new EventEmitter<KitEvents>(),
    takeQueuedSubmitFault(provider) {
      const entry = queueOf(provider);
      const fault = entry.faults.shift();
      if (fault) return { fault };
      return { stallMs: entry.stalls.shift() };
    },
  };

  const app = express();
  app.disable("x-powered-by");
  const providers = options.providers ?? defaultProviders;
  const faultsOf = new Map<string, ProviderFaults>();
  const dialectSettings = new Map<string, unknown>();
  const reseed = new Map<string, (seed: number) => void>();
  const knownProvider = (provider: string) => {
    if (!faultsOf.has(provider)) throw new RangeError(`no simulated provider '${provider}'`);
  };
  for (const { id, dialect } of providers) {
    // Mutable in place, so setFaults() reaches the simulator already mounted.
    const faults: ProviderFaults = { ...options.faults?.[id] };
    faultsOf.set(id, faults);
    // Reseeded by setFaults() when it names a seed, as SANDBOX_FAULTS would have.
    let draw = options.random ?? seededRandom(faults.seed ?? seedOf(id));
    reseed.set(id, (seed) => {
      if (!options.random) draw = seededRandom(seed);
    });
    const kit = createKit(shared, id, faults, () => draw());
    stats.byProvider[id] = kit.stats;
    const own = defaultSettingsOf[dialect]();
    dialectSettings.set(id, own);
    const router = (simulators[dialect] as (kit: SimulatorKit, s: unknown) => Router)(kit, own);
    app.use(sandboxMountOf(id), router);
  }

  // For harnesses in another process (the bench): outside the dialects' paths, no key needed.
  app.get("/_sandbox/stats", (_req, res) => {
    res.json(stats);
  });
  const info = (task: SimTask): SandboxTaskInfo => ({
    id: task.id,
    provider: task.provider,
    model: task.model,
    callbackUrl: task.callbackUrl ?? null,
    createdAt: task.createdAtMs,
    state:
      shared.now() - task.createdAtMs < task.generationMs
        ? "running"
        : task.failure
          ? "failed"
          : "succeeded",
    cost: task.cost,
  });
  app.get("/_sandbox/tasks", (_req, res) => {
    res.json({ tasks: [...shared.tasks.values()].map(info) });
  });
  app.get("/_sandbox/tasks/:id", (req, res) => {
    const task = shared.tasks.get(req.params.id);
    if (!task) {
      res.status(404).json({ error: "task_not_found" });
      return;
    }
    res.json(info(task));
  });

  app.get("/files/:name", (req, res) => {
    const match = /^([0-9a-f-]{36})(?:-([1-9]))?\.(png|jpg|mp4)$/.exec(req.params.name);
    const task = match ? shared.tasks.get(match[1]!) : undefined;
    const url = task?.urls.find((u) => u.endsWith(`/files/${req.params.name}`));
    if (!match || !task || !url || !isSucceeded(task)) {
      res.status(404).type("text/plain").send("Not found");
      return;
    }
    const cache = "public, max-age=31536000, immutable";
    if (task.media.kind === "video") {
      res.type("video/mp4").set("cache-control", cache).send(videoFor(task.media.aspectRatio));
      return;
    }
    const format = task.media.format;
    const image = renderImage({
      seed: `${task.id}${match[2] ?? ""}`,
      format,
      resolution: task.media.resolution,
      aspectRatio: task.media.aspectRatio,
    });
    res.type(contentTypes[format]).set("cache-control", cache).send(image);
  });

  function isSucceeded(task: SimTask): boolean {
    return shared.now() - task.createdAtMs >= task.generationMs && !task.failure;
  }

  return {
    app,
    stats,
    events: shared.events,
    configure(changes) {
      checkSettings(changes);
      if (changes.publicUrl !== undefined) settings.publicUrl = stripSlashes(changes.publicUrl);
      if (changes.generationMs !== undefined) settings.generationMs = changes.generationMs;
      if (changes.failureRate !== undefined) settings.failureRate = changes.failureRate;
      if (changes.callbackLossRate !== undefined) {
        settings.callbackLossRate = changes.callbackLossRate;
      }
      if (changes.callbackDuplicateRate !== undefined) {
        settings.callbackDuplicateRate = changes.callbackDuplicateRate;
      }
      if (changes.initialCredits !== undefined) settings.initialCredits = changes.initialCredits;
    },
    setFaults(provider, faults) {
      knownProvider(provider);
      const current = faultsOf.get(provider)!;
      const parsed = providerFaults.safeParse(faults);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new RangeError(`faults of ${provider}: ${issue?.path.join(".")} ${issue?.message}`);
      }
      for (const key of Object.keys(current)) delete current[key as keyof ProviderFaults];
      Object.assign(current, parsed.data);
      reseed.get(provider)!(parsed.data.seed ?? seedOf(provider));
    },
    failNextSubmits(count, status = 503, provider = "aivideoapi") {
      knownProvider(provider);
      if (![429, 500, 503].includes(status)) {
        throw new RangeError(`status must be 429, 500 or 503, got ${status}`);
      }
      const fault: InjectedFault =
        status === 429
          ? { type: "rate_limited", retryAfterSeconds: 1 }
          : { type: "server_error", status: status as 500 | 503 };
      for (let i = 0; i < count; i++) queueOf(provider).faults.push(fault);
    },
    stallNextSubmits(count, ms, provider = "aivideoapi") {
      knownProvider(provider);
      if (!(Number.isInteger(count) && count >= 0 && Number.isFinite(ms) && ms >= 0)) {
        throw new RangeError(`count and ms must be non-negative, got ${count} and ${ms}`);
      }
      for (let i = 0; i < count; i++) queueOf(provider).stalls.push(ms);
    },
    forgetTasks() {
      for (const timer of shared.timers) clearTimeout(timer);
      shared.timers.clear();
      lifetime.abort();
      lifetime = newLifetime();
      for (const task of shared.tasks.values()) task.account.open.delete(task);
      // Open tasks are gone: nothing is left to settle or refund.
      shared.tasks.clear();
    },
    dialectSettings<D extends DialectName>(provider: string) {
      const own = dialectSettings.get(provider);
      if (!own) throw new RangeError(`no simulated provider '${provider}'`);
      return own as DialectSettings[D];
    },
    setPublicUrl(url) {
      settings.publicUrl = stripSlashes(url);
    },
    async close() {
      closing.abort();
      lifetime.abort();
      for (const timer of shared.timers) clearTimeout(timer);
      shared.timers.clear();
    },
  };
}

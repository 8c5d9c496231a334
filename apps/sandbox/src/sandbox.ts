import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import {
  getModel,
  type ImageInput,
  InsufficientCredits,
  ModelNotFound,
  normalizeImageInput,
  TaskNotFound,
} from "@ripen/core";
import {
  type AivideoapiBackend,
  type CreateTaskRequest,
  type CreditsResponse,
  createAivideoapiRouter,
  documentedPrice,
  type TaskResponse,
  WireError,
  type WireStatus,
} from "@ripen/dialect-aivideoapi";
import { sandboxPaths } from "@ripen/providers";
import express, { type Express, type Request } from "express";
import { contentTypes, type ImageFormat, renderImage } from "./images";

export interface SandboxOptions {
  /** How the sandbox names itself in result URLs, e.g. http://127.0.0.1:3100 (no trailing slash). Can be set after listen via sandbox.setPublicUrl(). */
  publicUrl?: string;
  /** Time from create to completed/failed (default 3000). */
  generationMs?: number;
  /** 0..1, share of tasks that end failed (upstream_error, "Image generation failed"). */
  failureRate?: number;
  /** 0..1, share of callbacks never sent. */
  callbackLossRate?: number;
  /** 0..1, share of callbacks sent twice. */
  callbackDuplicateRate?: number;
  /** Credits each new sk- key starts with (default 1_000_000). */
  initialCredits?: number;
  /** Injectable RNG, default Math.random. */
  random?: () => number;
  /** Injectable clock in ms, default Date.now. */
  now?: () => number;
  /** Used for callback POSTs. */
  fetch?: typeof fetch;
}

export type SandboxSettings = Partial<Omit<SandboxOptions, "fetch" | "now" | "random">>;

export interface SandboxStats {
  created: number;
  callbacksSent: number;
  callbacksLost: number;
  /** HTTP calls received on create, including those answered with an error. */
  submitCalls: number;
  /** HTTP calls received on query-task, including those answered with an error. */
  statusCalls: number;
}

export interface SandboxEvents {
  /** A task was created (before the create call is answered). */
  created: [{ taskId: string; callbackUrl: string | undefined }];
  /** A status query arrived (counted in `stats.statusCalls`), before it is answered. */
  queried: [];
}

/** What `GET /_sandbox/tasks` tells an out-of-process harness about a task. */
export interface SandboxTaskInfo {
  id: string;
  model: string;
  callbackUrl: string | null;
  createdAt: number;
}

export type SubmitFailureStatus = 429 | 500 | 503;

export interface Sandbox {
  /** Mount-ready app: aivideoapi under /aivideoapi, files under /files. */
  app: Express;
  /** Changes faults at runtime; applies to tasks created afterwards. */
  configure(changes: SandboxSettings): void;
  /** The next `count` create calls answer this error instead of creating a task (default 503). */
  failNextSubmits(count: number, status?: SubmitFailureStatus): void;
  /**
   * The next `count` create calls that create a task (charged, callback scheduled) hold their
   * answer for `ms`: a client with a shorter timeout sees an unknown outcome, yet the task exists.
   */
  stallNextSubmits(count: number, ms: number): void;
  /**
   * What a restart of the upstream does: every task is forgotten (queries answer 404
   * task_not_found) and pending callbacks are cancelled. Balances are kept.
   */
  forgetTasks(): void;
  /** Emits `created` for each task, so a test can await it instead of sleeping. */
  readonly events: EventEmitter<SandboxEvents>;
  setPublicUrl(url: string): void;
  readonly stats: SandboxStats;
  /** Cancels pending callbacks and aborts those in flight. */
  close(): Promise<void>;
}

interface Account {
  credits: number;
  /** Tasks not yet settled, so a refund is applied before the balance is read. */
  open: Set<Task>;
}

interface Principal {
  account: Account;
  /** Where this request reached the sandbox; names result files when no publicUrl is set. */
  origin: string;
}

interface Task {
  id: string;
  account: Account;
  model: string;
  input: ImageInput;
  price: number;
  format: ImageFormat;
  fileBase: string;
  createdAtMs: number;
  /** Captured at create, so configure() does not move tasks already running. */
  generationMs: number;
  outcome: "completed" | "failed";
  /** Reached its outcome (and was refunded if failed). */
  settled: boolean;
  callbackUrl: string | undefined;
}

const submitFailures: Record<SubmitFailureStatus, () => WireError> = {
  429: () => new WireError("rate_limit_exceeded", "Too many requests, please slow down."),
  500: () => new WireError("internal_error", "An unexpected error occurred. Please try again."),
  503: () => new WireError("upstream_error", "Upstream AI provider returned an error."),
};

const CALLBACK_TIMEOUT_MS = 10_000;
const API_PREFIX = sandboxPaths.aivideoapi;

const stripSlashes = (url: string) => url.replace(/\/+$/, "");
const unixSeconds = (ms: number) => Math.floor(ms / 1000);

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

/** A simulator of the aivideoapi upstream (documents 000 and 002), state in memory. */
export function createSandbox(options: SandboxOptions = {}): Sandbox {
  checkSettings(options);
  const settings = {
    publicUrl: options.publicUrl === undefined ? undefined : stripSlashes(options.publicUrl),
    generationMs: options.generationMs ?? 3_000,
    failureRate: options.failureRate ?? 0,
    callbackLossRate: options.callbackLossRate ?? 0,
    callbackDuplicateRate: options.callbackDuplicateRate ?? 0,
    initialCredits: options.initialCredits ?? 1_000_000,
  };
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const fetchImpl = options.fetch ?? fetch;

  const accounts = new Map<string, Account>();
  const tasks = new Map<string, Task>();
  const timers = new Set<NodeJS.Timeout>();
  const pendingFailures: SubmitFailureStatus[] = [];
  const pendingStalls: number[] = [];
  const stats: SandboxStats = {
    created: 0,
    callbacksSent: 0,
    callbacksLost: 0,
    submitCalls: 0,
    statusCalls: 0,
  };
  const events = new EventEmitter<SandboxEvents>();
  const closing = new AbortController();
  // Aborted by forgetTasks(): callbacks already on the wire die with the "restart" too.
  let lifetime = new AbortController();

  function settle(task: Task): void {
    if (task.settled) return;
    task.settled = true;
    task.account.open.delete(task);
    if (task.outcome === "failed") task.account.credits += task.price;
  }

  function settleDue(account: Account): void {
    for (const task of account.open) {
      if (now() - task.createdAtMs >= task.generationMs) settle(task);
    }
  }

  function statusOf(task: Task): WireStatus {
    if (!task.settled) {
      const elapsed = now() - task.createdAtMs;
      if (elapsed < task.generationMs) {
        return elapsed < task.generationMs * 0.3 ? "pending" : "processing";
      }
      settle(task);
    }
    return task.outcome;
  }

  function view(task: Task): TaskResponse {
    const status = statusOf(task);
    const base = {
      id: task.id,
      status,
      model: task.model,
      created_at: unixSeconds(task.createdAtMs),
    };
    if (status === "completed") {
      return {
        ...base,
        completed_at: unixSeconds(task.createdAtMs + task.generationMs),
        output: {
          urls: [`${task.fileBase}/files/${task.id}.${task.format}`],
          metadata: { model: task.model, costTime: task.generationMs },
        },
      };
    }
    if (status === "failed") {
      return { ...base, error: { code: "upstream_error", message: "Image generation failed" } };
    }
    return base;
  }

  async function deliver(url: string, body: string, copies: number): Promise<void> {
    const cancelled = AbortSignal.any([closing.signal, lifetime.signal]);
    for (let i = 0; i < copies && !cancelled.aborted; i++) {
      stats.callbacksSent++;
      try {
        const response = await fetchImpl(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: AbortSignal.any([cancelled, AbortSignal.timeout(CALLBACK_TIMEOUT_MS)]),
        });
        await response.arrayBuffer();
      } catch {
        // A receiver that is down or slow is the receiver's problem, as with the real upstream.
      }
    }
  }

  /** At the end of generation: settles the task and sends its callback `copies` times (0 = lost). */
  function scheduleCallback(task: Task, url: string, copies: number): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      settle(task);
      if (copies === 0) {
        stats.callbacksLost++;
        return;
      }
      void deliver(url, JSON.stringify(view(task)), copies);
    }, task.generationMs);
    timer.unref();
    timers.add(timer);
  }

  const backend: AivideoapiBackend<Principal> = {
    async authenticate(apiKey: string, req: Request) {
      if (!apiKey.startsWith("sk-")) return null;
      let account = accounts.get(apiKey);
      if (!account) {
        account = { credits: settings.initialCredits, open: new Set() };
        accounts.set(apiKey, account);
      }
      const mount = req.baseUrl.endsWith(API_PREFIX)
        ? req.baseUrl.slice(0, -API_PREFIX.length)
        : "";
      return { account, origin: `${req.protocol}://${req.get("host")}${mount}` };
    },

    async createTask(principal: Principal, request: CreateTaskRequest) {
      const failure = pendingFailures.shift();
      if (failure !== undefined) throw submitFailures[failure]();

      const spec = getModel(request.model);
      if (spec.provider !== "aivideoapi") throw new ModelNotFound(request.model);
      const input = normalizeImageInput(spec, request.input);
      // The upstream charges its own documented price, whatever Ripen charges its clients.
      const price = documentedPrice(spec.id, input.resolution);
      if (price === undefined) throw new ModelNotFound(request.model);

      const { account } = principal;
      settleDue(account);
      if (account.credits < price) throw new InsufficientCredits(price, account.credits);
      account.credits -= price;

      const task: Task = {
        id: randomUUID(),
        account,
        model: spec.id,
        input,
        price,
        format: input.output_format === "png" ? "png" : "jpg",
        fileBase: settings.publicUrl ?? principal.origin,
        createdAtMs: now(),
        generationMs: settings.generationMs,
        outcome: random() < settings.failureRate ? "failed" : "completed",
        settled: false,
        callbackUrl: request.callback_url,
      };
      tasks.set(task.id, task);
      account.open.add(task);
      stats.created++;

      if (request.callback_url !== undefined) {
        const lost = random() < settings.callbackLossRate;
        const duplicated = random() < settings.callbackDuplicateRate;
        if (!closing.signal.aborted) {
          scheduleCallback(task, request.callback_url, lost ? 0 : duplicated ? 2 : 1);
        }
      }
      events.emit("created", { taskId: task.id, callbackUrl: request.callback_url });

      const stallMs = pendingStalls.shift();
      if (stallMs !== undefined) {
        // Released early by close(), so shutting the server down does not wait on it.
        await sleep(stallMs, undefined, { signal: closing.signal }).catch(() => {});
      }
      return { taskId: task.id };
    },

    async getTask(principal: Principal, taskId: string) {
      const task = tasks.get(taskId);
      if (!task || task.account !== principal.account) throw new TaskNotFound(taskId);
      return view(task);
    },

    async getCredits(principal: Principal): Promise<CreditsResponse["data"]> {
      settleDue(principal.account);
      const available = principal.account.credits;
      return { credits: available, balance: available, held: 0 };
    },
  };

  const app = express();
  app.disable("x-powered-by");
  // Counted before authentication and validation: every call the upstream would have to serve.
  app.use(API_PREFIX, (req, _res, next) => {
    if (req.method === "POST" && req.path === "/v1/images/generations") stats.submitCalls++;
    else if (req.method === "GET" && /^\/v1\/tasks\/[^/]+$/.test(req.path)) {
      stats.statusCalls++;
      events.emit("queried");
    }
    next();
  });
  app.use(
    API_PREFIX,
    createAivideoapiRouter(backend, {
      onUnexpectedError: (error, req) =>
        console.error(`sandbox: ${req.method} ${req.originalUrl} failed`, error),
    }),
  );
  // For harnesses in another process (the bench): outside the dialect's path, no key needed.
  app.get("/_sandbox/stats", (_req, res) => {
    res.json(stats);
  });
  const info = (task: Task): SandboxTaskInfo => ({
    id: task.id,
    model: task.model,
    callbackUrl: task.callbackUrl ?? null,
    createdAt: task.createdAtMs,
  });
  app.get("/_sandbox/tasks", (_req, res) => {
    res.json({ tasks: [...tasks.values()].map(info) });
  });
  app.get("/_sandbox/tasks/:id", (req, res) => {
    const task = tasks.get(req.params.id);
    if (!task) {
      res.status(404).json({ error: "task_not_found" });
      return;
    }
    res.json(info(task));
  });

  app.get("/files/:name", (req, res) => {
    const match = /^([^.]+)\.(png|jpg)$/.exec(req.params.name);
    const task = match ? tasks.get(match[1]!) : undefined;
    if (!match || !task || task.format !== match[2] || statusOf(task) !== "completed") {
      res.status(404).type("text/plain").send("Not found");
      return;
    }
    const image = renderImage({
      seed: task.id,
      format: task.format,
      resolution: task.input.resolution,
      aspectRatio: task.input.aspect_ratio,
    });
    res
      .type(contentTypes[task.format])
      .set("cache-control", "public, max-age=31536000, immutable")
      .send(image);
  });

  return {
    app,
    stats,
    events,
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
    failNextSubmits(count, status = 503) {
      if (!submitFailures[status]) {
        throw new RangeError(`status must be 429, 500 or 503, got ${status}`);
      }
      for (let i = 0; i < count; i++) pendingFailures.push(status);
    },
    stallNextSubmits(count, ms) {
      if (!(Number.isInteger(count) && count >= 0 && Number.isFinite(ms) && ms >= 0)) {
        throw new RangeError(`count and ms must be non-negative, got ${count} and ${ms}`);
      }
      for (let i = 0; i < count; i++) pendingStalls.push(ms);
    },
    forgetTasks() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      lifetime.abort();
      lifetime = new AbortController();
      tasks.clear();
      // Open tasks are gone: nothing is left to settle or refund.
      for (const account of accounts.values()) account.open.clear();
    },
    setPublicUrl(url) {
      settings.publicUrl = stripSlashes(url);
    },
    async close() {
      closing.abort();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

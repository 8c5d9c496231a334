import { randomUUID } from "node:crypto";
import type { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { InsufficientCredits, TaskNotFound } from "@ripen/core";
import { Agent, request } from "undici";
import type { ProviderFaults } from "./faults";

/**
 * The machinery every simulated provider shares: accounts and credits, task timing and outcomes,
 * injected faults, callbacks, result files and counters. A dialect's simulator is its router over
 * a backend built on this kit; the wire format stays in the dialect's package.
 */

/** What a result file shows: an image (rendered per task) or a video (a small real MP4). */
export type Media =
  | {
      kind: "image";
      format: "png" | "jpg";
      resolution: "1K" | "2K" | "4K";
      /** "16:9", "auto", … */
      aspectRatio: string;
      /** Images the task produces (num_images). */
      count?: number;
    }
  | { kind: "video"; aspectRatio: string };

export interface SimAccount {
  key: string;
  credits: number;
  /** Tasks not yet settled, so a refund is applied before the balance is read. */
  open: Set<SimTask>;
}

export interface TaskFailure {
  code: string;
  message: string;
  /** Why: the generation failed, or the content was refused (the dialect words each its way). */
  reason: "generation" | "content";
}

export interface SimTask {
  /** The upstream's task id. */
  id: string;
  provider: string;
  account: SimAccount;
  /** The upstream model name as requested. */
  model: string;
  media: Media;
  /** Credits charged (refunded if the task fails). */
  cost: number;
  createdAtMs: number;
  /** Captured at create, so a later configure() does not move tasks already running. */
  generationMs: number;
  /** Null while it will succeed; the failure it will end with otherwise. */
  failure: TaskFailure | null;
  /** Where its result files are served (set at create, valid once it succeeded). */
  urls: string[];
  callbackUrl: string | undefined;
  /** The create request as the dialect parsed it (revid and kie echo it back as `param`). */
  request: unknown;
  settled: boolean;
}

export type TaskState = "pending" | "running" | "succeeded" | "failed";

/** A fault to answer a call with instead of serving it. */
export type InjectedFault =
  | { type: "server_error"; status: 500 | 503 }
  | { type: "rate_limited"; retryAfterSeconds: number }
  | { type: "content_filtered" };

/** The faults a status call can draw: content is judged only at create. */
export type StatusFault = Exclude<InjectedFault, { type: "content_filtered" }>;

/** What `begin` decided for one call. */
export interface CallPlan {
  /** Answer with this instead of serving the call. */
  fault: InjectedFault | null;
  /** Serve the call, then never answer (the caller times out). */
  hang: boolean;
  /** Serve the call, then hold the answer this long (a test's stallNextSubmits). */
  stallMs?: number;
}

export interface NewTask {
  account: SimAccount;
  model: string;
  media: Media;
  cost: number;
  callbackUrl?: string;
  request: unknown;
  /**
   * Where the request reached the sandbox, e.g. http://127.0.0.1:3100; names result files. Read
   * only when no public URL is set (a started sandbox always has one), so not on every request.
   */
  origin: () => string;
  /** A failure decided by the dialect at create (e.g. content filtered, for dialects that report it on the task). */
  failure?: TaskFailure;
  /** The callback body, built when the task ends (the dialect's query answer). */
  callbackBody?: (task: SimTask) => unknown;
}

export interface ProviderStats {
  created: number;
  submitCalls: number;
  statusCalls: number;
  callbacksSent: number;
  callbacksLost: number;
  /** Calls answered with an injected fault, by type. */
  faults: Record<string, number>;
}

export interface SimulatorKit {
  /** The provider id this simulator serves as (its mount, e.g. `kie`). */
  readonly provider: string;
  now(): number;
  /** This provider's seeded generator. */
  random(): number;
  /**
   * Starts serving one call: counts it, waits out injected latency, and draws its faults. The
   * dialect answers `plan.fault` in its own envelope, or serves the call and then `finish(plan)`.
   */
  begin(call: "submit" | "status" | "other"): Promise<CallPlan>;
  /** Resolves once the answer may go; for a hanging call, only when the sandbox closes. */
  finish(plan: CallPlan): Promise<void>;
  /** The account of an API key, created with the sandbox's initial credits on first use. */
  account(key: string): SimAccount;
  /** Counts a fault the dialect itself answered (a rate-limit refusal, say) in the stats. */
  noteFault(type: string): void;
  /** Settles due tasks (refunds included) and answers the balance. */
  balance(account: SimAccount): number;
  /** Charges the cost and registers the task; throws InsufficientCredits. */
  createTask(task: NewTask): SimTask;
  /** The task if it exists and belongs to the account. */
  findTask(id: string, account: SimAccount): SimTask | undefined;
  stateOf(task: SimTask): TaskState;
  /**
   * Serves one call: `begin`, the injected fault answered through `errorOf` (the dialect's
   * envelope), else `work`, then `finish`.
   */
  serve<T>(
    call: "submit" | "status" | "other",
    errorOf: (fault: InjectedFault) => Error,
    work: () => T,
  ): Promise<T>;
  /**
   * Serves a status query: its faults (answered through `errorOf`), the account's task or
   * TaskNotFound, and the task as `view` shows it.
   */
  readTask<T>(
    taskId: string,
    account: SimAccount,
    view: (task: SimTask) => T,
    errorOf: (fault: StatusFault) => Error,
  ): Promise<T>;
  /** Progress 0–100 from elapsed time. */
  progressOf(task: SimTask): number;
  /** When the task ended (ms), or null while it runs. */
  endedAtMs(task: SimTask): number | null;
  readonly faults: ProviderFaults;
}

export interface KitSettings {
  publicUrl: string | undefined;
  generationMs: number;
  failureRate: number;
  callbackLossRate: number;
  callbackDuplicateRate: number;
  initialCredits: number;
}

/** What every kit of one sandbox shares. */
export interface KitShared {
  settings: KitSettings;
  now(): number;
  /** Sends callbacks instead of the keep-alive agent below (tests inject one). */
  fetch?: typeof fetch;
  /** Every task of every provider, by id: files and `/_sandbox/tasks` read them. */
  tasks: Map<string, SimTask>;
  timers: Set<NodeJS.Timeout>;
  /** Aborted at close. */
  closing: AbortSignal;
  /** Aborted by forgetTasks() and at close: callbacks in flight die with the "restart". */
  lifetime(): AbortSignal;
  stats: ProviderStats;
  events: EventEmitter<KitEvents>;
  /** One-shot faults queued by tests (failNextSubmits, stallNextSubmits), per provider. */
  takeQueuedSubmitFault(provider: string): { fault?: InjectedFault; stallMs?: number };
}

export interface KitEvents {
  created: [{ taskId: string; provider: string; callbackUrl: string | undefined }];
  queried: [];
}

const CALLBACK_TIMEOUT_MS = 10_000;

/**
 * Callbacks go out on kept-alive connections, like a real provider's webhook sender: with
 * `fetch`'s default pool, a burst (a batch's items ending together) opened a connection per
 * callback in flight and dropped them 4 s later, so the next burst dialed again (0.44 new
 * connections per task in a 3,000-item batch). At most 64 per receiver; past that, callbacks
 * wait here for a free one rather than flooding the receiver. `request` rather than `fetch`:
 * a third of the sandbox's CPU went to fetch's streams and timers.
 */
let callbackAgent: Agent | undefined;
const agent = () => {
  callbackAgent ??= new Agent({
    connections: 64,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 300_000,
    headersTimeout: CALLBACK_TIMEOUT_MS,
    bodyTimeout: CALLBACK_TIMEOUT_MS,
  });
  return callbackAgent;
};

const callbackHeaders = { "content-type": "application/json" };

async function postCallback(shared: KitShared, url: string, body: string, signal: AbortSignal) {
  if (shared.fetch) {
    const timeout = AbortSignal.timeout(CALLBACK_TIMEOUT_MS);
    const response = await shared.fetch(url, {
      method: "POST",
      headers: callbackHeaders,
      body,
      signal: AbortSignal.any([signal, timeout]),
    });
    await response.arrayBuffer();
    return;
  }
  const answer = await request(url, {
    method: "POST",
    headers: callbackHeaders,
    body,
    signal,
    dispatcher: agent(),
  });
  await answer.body.dump();
}

export function emptyStats(): ProviderStats {
  return {
    created: 0,
    submitCalls: 0,
    statusCalls: 0,
    callbacksSent: 0,
    callbacksLost: 0,
    faults: {},
  };
}

const drawIn = (random: () => number, [min, max]: readonly [number, number]) =>
  min + Math.floor(random() * (max - min + 1));

export function createKit(
  shared: KitShared,
  provider: string,
  faults: ProviderFaults,
  random: () => number,
): SimulatorKit & { stats: ProviderStats } {
  const accounts = new Map<string, SimAccount>();
  const stats = emptyStats();
  const roll = (rate: number | undefined) => rate !== undefined && rate > 0 && random() < rate;
  const count = (
    field: "created" | "submitCalls" | "statusCalls" | "callbacksSent" | "callbacksLost",
  ) => {
    stats[field]++;
    shared.stats[field]++;
  };
  const countFault = (type: string) => {
    stats.faults[type] = (stats.faults[type] ?? 0) + 1;
    shared.stats.faults[type] = (shared.stats.faults[type] ?? 0) + 1;
  };

  function settle(task: SimTask): void {
    if (task.settled) return;
    task.settled = true;
    task.account.open.delete(task);
    if (task.failure) task.account.credits += task.cost;
  }

  function stateOf(task: SimTask): TaskState {
    if (!task.settled) {
      const elapsed = shared.now() - task.createdAtMs;
      if (elapsed < task.generationMs)
        return elapsed < task.generationMs * 0.3 ? "pending" : "running";
      settle(task);
    }
    return task.failure ? "failed" : "succeeded";
  }

  async function deliver(
    url: string,
    body: string,
    copies: number,
    delayMs: number,
  ): Promise<void> {
    // One signal for every callback of this lifetime: a composite signal per callback
    // (AbortSignal.any) cost an allocation and a weak reference the GC had to clear.
    const cancelled = shared.lifetime();
    if (delayMs > 0) await sleep(delayMs, undefined, { signal: cancelled }).catch(() => {});
    for (let i = 0; i < copies && !cancelled.aborted; i++) {
      count("callbacksSent");
      try {
        await postCallback(shared, url, body, cancelled);
      } catch {
        // A receiver that is down or slow is the receiver's problem, as with a real upstream.
      }
    }
  }

  function scheduleEnd(
    task: SimTask,
    callbackBody: ((task: SimTask) => unknown) | undefined,
  ): void {
    const url = task.callbackUrl;
    const wantsCallback = url !== undefined && callbackBody !== undefined;
    const lost = wantsCallback && roll(faults.callbackLossRate ?? shared.settings.callbackLossRate);
    const duplicated =
      wantsCallback && roll(faults.callbackDuplicateRate ?? shared.settings.callbackDuplicateRate);
    const delayMs = faults.callbackDelayMs ? drawIn(random, faults.callbackDelayMs) : 0;
    const timer = setTimeout(() => {
      shared.timers.delete(timer);
      settle(task);
      if (!wantsCallback) return;
      if (lost) {
        count("callbacksLost");
        return;
      }
      void deliver(url, JSON.stringify(callbackBody(task)), duplicated ? 2 : 1, delayMs);
    }, task.generationMs);
    timer.unref();
    shared.timers.add(timer);
  }

  return {
    provider,
    faults,
    stats,
    now: shared.now,
    random,

    async begin(call) {
      if (call === "submit") count("submitCalls");
      else if (call === "status") {
        count("statusCalls");
        shared.events.emit("queried");
      }
      if (faults.latencyMs) {
        await sleep(drawIn(random, faults.latencyMs), undefined, { signal: shared.closing }).catch(
          () => {},
        );
      }
      let fault: InjectedFault | null = null;
      if (call === "submit") {
        const queued = shared.takeQueuedSubmitFault(provider);
        if (queued.fault) fault = queued.fault;
        else if (queued.stallMs !== undefined) {
          return { fault: null, hang: false, stallMs: queued.stallMs };
        }
      }
      if (!fault && roll(faults.rate429)) {
        fault = { type: "rate_limited", retryAfterSeconds: faults.retryAfterSeconds ?? 1 };
      }
      if (!fault && roll(faults.rate5xx)) fault = { type: "server_error", status: 500 };
      if (!fault && call === "submit" && roll(faults.submitFailureRate)) {
        fault = { type: "server_error", status: 503 };
      }
      if (!fault && call === "submit" && roll(faults.contentFilterRate)) {
        fault = { type: "content_filtered" };
      }
      if (fault) countFault(fault.type);
      return { fault, hang: !fault && roll(faults.timeoutRate) };
    },

    noteFault: countFault,

    async finish(plan) {
      if (plan.stallMs !== undefined) {
        // Released early by close(), so shutting the server down does not wait on it.
        await sleep(plan.stallMs, undefined, { signal: shared.closing }).catch(() => {});
      }
      if (!plan.hang) return;
      // Counted here, once the call was served: one that failed instead was answered at once.
      countFault("timeout");
      await new Promise<void>((resolve) => {
        if (shared.closing.aborted) resolve();
        else shared.closing.addEventListener("abort", () => resolve(), { once: true });
      });
    },

    account(key) {
      let account = accounts.get(key);
      if (!account) {
        account = { key, credits: shared.settings.initialCredits, open: new Set() };
        accounts.set(key, account);
      }
      return account;
    },

    balance(account) {
      for (const task of account.open) stateOf(task);
      return account.credits;
    },

    createTask(args) {
      const { account } = args;
      this.balance(account);
      if (account.credits < args.cost) throw new InsufficientCredits(args.cost, account.credits);
      account.credits -= args.cost;
      const failure =
        args.failure ??
        (roll(faults.failureRate ?? shared.settings.failureRate)
          ? {
              code: "generation_failed",
              message: "Generation failed",
              reason: "generation" as const,
            }
          : null);
      const base = shared.settings.publicUrl ?? args.origin();
      const id = randomUUID();
      const media = args.media;
      // The first file is `{id}.{ext}`, further images `{id}-{n}.{ext}`.
      const files =
        media.kind === "image"
          ? Array.from(
              { length: media.count ?? 1 },
              (_, i) => `${id}${i ? `-${i}` : ""}.${media.format}`,
            )
          : [`${id}.mp4`];
      const task: SimTask = {
        id,
        provider,
        account,
        model: args.model,
        media: args.media,
        cost: args.cost,
        createdAtMs: shared.now(),
        generationMs: faults.generationMs ?? shared.settings.generationMs,
        failure,
        urls: files.map((name) => `${base}/files/${name}`),
        callbackUrl: args.callbackUrl,
        request: args.request,
        settled: false,
      };
      shared.tasks.set(id, task);
      account.open.add(task);
      count("created");
      if (!shared.closing.aborted) scheduleEnd(task, args.callbackBody);
      // Only tests and harnesses listen; a running sandbox skips building the event.
      if (shared.events.listenerCount("created") > 0) {
        shared.events.emit("created", { taskId: id, provider, callbackUrl: args.callbackUrl });
      }
      return task;
    },

    findTask(id, account) {
      const task = shared.tasks.get(id);
      return task && task.account === account && task.provider === provider ? task : undefined;
    },

    stateOf,

    async serve(call, errorOf, work) {
      const plan = await this.begin(call);
      if (plan.fault) throw errorOf(plan.fault);
      const result = work();
      await this.finish(plan);
      return result;
    },

    readTask(taskId, account, view, errorOf) {
      // A status call draws no content fault: content is judged only at create.
      return this.serve(
        "status",
        (fault) => errorOf(fault as StatusFault),
        () => {
          const task = this.findTask(taskId, account);
          if (!task) throw new TaskNotFound(taskId);
          return view(task);
        },
      );
    },

    progressOf(task) {
      const state = stateOf(task);
      if (state === "succeeded" || state === "failed") return 100;
      if (task.generationMs === 0) return 100;
      return Math.min(
        99,
        Math.floor(((shared.now() - task.createdAtMs) / task.generationMs) * 100),
      );
    },

    endedAtMs(task) {
      const state = stateOf(task);
      return state === "succeeded" || state === "failed"
        ? task.createdAtMs + task.generationMs
        : null;
    },
  };
}

/** How every simulator reports an error it did not expect (a bug of the sandbox's). */
export const logUnexpected = (error: unknown, req: { method: string; originalUrl: string }) =>
  console.error(`sandbox: ${req.method} ${req.originalUrl} failed`, error);

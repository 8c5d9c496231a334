import {
  type AnyModelSpec,
  BATCH_START_BY_SHARE,
  CapacityExceeded,
  type ProviderUse,
  type TasksWaitingToStart,
} from "@ripen/core";
import { type ProviderHealth, type ProviderLoad, START_WINDOW_MS } from "./health";
import { type ProviderDeclaration, rateWindowOf } from "./registry";
import { routeIn } from "./routing";
import { sharedWhileInFlight } from "./shared-read";

/*
 * Admission control: a create is accepted only if some provider that serves its model can start
 * it well before its deadline, judged from each provider's limits and what is already waiting for
 * it. Everything here is soft state in Redis; a Redis that restarts empty forgets the backlog and
 * admits more until the providers' own limits park the tasks again.
 */

/** The fewest requests a task costs a rate-limited provider: its submit and one status poll. */
const MIN_REQUESTS_PER_TASK = 2;

/**
 * The share of the time to the deadline by which a task must be projected to start: the rest is
 * left for its generation, which admission cannot know in advance.
 */
export const START_BY_SHARE = 0.8;

/** How long a process trusts what it read of the unlimited providers' circuits and pauses. */
const STATE_TTL_MS = 500;

/** Ms until `provider` can start one more task due no earlier than those counted in `load`. */
export function estimateStart(limits: ProviderDeclaration["limits"], load: ProviderLoad): number {
  let wait = Math.max(load.openForMs, load.pausedForMs);
  const { requestsPerMinute, maxConcurrent } = limits;
  if (requestsPerMinute !== undefined) {
    const windowMs = rateWindowOf(limits);
    // What a task has cost lately, polls included: requests in the window per start in it; never
    // less than a submit and one poll (a burst's first starts have had no poll yet).
    const perTask = Math.max(
      MIN_REQUESTS_PER_TASK,
      load.starts > 0 ? load.requests / load.starts : MIN_REQUESTS_PER_TASK,
    );
    // Tasks in flight still owe their polls; those ahead and this one, everything: so this one
    // is projected to have had its last request, not only its first.
    const owed = load.inFlight * (perTask - 1) + (load.ahead + 1) * perTask;
    const needed = owed - (requestsPerMinute - load.requests);
    if (needed > 0) wait += (needed * windowMs) / requestsPerMinute;
  }
  if (maxConcurrent !== undefined) {
    const over = load.inFlight + load.ahead + 1 - maxConcurrent;
    // Slots free as fast as tasks have lately started; with none seen, no figure to refuse on.
    if (over > 0 && load.starts > 0) wait += (over * START_WINDOW_MS) / load.starts;
  }
  return Math.ceil(wait);
}

/** Whether Ripen keeps a provider to limits (a request budget, a concurrency cap), in Redis. */
const limited = (p: { limits: ProviderDeclaration["limits"] }) =>
  p.limits.requestsPerMinute !== undefined || p.limits.maxConcurrent !== undefined;

/**
 * What an ending process does for its ended tasks' places in line: they leave the backlog of
 * every provider with limits (a task canceled while waiting would otherwise stand ahead of others
 * until its deadline). For `createTaskEndingEffects`' `leaveBacklogs`.
 */
export function backlogLeaver(
  health: Pick<ProviderHealth, "leaveBacklogs">,
  providers: readonly { id: string; limits: ProviderDeclaration["limits"] }[],
): (taskIds: readonly string[]) => Promise<void> {
  const limitedIds = providers.filter(limited).map((p) => p.id);
  return (taskIds) => health.leaveBacklogs(limitedIds, taskIds);
}

/** The window a provider's requests are counted over; 0 when they are not counted. */
const requestWindowOf = (limits: ProviderDeclaration["limits"]) =>
  limits.requestsPerMinute === undefined ? 0 : rateWindowOf(limits);

/**
 * After Redis restarted empty: each provider with limits gets back the requests Postgres saw it
 * sent within its window (submits and polls), and its tasks in flight, read by `readUse` (core's
 * `providerUseSince`) since the longest window before `nowMs`. Forgotten, a window looked empty,
 * and the jobs the sweep re-adds sent the provider requests it still counted against its limit
 * (and tasks past its `maxConcurrent`): `provider-limits.redis-restart.test.ts`.
 */
export async function restoreProviderUse(
  health: Pick<ProviderHealth, "restoreUse">,
  providers: readonly ProviderDeclaration[],
  readUse: (since: Date) => Promise<readonly ProviderUse[]>,
  nowMs: number,
): Promise<void> {
  const longestWindowMs = Math.max(
    START_WINDOW_MS,
    ...providers.map((p) => requestWindowOf(p.limits)),
  );
  const uses = await readUse(new Date(nowMs - longestWindowMs));
  const byId = new Map(uses.map((use) => [use.provider, use]));
  await Promise.all(
    providers.filter(limited).map((provider) => {
      const use = byId.get(provider.id);
      if (!use) return undefined;
      return health.restoreUse(provider.id, {
        windowMs: requestWindowOf(provider.limits),
        submits: use.submits.map((submit) => ({
          attemptId: submit.attemptId,
          agoMs: Math.max(0, nowMs - submit.startedAt.getTime()),
        })),
        polls: use.polls.map((poll) => ({
          pollId: poll.pollId,
          agoMs: Math.max(0, nowMs - poll.sentAt.getTime()),
        })),
        inFlight: use.inFlight.map((task) => ({
          taskId: task.taskId,
          leftMs: Math.max(1, task.deadlineAt.getTime() - nowMs),
        })),
      });
    }),
  );
}

export type AdmissionDecision =
  | {
      admitted: true;
      /** The provider expected to start it, when it has limits: the task joins its backlog. */
      backlogProvider?: string;
      startInMs: number;
    }
  | {
      admitted: false;
      /** When a create due as far ahead would be admitted, as the backlog drains. */
      retryAfterMs: number;
      /** The earliest projected start among the providers that serve the model. */
      startInMs: number;
      providers: string[];
    };

export interface AdmissionControl {
  /** Whether some provider can start this input of `spec` by `START_BY_SHARE` of its time. */
  decide(spec: AnyModelSpec, input: object, deadline: Date, now: Date): Promise<AdmissionDecision>;
  /** The admitted task is now written: it waits in its provider's backlog until it starts. */
  admitted(decision: AdmissionDecision, task: { id: string; deadlineAt: Date }): Promise<void>;
  /**
   * How long until the last of `items` more tasks of this input would have started, behind what
   * already waits, spread over every provider that serves it (a batch's projection).
   */
  projectStarts(
    spec: AnyModelSpec,
    input: object,
    items: number,
    now: Date,
  ): Promise<{ lastStartInMs: number; providers: string[] }>;
}

/** Ripen's own backlog (`createQueueLoadReader` of `@ripen/queue`): tasks waiting, pace. */
export interface QueueBacklog {
  /** Tasks waiting to be started ahead of a new single create (earliest due first). */
  waiting: number;
  /** Tasks waiting to be started behind it (batch items due later). */
  later: number;
  /** Those by deadline, earliest first, with the earliest create among each deadline's. */
  laterByDeadline: Readonly<TasksWaitingToStart["batchByDeadline"]>;
  tasksPerSecond: number | null;
}

/**
 * How much time to spare the batch items queued behind a new single create would have, the least
 * over their deadlines: the time each has left to start by, less when it would start with the
 * create ahead of it. Below zero, the create would make admitted items miss their start-by: the
 * queue takes the earliest due first, and a single create is due within a minute, so each one
 * admitted goes ahead of every batch item due later (a chaos run admitted creates until its
 * 180-second batch items, all admitted, expired unstarted).
 *
 * An item's start-by is `START_BY_SHARE` of the time its create gave it, as a single create's is,
 * fixed from then on. Counted as that share of the time left at each new create, it moved toward
 * the deadline while the item waited: a chaos run's items started 146 to 164 s into their 180,
 * and 116 expired, submitted with seconds left or never.
 */
function sparedToLaterMs(backlog: QueueBacklog, nowMs: number): number {
  if (!backlog.tasksPerSecond) return Infinity;
  let ahead = backlog.waiting + 1;
  let spared = Infinity;
  for (const { deadlineAt, createdAt, tasks } of backlog.laterByDeadline) {
    ahead += tasks;
    const created = createdAt.getTime();
    const startBy = created + START_BY_SHARE * (deadlineAt.getTime() - created) - nowMs;
    spared = Math.min(spared, startBy - (ahead * 1000) / backlog.tasksPerSecond);
  }
  return spared;
}

/** Ms until a task now joining the queue is started, with `ahead` tasks before it. */
export function queueWaitMs(ahead: number, tasksPerSecond: number | null): number {
  // No worker has said its pace (none started yet): no figure to refuse on.
  if (!tasksPerSecond) return 0;
  return Math.ceil(((ahead + 1) * 1000) / tasksPerSecond);
}

export function createAdmissionControl(
  providers: readonly ProviderDeclaration[],
  health: ProviderHealth,
  readBacklog?: () => Promise<QueueBacklog>,
): AdmissionControl {
  const serving = (spec: AnyModelSpec, input: object) =>
    providers.filter((p) => routeIn(spec, input, p.dialect) !== undefined);
  async function starts(candidates: ProviderDeclaration[], deadlineMs: number, extra: number) {
    const loads = await health.loads(
      candidates.map((p) => ({ id: p.id, rateWindowMs: p.limits.rateWindowMs })),
      deadlineMs,
    );
    return candidates.map((provider, i) => {
      const load = loads[i] as ProviderLoad;
      return {
        provider,
        startInMs: estimateStart(provider.limits, { ...load, ahead: load.ahead + extra }),
      };
    });
  }

  // Whether a provider without limits is usable, and Ripen's own queue: read at most every
  // STATE_TTL_MS per process, so the common create costs no Redis call of its own. Creates that
  // arrive while a read is in flight share it (a burst once sent one Postgres count each).
  type SharedState = { readAt: number; usable: Set<string>; backlog: QueueBacklog | null };
  let shared: SharedState | undefined;
  const unlimitedIds = providers.filter((p) => !limited(p)).map((p) => p.id);
  async function readSharedState(at: number): Promise<SharedState> {
    const [states, backlog] = await Promise.all([
      health.states(unlimitedIds),
      readBacklog ? readBacklog() : null,
    ]);
    const usable = new Set(
      unlimitedIds.filter((id) => {
        const state = states.get(id);
        return !state || (state.openForMs === 0 && state.pausedForMs === 0);
      }),
    );
    shared = { readAt: at, usable, backlog };
    return shared;
  }
  const readOnce = sharedWhileInFlight(readSharedState, () => "");
  function sharedState(): Promise<SharedState> {
    const at = Date.now();
    if (shared && at - shared.readAt < STATE_TTL_MS) return Promise.resolve(shared);
    return readOnce(at);
  }

  return {
    async decide(spec, input, deadline, now) {
      const candidates = serving(spec, input);
      // No provider serves this input: routing says so when the task runs, as before.
      if (candidates.length === 0) return { admitted: true, startInMs: 0 };
      const { usable, backlog } = await sharedState();
      const startBy = START_BY_SHARE * (deadline.getTime() - now.getTime());
      // A create waits for the tasks due before it to be started, at the pace tasks start (their
      // polls and retries are in that pace); its own later steps keep its place in line.
      const inQueueMs = backlog ? queueWaitMs(backlog.waiting, backlog.tasksPerSecond) : 0;
      // Nor may it push the batch items queued behind it past their deadlines.
      const spared = backlog ? sparedToLaterMs(backlog, now.getTime()) : Infinity;
      const refuse = (startInMs: number) => ({
        admitted: false as const,
        retryAfterMs: Math.ceil(Math.max(startInMs - startBy, -spared)),
        startInMs,
        providers: candidates.map((p) => p.id),
      });
      if (candidates.some((p) => !limited(p) && usable.has(p.id))) {
        return inQueueMs <= startBy && spared >= 0
          ? { admitted: true, startInMs: inQueueMs }
          : refuse(inQueueMs);
      }
      const projected = await starts(candidates, deadline.getTime(), 0);
      const best = projected.reduce((a, b) => (b.startInMs < a.startInMs ? b : a));
      const startInMs = inQueueMs + best.startInMs;
      if (startInMs > startBy || spared < 0) return refuse(startInMs);
      return {
        admitted: true,
        startInMs,
        ...(limited(best.provider) ? { backlogProvider: best.provider.id } : {}),
      };
    },
    async admitted(decision, task) {
      if (!decision.admitted || !decision.backlogProvider) return;
      await health.joinBacklog(decision.backlogProvider, {
        taskId: task.id,
        deadlineMs: task.deadlineAt.getTime(),
      });
    },
    async projectStarts(spec, input, items, now) {
      // The batch's items wait behind every task already waiting, whatever its due time (a
      // projection on the safe side), and at the providers.
      const { backlog } = await sharedState();
      const inQueueMs = backlog
        ? queueWaitMs(backlog.waiting + backlog.later + items - 1, backlog.tasksPerSecond)
        : 0;
      const projected = await starts(serving(spec, input), now.getTime() + 86_400_000, items - 1);
      const providerIds = projected.map((p) => p.provider.id);
      if (projected.length === 0) return { lastStartInMs: inQueueMs, providers: providerIds };
      // Spread over every provider that serves it, each at its own pace: the providers together
      // start tasks at the sum of their rates.
      const rates = projected.map((p) => (p.startInMs > 0 ? items / p.startInMs : Infinity));
      const total = rates.reduce((a, b) => a + b, 0);
      const atProviders = Number.isFinite(total) ? Math.ceil(items / total) : 0;
      return { lastStartInMs: Math.max(inQueueMs, atProviders), providers: providerIds };
    },
  };
}

/** One item of a batch as admission sees it. */
export interface BatchItemToAdmit {
  model: string;
  input: object;
  deadlineAt: Date;
}

/** A refusal's facts, for its log line and its error. */
export interface CapacityRefusal {
  model: string;
  providers: readonly string[];
  startInMs: number;
  retryAfterMs: number;
  /** The batch's items of that model. */
  items?: number;
}

export type BatchAdmission =
  | { admitted: true; estimatedEndAt: Date }
  | ({ admitted: false } & CapacityRefusal);

/**
 * A batch's admission: its items, grouped by model, are projected onto the providers that serve
 * them behind what already waits there. Refused when a group's last item would not start by
 * `BATCH_START_BY_SHARE` of its deadline; else admitted with when the last item of the slowest group
 * should have started. Throws when Redis cannot say (the caller decides: admit, say).
 */
export async function admitBatchItems(
  capacity: AdmissionControl,
  items: readonly BatchItemToAdmit[],
  now: Date,
  resolveModel: (id: string) => AnyModelSpec,
): Promise<BatchAdmission> {
  const groups = new Map<string, { first: BatchItemToAdmit; count: number }>();
  for (const item of items) {
    const group = groups.get(item.model);
    if (group) group.count++;
    else groups.set(item.model, { first: item, count: 1 });
  }
  let lastStartInMs = 0;
  for (const [model, { first, count }] of groups) {
    const projected = await capacity.projectStarts(resolveModel(model), first.input, count, now);
    const startBy = BATCH_START_BY_SHARE * (first.deadlineAt.getTime() - now.getTime());
    if (projected.lastStartInMs > startBy) {
      return {
        admitted: false,
        model,
        providers: projected.providers,
        startInMs: projected.lastStartInMs,
        retryAfterMs: projected.lastStartInMs - startBy,
        items: count,
      };
    }
    lastStartInMs = Math.max(lastStartInMs, projected.lastStartInMs);
  }
  return { admitted: true, estimatedEndAt: new Date(now.getTime() + lastStartInMs) };
}

/** Where a refusal or a skipped admission is logged. */
interface AdmissionLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * A batch's admission as the API's batch create and a schedule's run apply it: refused with
 * CapacityExceeded (logged once, `task.refused`, with `fields`), or when the last item of the
 * slowest model should have started. Null without admission control, or when Redis cannot say
 * (the batch is admitted: Redis away is no reason to refuse work).
 */
export async function admitBatch(
  deps: { capacity?: AdmissionControl; logger: AdmissionLogger },
  fields: Record<string, unknown>,
  items: readonly BatchItemToAdmit[],
  now: Date,
  resolveModel: (id: string) => AnyModelSpec,
): Promise<Date | null> {
  if (!deps.capacity || items.length === 0) return null;
  const admission = await admitBatchItems(deps.capacity, items, now, resolveModel).catch(
    (error) => {
      deps.logger.warn({ err: error, ...fields }, "batch admission skipped (redis)");
      return null;
    },
  );
  if (!admission) return null;
  if (admission.admitted) return admission.estimatedEndAt;
  const { admitted: _, ...refusal } = admission;
  throw capacityRefusal(deps.logger, { ...fields, ...refusal });
}

/**
 * Logs a refusal once (`task.refused`, with whatever names the work: account, door, schedule)
 * and builds the 429 it is answered with (whole seconds, a retry at least 1 s away).
 */
export function capacityRefusal(
  logger: AdmissionLogger,
  refusal: CapacityRefusal & Record<string, unknown>,
): CapacityExceeded {
  logger.info(
    { event: "task.refused", ...refusal },
    "no provider can start the work before its deadline",
  );
  return new CapacityExceeded(
    refusal.model,
    refusal.providers,
    Math.ceil(refusal.startInMs / 1000),
    Math.max(1, Math.ceil(refusal.retryAfterMs / 1000)),
  );
}

import { randomUUID } from "node:crypto";
import type { FailureKind } from "@ripen/core";
import type { Cluster, Redis } from "ioredis";
import { createGenerationTimes, type GenerationTimes } from "./generation-times";
import { runScript } from "./redis-script";
import { DEFAULT_RATE_WINDOW_MS, rateWindowOf } from "./registry";
import { sharedWhileInFlight } from "./shared-read";

/**
 * What every worker process knows of each provider's health and limits, kept in Redis so that
 * all of them see one circuit, one request budget and one count of tasks in flight. All of it is
 * soft state: a Redis that restarts empty only forgets recent failures and counts, which the
 * provider's own 429s and 409s then correct. Times come from Redis's own clock, so processes on
 * machines whose clocks disagree still share one window.
 */

/** Starts are counted over the last minute: how fast a provider takes new tasks. */
export const START_WINDOW_MS = 60_000;
/** How soon a submit held back only by the polls its provider is owed asks again. */
const OWED_POLL_RECHECK_MS = 1_000;

/** How long a request waits while Redis has not been found emptied, or is being restored. */
const RESTORE_WAIT_MS = 250;
/** How long a restore may take before requests go ahead without it (its process died). */
const RESTORE_LEASE_MS = 15_000;

/**
 * With KEYS[i], the marker a worker sets when it finds it missing (`claimEmptied`), and KEYS[i +
 * 1], set while that worker puts the providers' use back (`restoreUse`): the script answers
 * `refusal` while the marker is missing or the restore runs. A Redis restarted empty takes
 * requests before any worker has noticed (a job's command queued while it was away goes first),
 * and each one granted then was on top of the requests the restore puts back.
 */
const restartGuard = (i: number, refusal: number) => `
if KEYS[${i}] and (redis.call('EXISTS', KEYS[${i}]) == 0 or redis.call('EXISTS', KEYS[${i + 1}]) == 1) then
  return ${refusal}
end`;

/**
 * Requests in the last ARGV[1] ms below ARGV[2]: record this one (0), else ms until one frees.
 * A request for a task names it and its deadline (ARGV[4], ARGV[5]): it joins the provider's
 * backlog, ordered by deadline, and is granted only when fewer tasks are ahead of it than
 * requests free, so within the window the task nearest its deadline goes first; otherwise it
 * waits for as many requests to age out as there are tasks ahead. A granted request leaves the
 * backlog; a granted submit (ARGV[7] = 1) also counts as a start (KEYS[3], over ARGV[6] ms) and
 * holds the task in flight (KEYS[4], until its deadline) until it ends.
 *
 * A task's poll (ARGV[7] = 0) goes ahead of the backlog while polls hold less than half of the
 * window (counted in KEYS[5]): the task is paid for upstream, and a request spent on it can end it,
 * where a submit needs a poll of its own later. Ordered by deadline with the submits, a chaos
 * run's accepted nanobanana tasks (it sends no callbacks) were not polled again before their
 * deadlines. The other half stays the submits', so polls of slow generations cannot stop new
 * tasks from starting.
 *
 * A submit leaves room in the window for a poll of each task in flight (KEYS[4]), up to that
 * half: a task started into a window its polls cannot get into is paid for and expires unseen.
 * A chaos run's batch items, their jobs re-added at once after Redis restarted, were submitted
 * to nanobanana together and none was polled in the 42 s left to their deadlines. Held back only
 * by those owed polls, a submit asks again after ARGV[8] ms.
 */
const ACQUIRE_REQUEST = `
${restartGuard(6, RESTORE_WAIT_MS)}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local free = tonumber(ARGV[2]) - redis.call('ZCARD', KEYS[1])
local poll = ARGV[4] ~= '' and ARGV[7] ~= '1'
local owed = 0
if ARGV[7] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  owed = redis.call('ZCARD', KEYS[4])
  if redis.call('ZSCORE', KEYS[4], ARGV[4]) then owed = owed - 1 end
  owed = math.min(owed, math.floor(tonumber(ARGV[2]) / 2))
  free = free - owed
end
local pollFirst = false
if poll then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - window)
  pollFirst = free > 0 and redis.call('ZCARD', KEYS[5]) < math.floor(tonumber(ARGV[2]) / 2)
end
local ahead = 0
if ARGV[4] ~= '' and not pollFirst then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  redis.call('ZADD', KEYS[2], 'NX', ARGV[5], ARGV[4])
  redis.call('PEXPIRE', KEYS[2], 3600000)
  ahead = redis.call('ZRANK', KEYS[2], ARGV[4])
end
if ahead < free then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  if poll then
    redis.call('ZADD', KEYS[5], now, ARGV[3])
    redis.call('PEXPIRE', KEYS[5], window)
  end
  if ARGV[4] ~= '' then redis.call('ZREM', KEYS[2], ARGV[4]) end
  if ARGV[7] == '1' then
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[6]))
    redis.call('ZADD', KEYS[3], now, ARGV[3])
    redis.call('PEXPIRE', KEYS[3], ARGV[6])
    redis.call('ZADD', KEYS[4], ARGV[5], ARGV[4])
    redis.call('PEXPIRE', KEYS[4], 3600000)
  end
  return 0
end
-- Held back by polls owed rather than a full window: asked again once one may have gone.
if ahead < free + owed then return tonumber(ARGV[8]) end
local nth = redis.call('ZRANGE', KEYS[1], ahead - free, ahead - free, 'WITHSCORES')
if nth[2] == nil then return window end
return math.max(1, tonumber(nth[2]) + window - now)`;

/**
 * A lease on one of ARGV[1] slots for task ARGV[2] (kept if it already holds one): 1, or 0 when
 * full. A new lease takes the task out of the backlog (KEYS[2]) and, when ARGV[5] is 1, counts as
 * a start (KEYS[3], over ARGV[6] ms); a refused task joins the backlog with its deadline ARGV[4].
 */
const CLAIM_SLOT = `
${restartGuard(4, 0)}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local until_ = now + tonumber(ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZADD', KEYS[1], until_, ARGV[2])
  return 1
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], until_, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('ZREM', KEYS[2], ARGV[2])
  if ARGV[5] == '1' then
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[6]))
    redis.call('ZADD', KEYS[3], now, ARGV[2] .. ':' .. now)
    redis.call('PEXPIRE', KEYS[3], ARGV[6])
  end
  return 1
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], 'NX', ARGV[4], ARGV[2])
redis.call('PEXPIRE', KEYS[2], 3600000)
return 0`;

/**
 * What admission needs of each provider, six keys each (requests, slots, backlog, starts,
 * circuit, paused), ARGV[1] the new task's deadline and ARGV[1 + i] provider i's request window:
 * requests in the window, slots held, tasks in the backlog due no later than the deadline,
 * starts in the last minute, and ms the circuit stays open and the pause lasts.
 */
const READ_CAPACITY = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS, 6 do
  local window = tonumber(ARGV[1 + (i + 5) / 6])
  local openUntil = tonumber(redis.call('HGET', KEYS[i + 4], 'openUntil') or '0')
  local pausedUntil = tonumber(redis.call('GET', KEYS[i + 5]) or '0')
  table.insert(out, redis.call('ZCOUNT', KEYS[i], now - window, '+inf'))
  table.insert(out, redis.call('ZCOUNT', KEYS[i + 1], now, '+inf'))
  table.insert(out, redis.call('ZCOUNT', KEYS[i + 2], now, ARGV[1]))
  table.insert(out, redis.call('ZCOUNT', KEYS[i + 3], now - ${START_WINDOW_MS}, '+inf'))
  table.insert(out, math.max(0, openUntil - now))
  table.insert(out, math.max(0, pausedUntil - now))
end
return out`;

/**
 * A failure: a circuit-kind failure opens the circuit at once for ARGV[2] ms. Others count in a
 * window of ARGV[8] ms with the successes the reporting process saw since its last report
 * (ARGV[7]); the failure that makes at least ARGV[1] of them, and at least a share ARGV[9] of
 * the calls counted, trips the circuit open for ARGV[3] ms. Counted in a row, the answers of a
 * burst of calls opened a healthy provider's circuit: its few failures arrived before its
 * successes' resets did. Once tripped, only a new call's failure (ARGV[6] = 'call': the trial
 * after the open period) opens it again; an earlier call's generation failing ('generation')
 * only counts. An opening never shortens a longer one. Returns ms the circuit is open for from
 * now (0: closed) and the failures counted.
 */
const RECORD_FAILURE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local windowStart = tonumber(redis.call('HGET', KEYS[1], 'windowStart') or '0')
if now - windowStart >= tonumber(ARGV[8]) then
  redis.call('HSET', KEYS[1], 'windowStart', now, 'failures', 0, 'successes', 0)
end
local successes = redis.call('HINCRBY', KEYS[1], 'successes', ARGV[7])
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local tripped = redis.call('HGET', KEYS[1], 'tripped') == '1'
local openFor = 0
if ARGV[4] == 'circuit' then openFor = tonumber(ARGV[2])
elseif tripped then
  if ARGV[6] == 'call' then openFor = tonumber(ARGV[3]) end
elseif failures >= tonumber(ARGV[1]) and failures >= tonumber(ARGV[9]) * (failures + successes) then
  openFor = tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], 'tripped', 1)
end
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'openUntil') or '0')
if openFor > 0 and now + openFor > openUntil then
  openUntil = now + openFor
  redis.call('HSET', KEYS[1], 'openUntil', openUntil, 'reason', ARGV[5])
end
redis.call('PEXPIRE', KEYS[1], math.max(openUntil - now, tonumber(ARGV[3])) + 3600000)
return {math.max(0, openUntil - now), failures}`;

/**
 * A success ends the failures counted and the trip. It does not cut an open period short: one
 * opened for our key being refused waits for an operator, and generations accepted before it
 * opened finishing well say nothing of new calls. Once closed, the circuit's record goes.
 */
const RECORD_SUCCESS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'openUntil') or '0')
if openUntil > now then
  redis.call('HSET', KEYS[1], 'failures', 0, 'successes', 0, 'tripped', 0)
else redis.call('DEL', KEYS[1]) end
return 0`;

/** Each provider's state as routing sees it: open and paused ms, failures counted, tripped. */
const READ_STATE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS, 2 do
  local openUntil = tonumber(redis.call('HGET', KEYS[i], 'openUntil') or '0')
  local pausedUntil = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
  table.insert(out, math.max(0, openUntil - now))
  table.insert(out, math.max(0, pausedUntil - now))
  table.insert(out, tonumber(redis.call('HGET', KEYS[i], 'failures') or '0'))
  table.insert(out, redis.call('HGET', KEYS[i], 'tripped') == '1' and 1 or 0)
end
return out`;

/**
 * Puts back what a Redis restarted empty forgot of a provider, from Postgres: its requests still
 * in the window (KEYS[1], over ARGV[1] ms) and its starts (KEYS[2], over ARGV[2] ms), ARGV[3]
 * attempts as an id and the ms since it was sent each; then ARGV[n] polls the same way, requests
 * in the window that are also counted as polls (KEYS[4]); then its tasks in flight (KEYS[3]), a
 * task id and the ms to its deadline each. Members already there are kept.
 */
const RESTORE_USE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local startWindow = tonumber(ARGV[2])
local attempts = tonumber(ARGV[3])
for i = 0, attempts - 1 do
  local id = ARGV[4 + 2 * i]
  local age = tonumber(ARGV[5 + 2 * i])
  if age < window then redis.call('ZADD', KEYS[1], 'NX', now - age, id) end
  if age < startWindow then redis.call('ZADD', KEYS[2], 'NX', now - age, id) end
end
local p = 4 + 2 * attempts
local polls = tonumber(ARGV[p])
for i = 0, polls - 1 do
  local id = ARGV[p + 1 + 2 * i]
  local age = tonumber(ARGV[p + 2 + 2 * i])
  if age < window then
    redis.call('ZADD', KEYS[1], 'NX', now - age, id)
    redis.call('ZADD', KEYS[4], 'NX', now - age, id)
  end
end
if window > 0 then
  redis.call('PEXPIRE', KEYS[1], window)
  redis.call('PEXPIRE', KEYS[4], window)
end
redis.call('PEXPIRE', KEYS[2], startWindow)
for j = p + 1 + 2 * polls, #ARGV, 2 do
  redis.call('ZADD', KEYS[3], 'NX', now + tonumber(ARGV[j + 1]), ARGV[j])
end
redis.call('PEXPIRE', KEYS[3], 3600000)
return 0`;

/**
 * The marker KEYS[1] set if it was missing: 1 for the one process that found Redis emptied (or
 * new), which then holds KEYS[2] for ARGV[1] ms while it restores, and leaves the sweep of every
 * task pending (KEYS[3]); else 0.
 */
const CLAIM_EMPTIED = `
if redis.call('SET', KEYS[1], '1', 'NX') then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
  redis.call('SET', KEYS[3], '1')
  return 1
end
return 0`;

/** While the sweep of every task is pending (KEYS[1]), a lease on it (KEYS[2], ARGV[1] ms). */
const CLAIM_EMPTIED_SWEEP = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0`;

/** A task joins a backlog (KEYS[1]) with its deadline ARGV[1], keeping an earlier place. */
const JOIN_BACKLOG = `
redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], 3600000)
return 0`;

/** Every member ARGV[j] leaves every sorted set KEYS[i]. */
const REMOVE_FROM_EACH = `
for _, key in ipairs(KEYS) do
  for _, member in ipairs(ARGV) do redis.call('ZREM', key, member) end
end
return 0`;

/** Pauses a provider until now + ARGV[1] ms, never shortening a longer pause. */
const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > current then redis.call('SET', KEYS[1], until_, 'PX', ARGV[1]) end
return 0`;

export interface HealthPolicy {
  /** Failures that open a provider's circuit (5), when they are `failureShare` of its calls. */
  failureThreshold: number;
  /** The share of the calls counted in `failureWindowMs` that must have failed (0.5). */
  failureShare?: number;
  /** How long failures and successes count toward opening (3 s). */
  failureWindowMs?: number;
  /** How long a circuit opened by failures stays open before a trial call (30 s). */
  openMs: number;
  /** How long our key or account being refused keeps it open (5 min): an operator must act. */
  refusedOpenMs: number;
}

export const defaultHealthPolicy: Required<HealthPolicy> = {
  failureThreshold: 5,
  failureShare: 0.5,
  failureWindowMs: 3_000,
  openMs: 30_000,
  refusedOpenMs: 300_000,
};

export interface ProviderState {
  /** Ms the circuit stays open; 0 when closed (or half-open: a trial call may go). */
  openForMs: number;
  /** Ms it asked us to wait (Retry-After); 0 when not paused. */
  pausedForMs: number;
  /** Failures counted in its window since a success ended them: 0, a success has nothing to end. */
  failures: number;
  /** Opened by failures and not yet closed by a success: half-open once its open time is over. */
  tripped: boolean;
}

/**
 * What failed: a call made now, or a generation accepted before. While a circuit is open or
 * half-open, generations still failing were accepted before it opened (an accepted submit ends
 * the streak), so they repeat what opened it and say nothing of whether the provider recovered;
 * only a new call, the trial, may open it again. Counted as reopenings, the failed generations
 * of tasks in flight kept a healthy provider's circuit open for minutes.
 */
export type FailureOf = "call" | "generation";

/** How long a process trusts the failures it last saw counted of a provider. */
export const FAILURES_KNOWN_MS = 1_000;

/** A circuit as an operator reads it. */
export type CircuitState = "closed" | "open" | "half_open";

/**
 * Open while its time runs; half-open once that is over but no success has closed it since
 * failures tripped it (a trial call may go, and only a new call's failure opens it again); else
 * closed.
 */
export function circuitOf(
  state: Pick<ProviderState, "openForMs" | "tripped"> | undefined,
): CircuitState {
  if (!state) return "closed";
  if (state.openForMs > 0) return "open";
  return state.tripped ? "half_open" : "closed";
}

/** A task asking a provider to start it: it waits its turn, by deadline, in the provider's backlog. */
export interface StartingTask {
  taskId: string;
  deadlineMs: number;
}

/** A task's request of a rate-limited provider: its submit (a start) or a status poll. */
export interface TaskRequest extends StartingTask {
  submit: boolean;
}

/** What admission reads of a provider (see `estimateStart`). */
export interface ProviderLoad extends Omit<ProviderState, "failures" | "tripped"> {
  /** Requests in its rate window now. */
  requests: number;
  /** Tasks holding one of its in-flight slots. */
  inFlight: number;
  /** Tasks waiting for it that are due no later than the new task. */
  ahead: number;
  /** Tasks it started in the last minute (`START_WINDOW_MS`). */
  starts: number;
}

export interface ProviderHealth {
  /**
   * Takes one of `limit` requests per window (a minute) from the provider's budget: 0 when
   * granted, else ms to wait. A task's request waits behind the tasks in the provider's backlog
   * due before it; a granted submit counts as a start and holds the task in flight.
   */
  acquireRequest(
    providerId: string,
    limit: number,
    windowMs?: number,
    forTask?: TaskRequest,
  ): Promise<number>;
  /**
   * Holds one of `max` in-flight slots for the task, for at most `leaseMs`; false when full, and
   * the task joins the provider's backlog. `countsStart`: a new slot is the task's start (false
   * when a request budget decides that instead).
   */
  claimSlot(
    providerId: string,
    task: StartingTask,
    max: number,
    leaseMs: number,
    countsStart?: boolean,
  ): Promise<boolean>;
  /**
   * True for the one process that finds Redis without Ripen's marker (restarted empty, flushed,
   * or new): it sets the marker, then puts the providers' use back (`restoreUse`) and says so
   * (`restoreDone`); until then, or for 15 s at most, requests and slots wait.
   */
  claimEmptied(): Promise<boolean>;
  restoreDone(): Promise<void>;
  /**
   * True when every active task's job must be re-added (Redis was found emptied) and no other
   * process holds that sweep: this one does, for `leaseMs` (`renewEmptiedSweep` extends it) and
   * says when it is done (`emptiedSweepDone`). A process killed mid-sweep leaves it pending, and
   * the next to ask once its lease has run out takes it over.
   */
  claimEmptiedSweep(leaseMs: number): Promise<boolean>;
  renewEmptiedSweep(leaseMs: number): Promise<void>;
  emptiedSweepDone(): Promise<void>;
  /**
   * What Postgres recorded of the provider's use, put back in a Redis that restarted empty: the
   * requests still in its window (each attempt's submit and each recorded poll, `agoMs` before
   * now) and its tasks in flight (`leftMs`: until their deadlines, when they give their slots up
   * at the latest).
   */
  restoreUse(
    providerId: string,
    use: {
      windowMs: number;
      submits: readonly { attemptId: string; agoMs: number }[];
      polls: readonly { pollId: string; agoMs: number }[];
      inFlight: readonly { taskId: string; leftMs: number }[];
    },
  ): Promise<void>;
  /** The task no longer holds a slot of the provider (nor waits in its backlog). */
  releaseSlot(providerId: string, taskId: string): Promise<void>;
  /** The task waits for this provider (admission chose it): it is counted in its backlog. */
  joinBacklog(providerId: string, task: StartingTask): Promise<void>;
  /** The tasks started elsewhere, or ended: they wait for none of these any more. */
  leaveBacklogs(providerIds: readonly string[], taskIds: readonly string[]): Promise<void>;
  /** Each provider's load for a task due at `deadlineMs`, in the order asked. */
  loads(
    providers: readonly { id: string; rateWindowMs?: number }[],
    deadlineMs: number,
  ): Promise<ProviderLoad[]>;
  /**
   * The provider did its work (accepted a submit, or a poll or a callback found a generation
   * succeeded): the failures counted end. Calls Redis only when this process last saw it with
   * failures (in a read of its state, or one it recorded), and reads that again at most every
   * `FAILURES_KNOWN_MS`: while a provider is healthy its successes cost nothing. Never rejects:
   * soft state, a reset that did not reach Redis is done by the next success. Every success is
   * also counted here, and the next failure this process records reports them (`RECORD_FAILURE`).
   */
  recordSuccess(providerId: string): Promise<void>;
  /**
   * Counts a failure of the provider's own making; returns how long its circuit is now open (0:
   * closed). `of`: a call made now (default), or an earlier call's generation that failed, which
   * counts toward opening a closed circuit but never opens it again (see `RECORD_FAILURE`).
   */
  recordFailure(
    providerId: string,
    kind: FailureKind,
    reason: string,
    of?: FailureOf,
  ): Promise<number>;
  /** The provider asked us to wait (Retry-After): nobody calls it before then. */
  pause(providerId: string, ms: number): Promise<void>;
  /** Shared by the callers that ask at once: read-only. */
  states(providerIds: readonly string[]): Promise<ReadonlyMap<string, ProviderState>>;
  /** How long its recent generations took, per model: when a task's first poll is worth it. */
  generations: GenerationTimes;
}

/** Events counted over about the last `windowMs`, in two half-window buckets. */
interface RecentCount {
  add(atMs: number): void;
  total(atMs: number): number;
}

function recentCount(windowMs: number): RecentCount {
  const half = windowMs / 2;
  let current = 0;
  let previous = 0;
  let currentFrom = Number.NEGATIVE_INFINITY;
  const roll = (atMs: number) => {
    if (atMs - currentFrom < half) return;
    previous = atMs - currentFrom < windowMs ? current : 0;
    current = 0;
    currentFrom = atMs;
  };
  return {
    add(atMs) {
      roll(atMs);
      current++;
    },
    total(atMs) {
      roll(atMs);
      return current + previous;
    },
  };
}

export interface ProviderHealthOptions {
  /**
   * This process's monotonic clock in ms (`performance.now`), which times what it last saw of
   * each provider; a test steps it. Circuits and windows keep Redis's clock whatever it is.
   */
  now?: () => number;
  /**
   * Requests and slots wait while Redis is not yet known to hold the providers' use (a worker's:
   * see `restartGuard`). Off for processes that only read loads or free slots.
   */
  waitForRestore?: boolean;
}

export function createProviderHealth(
  redis: Redis | Cluster,
  prefix: string,
  policy: HealthPolicy = defaultHealthPolicy,
  options: ProviderHealthOptions = {},
): ProviderHealth {
  const now = options.now ?? (() => performance.now());
  const key = (providerId: string, what: string) => `${prefix}:provider:${providerId}:${what}`;
  const marker = `${prefix}:redis-kept`;
  const restoring = `${prefix}:limits-restoring`;
  const sweepPending = `${prefix}:emptied-sweep-pending`;
  const sweepLease = `${prefix}:emptied-sweep-lease`;
  const guardKeys = options.waitForRestore ? [marker, restoring] : [];
  const run = (script: string, keys: readonly string[], args: readonly (string | number)[]) =>
    runScript(redis, script, keys, args);
  // The failures this process last saw counted of each provider, and when (its own clock):
  // whether a success has failures to end; and the successes its next failure reports.
  const seen = new Map<string, { failures: number; atMs: number }>();
  const windowMs = policy.failureWindowMs ?? defaultHealthPolicy.failureWindowMs;
  const successesUnreported = new Map<string, RecentCount>();
  const takeSuccesses = (providerId: string) => {
    const count = successesUnreported.get(providerId);
    successesUnreported.delete(providerId);
    return count?.total(now()) ?? 0;
  };
  const see = (providerId: string, failures: number, atMs = now()) => {
    const last = seen.get(providerId);
    if (!last || last.atMs <= atMs) seen.set(providerId, { failures, atMs });
  };
  async function readStates(
    providerIds: readonly string[],
  ): Promise<ReadonlyMap<string, ProviderState>> {
    const atMs = now();
    const keys = providerIds.flatMap((id) => [key(id, "circuit"), key(id, "paused")]);
    const values = keys.length ? ((await run(READ_STATE, keys, [])) as number[]) : [];
    const states = new Map(
      providerIds.map((id, i) => [
        id,
        {
          openForMs: Number(values[4 * i] ?? 0),
          pausedForMs: Number(values[4 * i + 1] ?? 0),
          failures: Number(values[4 * i + 2] ?? 0),
          tripped: Number(values[4 * i + 3] ?? 0) === 1,
        },
      ]),
    );
    for (const [id, state] of states) see(id, state.failures, atMs);
    return states;
  }
  // Steps routing at once (a worker's concurrent jobs) share one read of the same providers.
  const states = sharedWhileInFlight(readStates, (providerIds) => providerIds.join(","));

  return {
    generations: createGenerationTimes(redis, prefix),
    async acquireRequest(providerId, limit, windowMs = DEFAULT_RATE_WINDOW_MS, forTask) {
      const wait = await run(
        ACQUIRE_REQUEST,
        [
          ...["requests", "backlog", "starts", "slots", "poll-requests"].map((what) =>
            key(providerId, what),
          ),
          ...guardKeys,
        ],
        [
          windowMs,
          limit,
          randomUUID(),
          forTask?.taskId ?? "",
          forTask?.deadlineMs ?? 0,
          START_WINDOW_MS,
          forTask?.submit ? 1 : 0,
          OWED_POLL_RECHECK_MS,
        ],
      );
      return Number(wait);
    },
    async claimSlot(providerId, task, max, leaseMs, countsStart = true) {
      const claimed = await run(
        CLAIM_SLOT,
        [
          key(providerId, "slots"),
          key(providerId, "backlog"),
          key(providerId, "starts"),
          ...guardKeys,
        ],
        [max, task.taskId, leaseMs, task.deadlineMs, countsStart ? 1 : 0, START_WINDOW_MS],
      );
      return Number(claimed) === 1;
    },
    async claimEmptied() {
      return (
        Number(await run(CLAIM_EMPTIED, [marker, restoring, sweepPending], [RESTORE_LEASE_MS])) ===
        1
      );
    },
    async claimEmptiedSweep(leaseMs) {
      return Number(await run(CLAIM_EMPTIED_SWEEP, [sweepPending, sweepLease], [leaseMs])) === 1;
    },
    async renewEmptiedSweep(leaseMs) {
      await redis.pexpire(sweepLease, leaseMs);
    },
    async emptiedSweepDone() {
      await redis.del(sweepPending, sweepLease);
    },
    async restoreDone() {
      await redis.del(restoring);
    },
    async restoreUse(providerId, use) {
      await run(
        RESTORE_USE,
        ["requests", "starts", "slots", "poll-requests"].map((what) => key(providerId, what)),
        [
          use.windowMs,
          START_WINDOW_MS,
          use.submits.length,
          ...use.submits.flatMap((submit) => [submit.attemptId, submit.agoMs]),
          use.polls.length,
          ...use.polls.flatMap((poll) => [poll.pollId, poll.agoMs]),
          ...use.inFlight.flatMap((task) => [task.taskId, task.leftMs]),
        ],
      );
    },
    async joinBacklog(providerId, task) {
      await run(JOIN_BACKLOG, [key(providerId, "backlog")], [task.deadlineMs, task.taskId]);
    },
    async leaveBacklogs(providerIds, taskIds) {
      if (providerIds.length === 0 || taskIds.length === 0) return;
      await run(
        REMOVE_FROM_EACH,
        providerIds.map((id) => key(id, "backlog")),
        taskIds,
      );
    },
    async loads(providers, deadlineMs) {
      if (providers.length === 0) return [];
      const keys = providers.flatMap(({ id }) =>
        ["requests", "slots", "backlog", "starts", "circuit", "paused"].map((what) =>
          key(id, what),
        ),
      );
      const windows = providers.map(rateWindowOf);
      const values = (await run(READ_CAPACITY, keys, [deadlineMs, ...windows])) as number[];
      return providers.map((_, i) => {
        const [requests, inFlight, ahead, starts, openForMs, pausedForMs] = values
          .slice(6 * i, 6 * i + 6)
          .map(Number) as [number, number, number, number, number, number];
        return { requests, inFlight, ahead, starts, openForMs, pausedForMs };
      });
    },
    async releaseSlot(providerId, taskId) {
      // An ended task waits for nothing either: out of the backlog too.
      await run(REMOVE_FROM_EACH, [key(providerId, "slots"), key(providerId, "backlog")], [taskId]);
    },
    async recordSuccess(providerId) {
      // Counted at once, before any round trip: the next failure this process reports says how
      // many successes came since its last report.
      const unreported = successesUnreported.get(providerId) ?? recentCount(windowMs);
      unreported.add(now());
      successesUnreported.set(providerId, unreported);
      try {
        const last = seen.get(providerId);
        if (!last || now() - last.atMs > FAILURES_KNOWN_MS) await states([providerId]);
        if (!seen.get(providerId)?.failures) return;
        // Seen as reset before the call: the successes that arrive meanwhile do not send theirs.
        see(providerId, 0);
        takeSuccesses(providerId);
        await run(RECORD_SUCCESS, [key(providerId, "circuit")], []);
      } catch {
        // Redis away: the streak stays until a later success.
      }
    },
    async recordFailure(providerId, kind, reason, of = "call") {
      const successes = takeSuccesses(providerId);
      const [openFor, failures] = (await run(
        RECORD_FAILURE,
        [key(providerId, "circuit")],
        [
          policy.failureThreshold,
          policy.refusedOpenMs,
          policy.openMs,
          kind,
          reason.slice(0, 200),
          of,
          successes,
          windowMs,
          policy.failureShare ?? defaultHealthPolicy.failureShare,
        ],
      )) as [number, number];
      see(providerId, Number(failures));
      return Number(openFor);
    },
    async pause(providerId, ms) {
      await run(PAUSE, [key(providerId, "paused")], [Math.max(1, Math.ceil(ms))]);
    },
    states,
  };
}

export interface PollPolicy {
  /** Delay before the first poll, and the fixed part of every later one. */
  baseMs: number;
  /** No poll waits longer than this, but the first, which waits for the shortest known generation. */
  maxMs: number;
  /**
   * Added to the first poll when the provider sends callbacks (0 when not given): fewer polls
   * racing callbacks, at the price of finding a task whose callback was lost that much later.
   */
  callbackGraceMs?: number;
}

/** Each wait before a poll is at most this share of the time the attempt has run, plus the base. */
const POLL_GROWTH = 0.1;

/**
 * The wait before an accepted attempt's first poll: the base, plus the shortest generation the
 * provider's recent tasks of this model took, grown by a tenth as every later wait is. A poll
 * before that could only find the task running (or race its callback), and a generation at
 * least that long is still found within 10% of its time plus the base.
 */
export const firstPollDelay = (
  policy: PollPolicy,
  sendsCallbacks: boolean,
  shortestGenerationMs = 0,
): number =>
  Math.floor(policy.baseMs + (1 + POLL_GROWTH) * Math.max(0, shortestGenerationMs)) +
  (sendsCallbacks ? (policy.callbackGraceMs ?? 0) : 0);

/**
 * The wait before the next poll of an attempt accepted `elapsedMs` ago: the base plus a tenth of
 * the elapsed time, capped. A generation that ends just after one poll is then found by the next
 * within 10% of its time plus the base. Jitter only shortens the wait (by up to a fifth), so
 * polls of tasks accepted together spread out without ever coming later than that bound.
 */
export function pollAgainIn(
  elapsedMs: number,
  policy: PollPolicy,
  random: () => number = Math.random,
): number {
  const bound = Math.min(policy.maxMs, policy.baseMs + POLL_GROWTH * Math.max(0, elapsedMs));
  return Math.max(1, Math.floor(bound * (0.8 + 0.2 * random())));
}

/** Exponential backoff with ±25% jitter, capped: spreads retries of submits refused together. */
export function nextPollDelay(
  polls: number,
  policy: PollPolicy,
  random: () => number = Math.random,
): number {
  const exponential = policy.baseMs * 2 ** Math.min(polls, 30);
  const jittered = Math.min(policy.maxMs, exponential) * (0.75 + random() * 0.5);
  return Math.round(Math.min(policy.maxMs, jittered));
}

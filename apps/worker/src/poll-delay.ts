export interface PollPolicy {
  /** Delay before the first poll. */
  baseMs: number;
  /** No poll waits longer than this. */
  maxMs: number;
  /**
   * Added to the first poll when the provider sends callbacks (0 when not given): a poll at the
   * moment the generation ends would race its callback and ask the upstream for nothing.
   */
  callbackGraceMs?: number;
}

/** The wait before an accepted attempt's first poll. */
export const firstPollDelay = (policy: PollPolicy, sendsCallbacks: boolean): number =>
  policy.baseMs + (sendsCallbacks ? (policy.callbackGraceMs ?? 0) : 0);

/** Exponential backoff with ±25% jitter, capped: spreads polls of tasks created together. */
export function nextPollDelay(
  polls: number,
  policy: PollPolicy,
  random: () => number = Math.random,
): number {
  const exponential = policy.baseMs * 2 ** Math.min(polls, 30);
  const jittered = Math.min(policy.maxMs, exponential) * (0.75 + random() * 0.5);
  return Math.round(Math.min(policy.maxMs, jittered));
}

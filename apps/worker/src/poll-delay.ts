export interface PollPolicy {
  /** Delay before the first poll. */
  baseMs: number;
  /** No poll waits longer than this. */
  maxMs: number;
}

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

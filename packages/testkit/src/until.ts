/**
 * Resolves with what `check` returns once that is truthy, read every 20 ms; rejects after
 * `timeoutMs`. For conditions nothing announces (a wake-up written, a log line); a task's status
 * is awaited with `waitForTask`, which listens instead.
 */
export async function until<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > giveUpAt) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

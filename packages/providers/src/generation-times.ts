import type { Cluster, Redis } from "ioredis";
import { runScript } from "./redis-script";

/**
 * How long a provider's recent generations of a model took, from the accept of the attempt to
 * the ending that found it succeeded. The worker waits about that long before a task's first
 * poll: a poll sooner can only find the task still running, and with callbacks it races the
 * callback (the bench's phase d counted 2.4 upstream calls per task against a target of 1.05).
 */
export interface GenerationSample {
  providerId: string;
  model: string;
  ms: number;
}

/** A provider's recent generations of a model; both 0 while none is known. */
export interface RecentGenerations {
  /**
   * The shortest, not a typical one: the first poll then comes no later than 10% + the poll base
   * after any generation at least that long, the bound `pollAgainIn` keeps for later polls.
   */
  shortestMs: number;
  /** The longest: past a few times it, a callback the provider sends once is not coming. */
  longestMs: number;
}

export interface GenerationTimes {
  /** Keeps the latest `GENERATION_SAMPLES` of each provider and model (one script). */
  record(samples: readonly GenerationSample[]): Promise<void>;
  /** The recent generations of the model at the provider; a failed read counts as none known. */
  recent(providerId: string, model: string): Promise<RecentGenerations>;
}

/** Samples kept per provider and model: enough that one slow run does not hide the fast ones. */
export const GENERATION_SAMPLES = 20;
/**
 * A process re-reads a provider's figure at most this often: one read a second per model is
 * nothing, and a figure kept longer outlives a change of generation time by that much (the
 * bench's phase d, right after generation-0 phases, polled 2.4 times per task on a 5 s figure).
 */
const CACHE_MS = 1_000;
/** A read slower than this counts as nothing known: a submit never waits on Redis for it. */
const READ_TIMEOUT_MS = 250;
const NONE_KNOWN: RecentGenerations = { shortestMs: 0, longestMs: 0 };
/** A model nobody ran for a day starts from nothing again. */
const KEEP_MS = 86_400_000;

/** Each KEYS[i] gets ARGV[2 + i]'s comma-separated samples, keeps ARGV[1] of them, for ARGV[2] ms. */
const RECORD_SAMPLES = `
for i, key in ipairs(KEYS) do
  for ms in string.gmatch(ARGV[2 + i], '%d+') do redis.call('LPUSH', key, ms) end
  redis.call('LTRIM', key, 0, tonumber(ARGV[1]) - 1)
  redis.call('PEXPIRE', key, ARGV[2])
end
return 0`;

export function createGenerationTimes(
  redis: Redis | Cluster,
  prefix: string,
  now: () => number = Date.now,
): GenerationTimes {
  const key = (providerId: string, model: string) =>
    `${prefix}:provider:${providerId}:generation:${model}`;
  const cache = new Map<string, { until: number; read: Promise<RecentGenerations> }>();
  return {
    async record(samples) {
      const kept = samples.filter((s) => Number.isFinite(s.ms) && s.ms >= 0);
      if (kept.length === 0) return;
      const byKey = new Map<string, number[]>();
      for (const sample of kept) {
        const k = key(sample.providerId, sample.model);
        const samplesOfKey = byKey.get(k) ?? [];
        samplesOfKey.push(Math.round(sample.ms));
        byKey.set(k, samplesOfKey);
      }
      await runScript(
        redis,
        RECORD_SAMPLES,
        [...byKey.keys()],
        [GENERATION_SAMPLES, KEEP_MS, ...[...byKey.values()].map((ms) => ms.join(","))],
      );
    },
    recent(providerId, model) {
      const k = key(providerId, model);
      const cached = cache.get(k);
      if (cached && now() < cached.until) return cached.read;
      // Concurrent submits share one read; a failed read counts as nothing known.
      const entry = { until: Number.POSITIVE_INFINITY, read: Promise.resolve(NONE_KNOWN) };
      const values = Promise.race([
        redis.lrange(k, 0, -1),
        new Promise<never>((_, reject) => {
          setTimeout(
            () => reject(new Error("generation times read timed out")),
            READ_TIMEOUT_MS,
          ).unref();
        }),
      ]);
      entry.read = values.then(
        (values) => {
          entry.until = now() + CACHE_MS;
          const ms = values.map(Number);
          return ms.length === 0
            ? NONE_KNOWN
            : { shortestMs: Math.min(...ms), longestMs: Math.max(...ms) };
        },
        () => {
          entry.until = now() + CACHE_MS;
          return NONE_KNOWN;
        },
      );
      cache.set(k, entry);
      return entry.read;
    },
  };
}

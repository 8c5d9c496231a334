import { z } from "zod";

const rate = z.number().min(0).max(1);
const msRange = z
  .tuple([z.number().int().min(0), z.number().int().min(0)])
  .refine(([min, max]) => min <= max, "must be [min, max] with min ≤ max");

/**
 * What can go wrong at one simulated provider, each a probability per call or per task, drawn
 * from the provider's own seeded generator so a run with the same seed and the same calls
 * misbehaves the same way.
 */
export const providerFaults = z.strictObject({
  /** Seed of this provider's generator (default: derived from the provider id). */
  seed: z.number().int().optional(),
  /** Every call answers after a delay drawn from [min, max] ms. */
  latencyMs: msRange.optional(),
  /** Share of create calls refused with the dialect's "upstream unavailable" 5xx. */
  submitFailureRate: rate.optional(),
  /** Share of all calls (create, status, …) answered with a 500. */
  rate5xx: rate.optional(),
  /** Share of all calls answered 429 with `Retry-After: retryAfterSeconds`. */
  rate429: rate.optional(),
  retryAfterSeconds: z.number().int().min(1).max(3600).optional(),
  /** Share of calls whose answer never comes (a create still creates its task). */
  timeoutRate: rate.optional(),
  /** Share of creates refused as content filtered (or failed for it, as the dialect says). */
  contentFilterRate: rate.optional(),
  /** Share of tasks that end failed. */
  failureRate: rate.optional(),
  /** Generation time of this provider's tasks (ms). */
  generationMs: z.number().int().min(0).optional(),
  callbackLossRate: rate.optional(),
  callbackDuplicateRate: rate.optional(),
  /** Callbacks leave this long after the task ended, drawn from [min, max] ms. */
  callbackDelayMs: msRange.optional(),
});
export type ProviderFaults = z.infer<typeof providerFaults>;

/** `SANDBOX_FAULTS`: JSON keyed by provider id. */
export const sandboxFaults = z.record(z.string().min(1), providerFaults);
export type SandboxFaults = z.infer<typeof sandboxFaults>;

/** Parses `SANDBOX_FAULTS`; throws a message naming what is wrong. */
export function parseSandboxFaults(text: string | undefined): SandboxFaults {
  if (!text) return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error("SANDBOX_FAULTS is not valid JSON");
  }
  const parsed = sandboxFaults.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` ${issue.path.join(".")}` : "";
    throw new Error(`SANDBOX_FAULTS${where}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/** A small seeded generator (mulberry32): deterministic, fast, good enough to draw faults. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A stable seed from a provider id, so each provider draws its own sequence. */
export function seedOf(text: string): number {
  let hash = 2_166_136_261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16_777_619);
  return hash >>> 0;
}

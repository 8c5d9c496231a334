import { type DialectName, dialectNames } from "@ripen/db";
import { z } from "zod";

/** Shared by every worker process: enforced in Redis. */
export interface ProviderLimits {
  /** Calls per rolling minute to this provider, submits and status polls alike. */
  requestsPerMinute?: number;
  /** The window `requestsPerMinute` counts over (default 60 s; tests shorten it). */
  rateWindowMs?: number;
  /** Tasks submitted and not yet ended at this provider at once. */
  maxConcurrent?: number;
}

/** The window `requestsPerMinute` counts over when a provider names none. */
export const DEFAULT_RATE_WINDOW_MS = 60_000;

/** The window a provider's `requestsPerMinute` counts over. */
export const rateWindowOf = (limits: ProviderLimits): number =>
  limits.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS;

/** A provider instance: an id, the dialect it speaks, how it ranks and what it allows. */
export interface ProviderDeclaration {
  id: string;
  dialect: DialectName;
  /** Lower is preferred; among equals the cheaper upstream wins (default 100). */
  priority: number;
  /**
   * What one of its credits costs us in USD, so upstream costs in different providers' credits
   * compare, and margins can be reported.
   */
  creditUsd: number;
  limits: ProviderLimits;
}

/**
 * The providers Ripen ships with. A deployment adds instances (a second kie host, say) with
 * `RIPEN_PROVIDERS`, no code change. Credit values: aivideoapi's document prices 16 credits at
 * $0.08; revid's 25 credits at about $0.09. Kie and nanobanana give no dollar figure: kie is
 * assumed to match aivideoapi (document 002 says that API is served through the kie jobs API),
 * and a nanobanana credit is taken as $0.04, the scale its VEO 3.1 Fast table and its one-credit
 * nano-banana image imply against those models' public list prices.
 */
export const defaultProviders: readonly ProviderDeclaration[] = [
  { id: "aivideoapi", dialect: "aivideoapi", priority: 100, creditUsd: 0.005, limits: {} },
  {
    id: "nanobanana",
    dialect: "nanobanana",
    priority: 100,
    creditUsd: 0.04,
    // Document 001 allows 60 per minute per key; 55 leaves room for the clocks of the two sides
    // disagreeing on where a minute starts.
    limits: { requestsPerMinute: 55 },
  },
  {
    id: "kie",
    dialect: "kie",
    priority: 100,
    creditUsd: 0.005,
    // Document 003 refuses work past an undocumented active-task limit (409): stay under it.
    limits: { maxConcurrent: 20 },
  },
  { id: "revid", dialect: "revid", priority: 100, creditUsd: 0.0036, limits: {} },
];

const providerId = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}$/, "must be lowercase letters, digits and dashes, ≤ 31 chars");

/** One entry of `RIPEN_PROVIDERS`: a new instance, or changes to a default one by its id. */
export const providerDeclarationInput = z.strictObject({
  id: providerId,
  dialect: z.enum(dialectNames).optional(),
  priority: z.number().int().min(0).max(10_000).optional(),
  creditUsd: z.number().positive().optional(),
  limits: z
    .strictObject({
      requestsPerMinute: z.number().int().positive().optional(),
      rateWindowMs: z.number().int().min(100).max(3_600_000).optional(),
      maxConcurrent: z.number().int().positive().optional(),
    })
    .optional(),
  /** false removes a default provider from routing. */
  enabled: z.boolean().optional(),
});

/**
 * The registry: the defaults, changed and extended by `RIPEN_PROVIDERS` (JSON array). Throws a
 * message naming the problem.
 */
export function declareProviders(json: string | undefined): ProviderDeclaration[] {
  const declared = new Map(defaultProviders.map((p) => [p.id, { ...p }]));
  if (!json) return [...declared.values()];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error("RIPEN_PROVIDERS is not valid JSON");
  }
  const parsed = z.array(providerDeclarationInput).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`RIPEN_PROVIDERS ${issue?.path.join(".") ?? ""}: ${issue?.message ?? ""}`);
  }
  for (const entry of parsed.data) {
    const existing = declared.get(entry.id);
    if (entry.enabled === false) {
      declared.delete(entry.id);
      continue;
    }
    if (!existing && !entry.dialect) {
      throw new Error(`RIPEN_PROVIDERS: a new provider '${entry.id}' needs its dialect`);
    }
    if (existing && entry.dialect && entry.dialect !== existing.dialect) {
      throw new Error(
        `RIPEN_PROVIDERS: '${entry.id}' speaks ${existing.dialect}, not ${entry.dialect}`,
      );
    }
    declared.set(entry.id, {
      id: entry.id,
      dialect: existing?.dialect ?? entry.dialect!,
      priority: entry.priority ?? existing?.priority ?? 100,
      creditUsd: entry.creditUsd ?? existing?.creditUsd ?? 0.005,
      limits: { ...existing?.limits, ...entry.limits },
    });
  }
  return [...declared.values()];
}

/** `kie-eu` → `KIE_EU`: the prefix of its variables. */
export const envPrefixOf = (id: string) => id.toUpperCase().replaceAll("-", "_");

/** Where the sandbox serves a provider. */
export const sandboxMountOf = (id: string) => `/${id}`;

/** The variables each provider reads: `{PREFIX}_BASE_URL` and `{PREFIX}_API_KEY`. */
export function providerVariables(id: string): { baseUrl: string; apiKey: string } {
  const prefix = envPrefixOf(id);
  return { baseUrl: `${prefix}_BASE_URL`, apiKey: `${prefix}_API_KEY` };
}

import { createHash, randomBytes } from "node:crypto";
import {
  type ApiKey,
  type ApiKeyScope,
  apiKeyScopes,
  apiKeys,
  type Executor,
  withTransaction,
} from "@ripen/db";
import { and, asc, eq, isNull } from "drizzle-orm";
import ipaddr from "ipaddr.js";
import { LRUCache } from "lru-cache";
import { DomainError, InvalidRequest } from "./errors";
import { newId } from "./ids";

/** Keys start with `sk-`, as the aivideoapi dialect's clients expect. */
export const API_KEY_PREFIX = "sk-";
const VISIBLE_PREFIX_LENGTH = 10;

/** A rotated key keeps working this long by default, so clients can switch without downtime. */
export const ROTATION_OVERLAP_DEFAULT_SECONDS = 24 * 3600;
/** The longest overlap a rotation may ask for: a leaked key must not live on for long. */
export const ROTATION_OVERLAP_MAX_SECONDS = 7 * 24 * 3600;

export function hashApiKey(plaintext: string): string {
  return createHash("sha256").update(plaintext).digest("hex");
}

/** A key id that does not exist or belongs to another account (the same 404 either way). */
export class ApiKeyNotFound extends DomainError {
  readonly code = "api_key_not_found";
  constructor(readonly keyId: string) {
    super(`API key '${keyId}' does not exist.`);
  }
}

/** What a key may do and where from; every field but the account is optional at creation. */
export interface ApiKeySettings {
  name?: string;
  /** Default `read` and `write`. */
  scopes?: readonly ApiKeyScope[];
  /** Refused from this time on; null or absent: never expires. */
  expiresAt?: Date | null;
  /** CIDRs or single addresses, IPv4 or IPv6; null or absent: any address. */
  ipAllowlist?: readonly string[] | null;
  /** Requests per minute; null or absent: the configured default (RATE_LIMIT_PER_MINUTE). */
  rateLimitPerMinute?: number | null;
  /** Credits the key may commit per hour, per day, in all; null or absent: no limit. */
  spendLimits?: { hourly?: number | null; daily?: number | null; total?: number | null };
}

/** A key as its owner and the operator see it: never its hash or plaintext. */
export interface ApiKeyView {
  id: string;
  accountId: string;
  name: string;
  /** The plaintext's first characters, to recognise it. */
  prefix: string;
  scopes: ApiKeyScope[];
  expiresAt: Date | null;
  ipAllowlist: string[] | null;
  rateLimitPerMinute: number | null;
  spendLimits: { hourly: number | null; daily: number | null; total: number | null };
  /** The key this one was rotated into (it stops at `expiresAt`, the end of the overlap). */
  rotatedToId: string | null;
  revokedAt: Date | null;
  createdAt: Date;
  /** `revoked`, `expired` (at `now`) or `active`. */
  status: "active" | "expired" | "revoked";
}

export function apiKeyView(row: ApiKey, now: Date): ApiKeyView {
  return {
    id: row.id,
    accountId: row.accountId,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    expiresAt: row.expiresAt,
    ipAllowlist: row.ipAllowlist,
    rateLimitPerMinute: row.rateLimitPerMinute,
    spendLimits: {
      hourly: row.spendLimitHourly,
      daily: row.spendLimitDaily,
      total: row.spendLimitTotal,
    },
    rotatedToId: row.rotatedToId,
    revokedAt: row.revokedAt,
    createdAt: row.createdAt,
    status: row.revokedAt
      ? "revoked"
      : row.expiresAt && row.expiresAt <= now
        ? "expired"
        : "active",
  };
}

/**
 * A CIDR or a single address in its canonical form (`10.0.0.0/8`, `2001:db8::/32`); an IPv4-mapped
 * IPv6 range (`::ffff:10.0.0.0/104`) is stored as the IPv4 range it means. Throws InvalidRequest.
 */
export function normalizeCidr(value: string, field = "ip_allowlist"): string {
  const text = value.trim();
  try {
    const [address, bits] = text.includes("/")
      ? ipaddr.parseCIDR(text)
      : (() => {
          const parsed = ipaddr.parse(text);
          return [parsed, parsed.kind() === "ipv4" ? 32 : 128] as const;
        })();
    if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
      return `${(address as ipaddr.IPv6).toIPv4Address().toString()}/${bits - 96}`;
    }
    // The network address, so `10.1.2.3/8` and `10.0.0.0/8` are one entry.
    const network =
      address.kind() === "ipv4"
        ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${bits}`)
        : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${bits}`);
    return `${network.toString()}/${bits}`;
  } catch {
    throw new InvalidRequest(
      `'${field}' must hold IP addresses or CIDRs (e.g. 203.0.113.0/24, 2001:db8::/32), not '${text.slice(0, 64)}'.`,
      field,
    );
  }
}

/**
 * Whether `address` (IPv4 or IPv6; an IPv4-mapped IPv6 address counts as its IPv4) lies in one of
 * the allowlist's CIDRs. An unparsable address is in none.
 */
export function isAddressAllowed(allowlist: readonly string[], address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  return allowlist.some((cidr) => {
    try {
      const range = ipaddr.parseCIDR(cidr);
      return parsed.kind() === range[0].kind() && parsed.match(range);
    } catch {
      return false;
    }
  });
}

function checkedScopes(scopes: readonly ApiKeyScope[] | undefined): ApiKeyScope[] {
  if (scopes === undefined) return ["read", "write"];
  const unique = [...new Set(scopes)];
  if (unique.length === 0 || unique.some((s) => !apiKeyScopes.includes(s))) {
    throw new InvalidRequest(`'scopes' must name one or more of ${apiKeyScopes.join(", ")}.`);
  }
  return unique;
}

function checkedLimit(value: number | null | undefined, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidRequest(`'${field}' must be a whole number of at least 1.`, field);
  }
  return value;
}

/** The settings as table columns, checked: scopes known, CIDRs valid, limits positive. */
function settingsColumns(settings: ApiKeySettings) {
  return {
    name: settings.name ?? "default",
    scopes: checkedScopes(settings.scopes),
    expiresAt: settings.expiresAt ?? null,
    ipAllowlist: settings.ipAllowlist
      ? [
          ...new Set(
            settings.ipAllowlist.map((cidr, i) => normalizeCidr(cidr, `ip_allowlist.${i}`)),
          ),
        ]
      : null,
    rateLimitPerMinute: checkedLimit(settings.rateLimitPerMinute, "rate_limit_per_minute"),
    spendLimitHourly: checkedLimit(settings.spendLimits?.hourly, "spend_limit_hourly"),
    spendLimitDaily: checkedLimit(settings.spendLimits?.daily, "spend_limit_daily"),
    spendLimitTotal: checkedLimit(settings.spendLimits?.total, "spend_limit_total"),
  };
}

/**
 * Creates a key for the account. The plaintext is returned here only: the table keeps its hash
 * and a short prefix.
 */
export async function createApiKey(
  db: Executor,
  args: { accountId: string } & ApiKeySettings,
  now: Date = new Date(),
): Promise<{ keyId: string; apiKey: string; key: ApiKeyView }> {
  const apiKey = `${API_KEY_PREFIX}${randomBytes(24).toString("base64url")}`;
  const keyId = newId("apiKey");
  const [row] = await db
    .insert(apiKeys)
    .values({
      id: keyId,
      accountId: args.accountId,
      prefix: apiKey.slice(0, VISIBLE_PREFIX_LENGTH),
      hash: hashApiKey(apiKey),
      ...settingsColumns(args),
    })
    .returning();
  return { keyId, apiKey, key: apiKeyView(row!, now) };
}

/** The account's keys, revoked ones included, oldest first. */
export async function listApiKeys(
  db: Executor,
  accountId: string,
  now: Date = new Date(),
): Promise<ApiKeyView[]> {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.accountId, accountId))
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
  return rows.map((row) => apiKeyView(row, now));
}

/** One of the account's keys; another account's is ApiKeyNotFound. */
export async function getApiKey(
  db: Executor,
  args: { accountId: string; keyId: string },
  now: Date = new Date(),
): Promise<ApiKeyView> {
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, args.keyId), eq(apiKeys.accountId, args.accountId)));
  if (!row) throw new ApiKeyNotFound(args.keyId);
  return apiKeyView(row, now);
}

/**
 * Revokes one of the account's keys (again: a no-op keeping the first time). Refused at once in
 * this process; other processes stop accepting it within API_KEY_CACHE_TTL_MS.
 */
export async function revokeApiKey(
  db: Executor,
  args: { accountId: string; keyId: string; now?: Date },
): Promise<ApiKeyView> {
  const now = args.now ?? new Date();
  const owned = and(eq(apiKeys.id, args.keyId), eq(apiKeys.accountId, args.accountId));
  const [revoked] = await db
    .update(apiKeys)
    .set({ revokedAt: now, updatedAt: now })
    .where(and(owned, isNull(apiKeys.revokedAt)))
    .returning();
  forgetCachedApiKeys(db, { keyId: args.keyId });
  if (revoked) return apiKeyView(revoked, now);
  return getApiKey(db, args, now);
}

/**
 * Replaces a key by a new one with the same settings. The old key keeps working until
 * `overlapSeconds` from `now` (0: stops at once; never later than it would have expired anyway)
 * and names its successor. A revoked, expired or already rotated key cannot be rotated.
 */
export async function rotateApiKey(
  db: Executor,
  args: { accountId: string; keyId: string; overlapSeconds?: number; now?: Date },
): Promise<{ keyId: string; apiKey: string; key: ApiKeyView; previous: ApiKeyView }> {
  const now = args.now ?? new Date();
  const overlapSeconds = args.overlapSeconds ?? ROTATION_OVERLAP_DEFAULT_SECONDS;
  if (
    !Number.isInteger(overlapSeconds) ||
    overlapSeconds < 0 ||
    overlapSeconds > ROTATION_OVERLAP_MAX_SECONDS
  ) {
    throw new InvalidRequest(
      `'overlap_seconds' must be a whole number from 0 to ${ROTATION_OVERLAP_MAX_SECONDS} (7 days).`,
      "overlap_seconds",
    );
  }
  const rotated = await withTransaction(db, async (tx) => {
    const [old] = await tx
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, args.keyId), eq(apiKeys.accountId, args.accountId)))
      .for("update");
    if (!old) throw new ApiKeyNotFound(args.keyId);
    const oldView = apiKeyView(old, now);
    if (oldView.status !== "active") {
      throw new InvalidRequest(`API key '${old.id}' is ${oldView.status}; it cannot be rotated.`);
    }
    if (old.rotatedToId) {
      throw new InvalidRequest(
        `API key '${old.id}' was already rotated into '${old.rotatedToId}'; rotate that key instead.`,
      );
    }
    const created = await createApiKey(
      tx,
      {
        accountId: old.accountId,
        name: old.name,
        scopes: old.scopes,
        expiresAt: old.expiresAt,
        ipAllowlist: old.ipAllowlist,
        rateLimitPerMinute: old.rateLimitPerMinute,
        spendLimits: {
          hourly: old.spendLimitHourly,
          daily: old.spendLimitDaily,
          total: old.spendLimitTotal,
        },
      },
      now,
    );
    const overlapEnd = new Date(now.getTime() + overlapSeconds * 1000);
    const [previous] = await tx
      .update(apiKeys)
      .set({
        rotatedToId: created.keyId,
        expiresAt: old.expiresAt && old.expiresAt < overlapEnd ? old.expiresAt : overlapEnd,
        updatedAt: now,
      })
      .where(eq(apiKeys.id, old.id))
      .returning();
    return { ...created, previous: apiKeyView(previous!, now) };
  });
  forgetCachedApiKeys(db, { keyId: args.keyId });
  return rotated;
}

/** What authentication needs of a key, cached briefly (see authenticateApiKey). */
export interface CachedApiKey {
  keyId: string;
  accountId: string;
  scopes: ApiKeyScope[];
  expiresAt: Date | null;
  ipAllowlist: string[] | null;
  rateLimitPerMinute: number | null;
  accountDisabled: boolean;
}

/** How long a successful key lookup is reused: a revocation elsewhere takes effect within this. */
export const API_KEY_CACHE_TTL_MS = 5_000;

// One cache per database handle, so separate databases (tests, tenants) never share entries.
const keyCaches = new WeakMap<object, LRUCache<string, CachedApiKey>>();

export function apiKeyCacheFor(db: Executor): LRUCache<string, CachedApiKey> {
  let cache = keyCaches.get(db);
  if (!cache) {
    cache = new LRUCache({ max: 10_000, ttl: API_KEY_CACHE_TTL_MS });
    keyCaches.set(db, cache);
  }
  return cache;
}

/**
 * Drops cached lookups of a key or of an account's keys (after a revocation, a rotation, an
 * account disabled), so this process refuses them at once.
 */
export function forgetCachedApiKeys(
  db: Executor,
  which: { keyId?: string; accountId?: string },
): void {
  const cache = apiKeyCacheFor(db);
  for (const [hash, entry] of cache.entries()) {
    if (entry.keyId === which.keyId || entry.accountId === which.accountId) cache.delete(hash);
  }
}

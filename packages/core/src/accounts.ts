import { type ApiKeyScope, accounts, apiKeys, type Executor, withTransaction } from "@ripen/db";
import { and, eq, isNull } from "drizzle-orm";
import {
  API_KEY_PREFIX,
  type ApiKeySettings,
  apiKeyCacheFor,
  type CachedApiKey,
  createApiKey,
  hashApiKey,
} from "./api-keys";
import { AccountDisabled, KeyExpired } from "./errors";
import { newId } from "./ids";
import { grantCredits } from "./ledger";

export async function createAccount(
  db: Executor,
  args: { name: string; credits?: number; key?: ApiKeySettings },
): Promise<{ accountId: string; keyId: string; apiKey: string }> {
  return withTransaction(db, async (tx) => {
    const accountId = newId("account");
    await tx.insert(accounts).values({ id: accountId, name: args.name });
    if (args.credits && args.credits > 0) {
      await grantCredits(tx, { accountId, amount: args.credits, memo: "initial grant" });
    }
    const { keyId, apiKey } = await createApiKey(tx, { ...args.key, accountId });
    return { accountId, keyId, apiKey };
  });
}

export interface Principal {
  accountId: string;
  keyId: string;
  /** What the key may do (`read`, `write`, `admin`). */
  scopes: readonly ApiKeyScope[];
}

/** An authenticated key: its principal and what admission checks per request. */
export interface AuthenticatedKey extends Principal {
  /** CIDRs the key may be used from; null: anywhere. */
  ipAllowlist: readonly string[] | null;
  /** Requests per minute; null: the configured default. */
  rateLimitPerMinute: number | null;
}

async function lookUpApiKey(db: Executor, hash: string): Promise<CachedApiKey | null> {
  const [row] = await db
    .select({
      keyId: apiKeys.id,
      accountId: apiKeys.accountId,
      scopes: apiKeys.scopes,
      expiresAt: apiKeys.expiresAt,
      ipAllowlist: apiKeys.ipAllowlist,
      rateLimitPerMinute: apiKeys.rateLimitPerMinute,
      disabledAt: accounts.disabledAt,
    })
    .from(apiKeys)
    .innerJoin(accounts, eq(accounts.id, apiKeys.accountId))
    .where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt)));
  if (!row) return null;
  const { disabledAt, ...key } = row;
  return { ...key, accountDisabled: disabledAt !== null };
}

/**
 * Looks a presented key up by its hash: unknown and revoked keys are null (the door's 401); an
 * expired key (`expires_at` ≤ `now`) is KeyExpired, a disabled account's AccountDisabled.
 * Successes are cached briefly (API_KEY_CACHE_TTL_MS) because every request authenticates; the
 * expiry is compared on every request, cached or not, and revocations, rotations and disables made
 * in this process drop the entry (`forgetCachedApiKeys`). Failures are not cached, so a new key
 * works at once.
 */
export async function authenticateApiKey(
  db: Executor,
  plaintext: string,
  now: Date = new Date(),
): Promise<AuthenticatedKey | null> {
  if (!plaintext.startsWith(API_KEY_PREFIX)) return null;
  const hash = hashApiKey(plaintext);
  const cache = apiKeyCacheFor(db);
  let key = cache.get(hash) ?? null;
  if (!key) {
    key = await lookUpApiKey(db, hash);
    if (key) cache.set(hash, key);
  }
  if (!key) return null;
  if (key.accountDisabled) throw new AccountDisabled();
  if (key.expiresAt && key.expiresAt <= now) throw new KeyExpired(key.expiresAt);
  return {
    accountId: key.accountId,
    keyId: key.keyId,
    scopes: key.scopes,
    ipAllowlist: key.ipAllowlist,
    rateLimitPerMinute: key.rateLimitPerMinute,
  };
}

import { createHash, randomBytes } from "node:crypto";
import { type ApiKeyScope, accounts, apiKeys, type Executor, withTransaction } from "@ripen/db";
import { and, eq, isNull } from "drizzle-orm";
import { LRUCache } from "lru-cache";
import { newId } from "./ids";
import { grantCredits } from "./ledger";

/** Keys start with `sk-`, as the aivideoapi dialect's clients expect. */
const KEY_PREFIX = "sk-";
const VISIBLE_PREFIX_LENGTH = 10;

export function hashApiKey(plaintext: string): string {
  return createHash("sha256").update(plaintext).digest("hex");
}

export async function createApiKey(
  db: Executor,
  args: { accountId: string; name?: string },
): Promise<{ keyId: string; apiKey: string }> {
  const apiKey = `${KEY_PREFIX}${randomBytes(24).toString("base64url")}`;
  const keyId = newId("apiKey");
  await db.insert(apiKeys).values({
    id: keyId,
    accountId: args.accountId,
    name: args.name ?? "default",
    prefix: apiKey.slice(0, VISIBLE_PREFIX_LENGTH),
    hash: hashApiKey(apiKey),
  });
  return { keyId, apiKey };
}

export async function createAccount(
  db: Executor,
  args: { name: string; credits?: number },
): Promise<{ accountId: string; keyId: string; apiKey: string }> {
  return withTransaction(db, async (tx) => {
    const accountId = newId("account");
    await tx.insert(accounts).values({ id: accountId, name: args.name });
    if (args.credits && args.credits > 0) {
      await grantCredits(tx, { accountId, amount: args.credits, memo: "initial grant" });
    }
    const key = await createApiKey(tx, { accountId });
    return { accountId, ...key };
  });
}

export interface Principal {
  accountId: string;
  keyId: string;
  /** What the key may do (`read`, `write`, `admin`). */
  scopes: readonly ApiKeyScope[];
}

/** How long a successful key lookup is reused: a revocation takes effect within this time. */
export const API_KEY_CACHE_TTL_MS = 5_000;

// One cache per database handle, so separate databases (tests, tenants) never share entries.
const keyCaches = new WeakMap<object, LRUCache<string, Principal>>();

function keyCacheFor(db: Executor): LRUCache<string, Principal> {
  let cache = keyCaches.get(db);
  if (!cache) {
    cache = new LRUCache({ max: 10_000, ttl: API_KEY_CACHE_TTL_MS });
    keyCaches.set(db, cache);
  }
  return cache;
}

/**
 * Looks a presented key up by its hash; revoked keys do not authenticate. Successes are cached
 * briefly (API_KEY_CACHE_TTL_MS) because every request authenticates; failures are not, so a new
 * key works at once.
 */
export async function authenticateApiKey(
  db: Executor,
  plaintext: string,
): Promise<Principal | null> {
  if (!plaintext.startsWith(KEY_PREFIX)) return null;
  const hash = hashApiKey(plaintext);
  const cache = keyCacheFor(db);
  const cached = cache.get(hash);
  if (cached) return cached;
  const [row] = await db
    .select({ keyId: apiKeys.id, accountId: apiKeys.accountId, scopes: apiKeys.scopes })
    .from(apiKeys)
    .where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt)));
  if (row) cache.set(hash, row);
  return row ?? null;
}

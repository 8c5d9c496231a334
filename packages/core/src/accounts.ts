import { createHash, randomBytes } from "node:crypto";
import { accounts, apiKeys, type Executor, withTransaction } from "@ripen/db";
import { and, eq, isNull } from "drizzle-orm";
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
}

/** Looks a presented key up by its hash; revoked keys do not authenticate. */
export async function authenticateApiKey(
  db: Executor,
  plaintext: string,
): Promise<Principal | null> {
  if (!plaintext.startsWith(KEY_PREFIX)) return null;
  const [row] = await db
    .select({ keyId: apiKeys.id, accountId: apiKeys.accountId })
    .from(apiKeys)
    .where(and(eq(apiKeys.hash, hashApiKey(plaintext)), isNull(apiKeys.revokedAt)));
  return row ?? null;
}

import { randomBytes } from "node:crypto";
import { type Executor, type WebhookSecret, webhookSecrets, withTransaction } from "@ripen/db";
import { and, desc, eq, gt, isNull, or, sql } from "drizzle-orm";
import { newId } from "./ids";

/** How long the previous secret keeps signing after a rotation. */
export const WEBHOOK_SECRET_OVERLAP_MS = 24 * 3_600_000;

/** Standard Webhooks' form: `whsec_` and the base64 of the key (32 random bytes here). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

export interface WebhookSecretView {
  secret: string;
  /** The secret the last rotation replaced, while it still signs. */
  previous?: { secret: string; expiresAt: Date };
}

/** The account's secrets that sign now: the current one (no expiry) and one in its overlap. */
async function validSecrets(db: Executor, accountId: string, now: Date): Promise<WebhookSecret[]> {
  return db
    .select()
    .from(webhookSecrets)
    .where(
      and(
        eq(webhookSecrets.accountId, accountId),
        or(isNull(webhookSecrets.expiresAt), gt(webhookSecrets.expiresAt, now)),
      ),
    )
    .orderBy(desc(webhookSecrets.createdAt), desc(webhookSecrets.id));
}

function viewOf(secrets: WebhookSecret[]): WebhookSecretView | null {
  const current = secrets.find((s) => s.expiresAt === null);
  if (!current) return null;
  const previous = secrets.find((s) => s.expiresAt !== null);
  return {
    secret: current.secret,
    ...(previous ? { previous: { secret: previous.secret, expiresAt: previous.expiresAt! } } : {}),
  };
}

/** Serializes changes to one account's secrets (two first reads must not create two). */
async function lockAccountSecrets(tx: Executor, accountId: string): Promise<void> {
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`webhook_secrets:${accountId}`}, 0))`,
  );
}

/** The account's current secret (created on first use) and the previous one while it signs. */
export async function getWebhookSecret(
  db: Executor,
  accountId: string,
  now: Date,
): Promise<WebhookSecretView> {
  const existing = viewOf(await validSecrets(db, accountId, now));
  if (existing) return existing;
  return withTransaction(db, async (tx) => {
    await lockAccountSecrets(tx, accountId);
    const again = viewOf(await validSecrets(tx, accountId, now));
    if (again) return again;
    const secret = generateWebhookSecret();
    await tx
      .insert(webhookSecrets)
      .values({ id: newId("webhookSecret", now.getTime()), accountId, secret, createdAt: now });
    return { secret };
  });
}

/**
 * Makes a new current secret. The one it replaces keeps signing for `overlapMs` (24 h), so a
 * client can switch without missing a delivery; a secret already in its overlap stops signing at
 * once, so at most two ever sign.
 */
export async function rotateWebhookSecret(
  db: Executor,
  accountId: string,
  now: Date,
  overlapMs = WEBHOOK_SECRET_OVERLAP_MS,
): Promise<WebhookSecretView> {
  return withTransaction(db, async (tx) => {
    await lockAccountSecrets(tx, accountId);
    await tx
      .update(webhookSecrets)
      .set({ expiresAt: now })
      .where(and(eq(webhookSecrets.accountId, accountId), gt(webhookSecrets.expiresAt, now)));
    const expiresAt = new Date(now.getTime() + overlapMs);
    const [previous] = await tx
      .update(webhookSecrets)
      .set({ expiresAt })
      .where(and(eq(webhookSecrets.accountId, accountId), isNull(webhookSecrets.expiresAt)))
      .returning();
    const secret = generateWebhookSecret();
    await tx
      .insert(webhookSecrets)
      .values({ id: newId("webhookSecret", now.getTime()), accountId, secret, createdAt: now });
    return {
      secret,
      ...(previous && overlapMs > 0 ? { previous: { secret: previous.secret, expiresAt } } : {}),
    };
  });
}

/** Every secret a delivery is signed with now, current first (created if the account has none). */
export async function signingSecrets(
  db: Executor,
  accountId: string,
  now: Date,
): Promise<string[]> {
  const view = await getWebhookSecret(db, accountId, now);
  return view.previous ? [view.secret, view.previous.secret] : [view.secret];
}

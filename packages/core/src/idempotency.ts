import { createHash } from "node:crypto";
import { type Executor, idempotencyKeys, pgClientOf, tasks } from "@ripen/db";
import { and, eq, gte } from "drizzle-orm";
import { IdempotencyKeyReused, InvalidRequest } from "./errors";
import {
  type CreatedTask,
  type IdempotencyClaim,
  type PreparedTask,
  takeOverLapsedKey,
  writeClaimedTask,
} from "./task-create";

/** How long a key answers with its first task; after that it may be used for a new one. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3600_000;

/** 1–255 printable ASCII characters (space to tilde), as Stripe and the IETF draft allow. */
const keyFormat = /^[\x20-\x7e]{1,255}$/;

/**
 * The `Idempotency-Key` header as sent (undefined when absent), checked: 1–255 printable ASCII
 * characters, else InvalidRequest naming the header.
 */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!keyFormat.test(header)) {
    throw new InvalidRequest(
      "'Idempotency-Key' must be 1 to 255 printable ASCII characters (e.g. a UUID).",
      "Idempotency-Key",
    );
  }
  return header;
}

/**
 * JSON with every object's keys in sorted order, so two bodies that differ only in key order
 * (or whitespace) are the same request. Built as text, never as objects: a `__proto__` key stays
 * a key.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map(
        (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
      );
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** What a key is bound to: SHA-256 (hex) of the endpoint and the canonical JSON of the body. */
export function idempotencyRequestHash(endpoint: string, body: unknown): string {
  return createHash("sha256")
    .update(`${endpoint}\n${canonicalJson(body)}`)
    .digest("hex");
}

export interface CreateOnceResult {
  task: CreatedTask;
  /** The key had already made this task: nothing was written or charged now. */
  replayed: boolean;
}

/** The unexpired row of an account's key; IdempotencyKeyReused when it was used for another request. */
async function readKey(
  db: Executor,
  accountId: string,
  claim: { key: string; requestHash: string; expiredBefore: Date },
): Promise<{ taskId: string | null; batchId: string | null } | null> {
  const [existing] = await db
    .select({
      requestHash: idempotencyKeys.requestHash,
      taskId: idempotencyKeys.taskId,
      batchId: idempotencyKeys.batchId,
    })
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.accountId, accountId),
        eq(idempotencyKeys.key, claim.key),
        gte(idempotencyKeys.createdAt, claim.expiredBefore),
      ),
    );
  if (!existing) return null;
  if (existing.requestHash !== claim.requestHash) throw new IdempotencyKeyReused(claim.key);
  return existing;
}

/**
 * The task an unexpired key of the account made, if any; IdempotencyKeyReused when the key was
 * used for another request. What a keyed create answers instead of writing.
 */
export async function findKeyedTask(
  db: Executor,
  accountId: string,
  claim: { key: string; requestHash: string; expiredBefore: Date },
): Promise<CreatedTask | null> {
  const existing = await readKey(db, accountId, claim);
  if (!existing?.taskId) return null;
  const [task] = await db
    .select({
      id: tasks.id,
      accountId: tasks.accountId,
      model: tasks.model,
      provider: tasks.provider,
      price: tasks.price,
      status: tasks.status,
      deadlineAt: tasks.deadlineAt,
      createdAt: tasks.createdAt,
      batchId: tasks.batchId,
    })
    .from(tasks)
    .where(eq(tasks.id, existing.taskId));
  return task ?? null;
}

/** The batch an unexpired key of the account made, if any (as `findKeyedTask`). */
export async function findKeyedBatch(
  db: Executor,
  accountId: string,
  claim: { key: string; requestHash: string; expiredBefore: Date },
): Promise<string | null> {
  return (await readKey(db, accountId, claim))?.batchId ?? null;
}

/**
 * Claims the account's key for a batch inside the batch's transaction, after its row and before
 * its items and hold (so before the account row is locked, as a task's claim). Another request
 * holding the key uncommitted makes this wait for it. False when the key is someone else's (a
 * live row): the caller rolls back and reads that row.
 */
export async function claimKeyForBatch(
  tx: Executor,
  args: { accountId: string; batchId: string; claim: IdempotencyClaim; createdAt: Date },
): Promise<boolean> {
  const { rowCount } = await pgClientOf(tx).query(
    `insert into idempotency_keys (account_id, key, request_hash, batch_id, created_at)
     values ($1, $2, $3, $4, $5)
     ${takeOverLapsedKey("$6")}`,
    [
      args.accountId,
      args.claim.key,
      args.claim.requestHash,
      args.batchId,
      args.createdAt,
      args.claim.expiredBefore,
    ],
  );
  return rowCount === 1;
}

/**
 * Creates a task at most once per (account, key) within `IDEMPOTENCY_KEY_TTL_MS`. The key's row
 * and the task are written by one statement (`writeClaimedTask`), so the key exists exactly when
 * its task and hold do, and a failed create (say, short of credit) leaves the key unused. When
 * requests with one key race, the primary key (account_id, key) decides: the first insert wins,
 * the others wait for its commit and then read its row. Same request (hash) → its task, charged
 * once; another request → IdempotencyKeyReused. A row older than the TTL is taken over.
 */
export async function createTaskOnce(
  db: Executor,
  prepared: PreparedTask,
  args: { key: string; requestHash: string; now: Date },
): Promise<CreateOnceResult> {
  const claim = {
    key: args.key,
    requestHash: args.requestHash,
    expiredBefore: new Date(args.now.getTime() - IDEMPOTENCY_KEY_TTL_MS),
  };
  // Twice at most: a row can only vanish between the two statements if it lapsed and another
  // request took it over, and then the second claim reads that request's row.
  for (let round = 0; round < 2; round++) {
    const created = await writeClaimedTask(db, prepared, claim);
    if (created) return { task: created, replayed: false };
    const task = await findKeyedTask(db, prepared.accountId, claim);
    if (task) return { task, replayed: true };
  }
  throw new Error(
    `idempotency key of account ${prepared.accountId} could be neither claimed nor read`,
  );
}
